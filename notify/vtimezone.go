package notify

import (
	"fmt"
	"time"

	"github.com/emersion/go-ical"
)

// vtimezone describes loc around at for the invitation's TZID: RFC 5545
// wants a VTIMEZONE for every TZID an object uses, and Outlook relies on
// it. It lists each change of offset from a year before at to a year
// after, each as its own observance (a DTSTART and no RRULE), read from
// Go's zone database, plus the observance in force at the window's start;
// a zone without changes has that one alone.
func vtimezone(loc *time.Location, at time.Time) *ical.Component {
	tz := &ical.Component{Name: ical.CompTimezone, Props: ical.Props{}}
	tz.Props.SetText(ical.PropTimezoneID, loc.String())
	from, to := at.AddDate(-1, 0, 0).In(loc), at.AddDate(1, 0, 0)
	start, next := from.ZoneBounds()
	if start.IsZero() {
		start = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	tz.Children = append(tz.Children, observance(loc, start))
	for !next.IsZero() && next.Before(to) {
		tz.Children = append(tz.Children, observance(loc, next))
		_, next = next.In(loc).ZoneBounds()
	}
	return tz
}

// observance is the STANDARD or DAYLIGHT time that begins at onset.
func observance(loc *time.Location, onset time.Time) *ical.Component {
	name := ical.CompTimezoneStandard
	if onset.In(loc).IsDST() {
		name = ical.CompTimezoneDaylight
	}
	abbrev, offsetTo := onset.In(loc).Zone()
	_, offsetFrom := onset.Add(-time.Second).In(loc).Zone()
	c := &ical.Component{Name: name, Props: ical.Props{}}
	// DTSTART is the local time, in the offset before the onset, without
	// a zone.
	dtstart := ical.NewProp(ical.PropDateTimeStart)
	dtstart.Value = onset.UTC().Add(time.Duration(offsetFrom) * time.Second).Format("20060102T150405")
	c.Props.Set(dtstart)
	for prop, offset := range map[string]int{ical.PropTimezoneOffsetFrom: offsetFrom, ical.PropTimezoneOffsetTo: offsetTo} {
		p := ical.NewProp(prop)
		p.Value = utcOffset(offset)
		c.Props.Set(p)
	}
	c.Props.SetText(ical.PropTimezoneName, abbrev)
	return c
}

// utcOffset is an RFC 5545 UTC-OFFSET: "+0100", "-0330", "+054500".
func utcOffset(seconds int) string {
	sign := "+"
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	s := fmt.Sprintf("%s%02d%02d", sign, seconds/3600, seconds/60%60)
	if seconds%60 != 0 {
		s += fmt.Sprintf("%02d", seconds%60)
	}
	return s
}
