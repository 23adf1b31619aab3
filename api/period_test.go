package api

import (
	"errors"
	"testing"
	"time"
)

func TestParseBound(t *testing.T) {
	paris := mustZone("Europe/Paris")
	zone := func() *time.Location { return paris }
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v.UTC()
	}
	cases := []struct {
		name, raw string
		isTo      bool
		want      string // RFC 3339 in UTC; "" for an error
	}{
		{"date from", "2026-12-01", false, "2026-11-30T23:00:00Z"},
		{"date to is the end of the day", "2026-12-31", true, "2026-12-31T23:00:00Z"},
		{"month from", "2026-12", false, "2026-11-30T23:00:00Z"},
		{"month to", "2026-12", true, "2026-12-31T23:00:00Z"},
		{"year to", "2026", true, "2026-12-31T23:00:00Z"},
		{"summer date", "2026-07-14", false, "2026-07-13T22:00:00Z"},
		{"spring-forward day lasts 23 h", "2026-03-29", true, "2026-03-29T22:00:00Z"},
		{"spring-forward day starts at CET midnight", "2026-03-29", false, "2026-03-28T23:00:00Z"},
		{"fall-back day lasts 25 h", "2026-10-25", true, "2026-10-25T23:00:00Z"},
		{"fall-back day starts at CEST midnight", "2026-10-25", false, "2026-10-24T22:00:00Z"},
		{"month of the spring change", "2026-03", true, "2026-03-31T22:00:00Z"},
		{"instant with Z", "2026-12-01T08:00:00Z", false, "2026-12-01T08:00:00Z"},
		{"instant with offset", "2026-12-01T09:00:00+01:00", false, "2026-12-01T08:00:00Z"},
		{"unencoded plus decoded as space", "2026-12-01T09:00:00 01:00", false, "2026-12-01T08:00:00Z"},
		{"negative offset", "2026-12-01T03:00:00-05:00", false, "2026-12-01T08:00:00Z"},
		{"local time", "2026-12-01T09:00", false, "2026-12-01T08:00:00Z"},
		{"local time skipped by DST", "2026-03-29T02:30", false, ""},
		{"garbage", "yesterday", false, ""},
		{"space only", " ", false, ""},
		{"bad month", "2026-13", false, ""},
		{"bad day", "2026-02-30", true, ""},
		{"short month", "2026-1", false, ""},
		{"date with spaces", "2026-12-01 ", false, ""},
		{"empty offset", "2026-12-01T09:00:00", false, "2026-12-01T08:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseBound("to", c.raw, zone, c.isTo)
			if c.want == "" {
				var bad *badRequestError
				if !errors.As(err, &bad) || bad.field != "to" || bad.kind != "invalid_parameter" {
					t.Fatalf("parseBound(%q) = %v, %v; want an invalid_parameter naming to", c.raw, got, err)
				}
				return
			}
			if err != nil || !got.Equal(utc(c.want)) {
				t.Fatalf("parseBound(%q) = %v, %v; want %s", c.raw, got, err, c.want)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	zone := func() *time.Location { return mustZone("Europe/Paris") }
	from, to, err := parseWindow("2026-12", "", "", zone)
	if err != nil || from.Format(time.RFC3339) != "2026-11-30T23:00:00Z" || to.Format(time.RFC3339) != "2026-12-31T23:00:00Z" {
		t.Fatalf("period=2026-12: %v %v %v", from, to, err)
	}
	if _, _, err := parseWindow("2026-12", "2026-12-01", "", zone); err == nil {
		t.Fatal("period with from accepted")
	}
	if _, _, err := parseWindow("December", "", "", zone); err == nil {
		t.Fatal("period=December accepted")
	}
	from, to, err = parseWindow("", "2026-12-01", "", zone)
	if err != nil || from.IsZero() || !to.IsZero() {
		t.Fatalf("from only: %v %v %v", from, to, err)
	}
}

// An instant is read without looking the site up.
func TestParseBoundInstantNeedsNoZone(t *testing.T) {
	zone := func() *time.Location { t.Fatal("zone looked up for an instant"); return nil }
	if _, err := parseBound("from", "2026-12-01T09:00:00+01:00", zone, false); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseBound: any value is either refused as a 400 naming the
// parameter or read as an instant; a date's to is after its from.
func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"2026-12-01", "2026-12", "2026", "2026-03-29T02:30", "2026-12-01T09:00:00 01:00", "2026-10-25", "x"} {
		f.Add(s)
	}
	zone := func() *time.Location { return mustZone("Europe/Paris") }
	f.Fuzz(func(t *testing.T, raw string) {
		from, errFrom := parseBound("from", raw, zone, false)
		to, errTo := parseBound("to", raw, zone, true)
		if (errFrom == nil) != (errTo == nil) {
			t.Fatalf("%q: from and to disagree: %v / %v", raw, errFrom, errTo)
		}
		if errFrom != nil {
			var bad *badRequestError
			if !errors.As(errFrom, &bad) || bad.field != "from" {
				t.Fatalf("%q: %v is not a 400 naming from", raw, errFrom)
			}
			return
		}
		if to.Before(from) || from.Location() != time.UTC {
			t.Fatalf("%q: from %v to %v", raw, from, to)
		}
	})
}
