package calendar

import (
	"errors"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// FuzzResolveTime: any client string either resolves to an instant that
// reads back as a real wall-clock time of the site, or is refused with a
// field-naming client error; it never panics.
func FuzzResolveTime(f *testing.F) {
	for _, s := range []string{"2026-03-29T02:30", "2026-10-25T02:30", "2026-03-10T09:00:00+01:00", "2026-03-29T02:30:00+01:00",
		"2026-03-10T09:00:00Z", "2026-13-40T25:61", "", "9h", "2026-03-10T09:00:00.123456789-09:30"} {
		f.Add(s)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := ResolveTime("start", raw, paris)
		if err != nil {
			var p *errs.Problem
			var ve *errs.ValidationError
			if !errors.As(err, &p) && !errors.As(err, &ve) {
				t.Fatalf("ResolveTime(%q) = %T %v", raw, err, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ResolveTime(%q) = %v, not UTC", raw, got)
		}
		if !wallExists(got.In(paris), paris) {
			t.Fatalf("ResolveTime(%q) = %v, which is no wall-clock time in Paris", raw, got)
		}
	})
}

// FuzzOpeningHoursValidate: whatever a manager sends, a valid result has
// increasing, non-overlapping spans within the day.
func FuzzOpeningHoursValidate(f *testing.F) {
	f.Add("mon", "09:00", "12:30", "14:00", "24:00")
	f.Add("sun", "00:00", "00:00", "23:59", "24:00")
	f.Add("xyz", "9", "12", "", "")
	f.Fuzz(func(t *testing.T, day, a, b, c, d string) {
		h := OpeningHours{day: {{a, b}, {c, d}}}
		if h.Validate("opening_hours") != nil {
			return
		}
		wd := time.Weekday((func() int { i, _ := dayIndex(day); return i + 1 })() % 7)
		spans, _ := h.Spans(wd)
		prev := 0
		for _, s := range spans {
			if s.From < prev || s.To <= s.From || s.To > 24*60 {
				t.Fatalf("valid hours %v give bad spans %v", h, spans)
			}
			prev = s.To
		}
	})
}
