package notify

import (
	"bytes"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

func TestVTimezoneListsTheOffsetChanges(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	tz := vtimezone(paris, time.Date(2026, 3, 3, 14, 30, 0, 0, paris))
	type obs struct{ name, dtstart, from, to, abbrev string }
	var got []obs
	for _, c := range tz.Children {
		v := func(p string) string { return c.Props.Get(p).Value }
		got = append(got, obs{c.Name, v(ical.PropDateTimeStart), v(ical.PropTimezoneOffsetFrom), v(ical.PropTimezoneOffsetTo), v(ical.PropTimezoneName)})
	}
	want := []obs{
		{"STANDARD", "20241027T030000", "+0200", "+0100", "CET"},
		{"DAYLIGHT", "20250330T020000", "+0100", "+0200", "CEST"},
		{"STANDARD", "20251026T030000", "+0200", "+0100", "CET"},
		{"DAYLIGHT", "20260329T020000", "+0100", "+0200", "CEST"},
		{"STANDARD", "20261025T030000", "+0200", "+0100", "CET"},
	}
	if len(got) != len(want) {
		t.Fatalf("observances %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observance %d: %v, want %v", i, got[i], want[i])
		}
	}
	// go-ical checks the component's required properties as it encodes.
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//test//test//FR")
	cal.Children = append(cal.Children, tz, vtimezone(time.UTC, time.Now()))
	if err := ical.NewEncoder(&bytes.Buffer{}).Encode(cal); err != nil {
		t.Fatal(err)
	}
	if utc := vtimezone(time.UTC, time.Now()); len(utc.Children) != 1 || utc.Children[0].Props.Get(ical.PropTimezoneOffsetTo).Value != "+0000" {
		t.Errorf("UTC: %+v", utc.Children)
	}
	for _, tt := range []struct {
		seconds int
		want    string
	}{{3600, "+0100"}, {-12600, "-0330"}, {20700, "+0545"}, {-(3*3600 + 61), "-030101"}} {
		if got := utcOffset(tt.seconds); got != tt.want {
			t.Errorf("utcOffset(%d) = %q, want %q", tt.seconds, got, tt.want)
		}
	}
}

func TestDatesAsPeopleWriteThem(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, tt := range []struct {
		t           time.Time
		lang        string
		date, clock string
	}{
		{time.Date(2026, 12, 9, 14, 30, 0, 0, paris), "fr", "mercredi 9 décembre 2026", "14\u00a0h\u00a030"},
		{time.Date(2026, 3, 1, 9, 5, 0, 0, paris), "fr", "dimanche 1er mars 2026", "9\u00a0h\u00a005"},
		{time.Date(2026, 12, 9, 14, 30, 0, 0, paris), "en", "Wednesday 9 December 2026", "14:30"},
	} {
		if got := formatDate(tt.t, tt.lang); got != tt.date {
			t.Errorf("formatDate(%s, %s) = %q, want %q", tt.t, tt.lang, got, tt.date)
		}
		if got := formatClock(tt.t, tt.lang); got != tt.clock {
			t.Errorf("formatClock(%s, %s) = %q, want %q", tt.t, tt.lang, got, tt.clock)
		}
	}
}
