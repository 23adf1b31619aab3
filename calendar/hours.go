package calendar

import (
	"fmt"
	"sort"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// Weekdays are the keys of OpeningHours, Monday first as in France.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func weekdayKey(d time.Weekday) string { return Weekdays[(int(d)+6)%7] }

// OpeningHours maps a weekday key to its opening intervals in local
// wall-clock time, e.g. {"mon": [["09:00","12:30"],["14:00","19:00"]]}.
// A nil OpeningHours means open around the clock; a day that is missing or
// has an empty list is closed that day. "24:00" ends a day.
type OpeningHours map[string][][2]string

// Span is a half-open interval of minutes since local midnight.
type Span struct{ From, To int }

func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	for _, c := range []byte{s[0], s[1], s[3], s[4]} {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Validate checks keys, clock formats and that each day's intervals are
// increasing and do not overlap.
func (h OpeningHours) Validate(field string) error {
	var v errs.Validator
	for day, spans := range h {
		if _, ok := dayIndex(day); !ok {
			v.Add(field+"."+day, "unknown day; use mon, tue, wed, thu, fri, sat, sun")
			continue
		}
		prevEnd := -1
		for i, iv := range spans {
			f := fmt.Sprintf("%s.%s[%d]", field, day, i)
			from, ok1 := parseClock(iv[0])
			to, ok2 := parseClock(iv[1])
			switch {
			case !ok1 || !ok2 || from == 24*60:
				v.Add(f, "times must be HH:MM between 00:00 and 24:00")
			case to <= from:
				v.Add(f, "must end after it starts")
			case from < prevEnd:
				v.Add(f, "overlaps or precedes the previous interval")
			default:
				prevEnd = to
			}
		}
	}
	return v.Err()
}

func dayIndex(day string) (int, bool) {
	for i, d := range Weekdays {
		if d == day {
			return i, true
		}
	}
	return 0, false
}

// Spans returns the opening spans of weekday d, sorted. ok is false when the
// site is open around the clock (h is nil).
func (h OpeningHours) Spans(d time.Weekday) (spans []Span, limited bool) {
	if h == nil {
		return []Span{{0, 24 * 60}}, false
	}
	for _, iv := range h[weekdayKey(d)] {
		from, _ := parseClock(iv[0])
		to, _ := parseClock(iv[1])
		spans = append(spans, Span{from, to})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].From < spans[j].From })
	return spans, true
}

// Covers reports whether [start, end) lies wholly inside opening hours in
// loc. A span ending at 24:00 joins one starting at 00:00 the next day, so an
// overnight booking in a 24/7 zone is open. Wall-clock times are compared in
// loc, so on DST days the local hours stay what the site published.
func (h OpeningHours) Covers(loc *time.Location, start, end time.Time) bool {
	if h == nil {
		return true
	}
	t := start.In(loc)
	endLocal := end.In(loc)
	for t.Before(endLocal) {
		y, m, d := t.Date()
		minute := t.Hour()*60 + t.Minute()
		spans, _ := h.Spans(t.Weekday())
		var covering *Span
		for i := range spans {
			if spans[i].From <= minute && minute < spans[i].To {
				covering = &spans[i]
				break
			}
		}
		if covering == nil {
			return false
		}
		var spanEnd time.Time
		if covering.To == 24*60 {
			spanEnd = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		} else {
			spanEnd = time.Date(y, m, d, covering.To/60, covering.To%60, 0, 0, loc)
		}
		if !spanEnd.Before(endLocal) {
			return true
		}
		t = spanEnd
	}
	return true
}
