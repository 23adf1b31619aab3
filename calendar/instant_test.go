package calendar

import (
	"testing"
	"time"
)

// sqliteInstant reads bun's SQLite layout by hand; it must agree with
// time.Parse on it, and fall back to time.Parse for anything else.
func TestSQLiteInstant(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"2026-03-09 08:00:00+00:00",
		"2026-03-09 08:00:00.5+00:00",
		"2026-03-29 01:59:59.123456+00:00",
		"1999-12-31 23:59:59.999999999+00:00",
		"2026-03-09 09:00:00+01:00",   // not UTC: through time.Parse
		"2026-03-09T08:00:00.25Z",     // RFC 3339
		"2026-03-09 08:00:00.1234567", // no offset
	} {
		got, err := sqliteInstant([]byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var want time.Time
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
			if want, err = time.Parse(layout, in); err == nil {
				break
			}
		}
		if got != want.UnixNano() {
			t.Errorf("%q = %v, want %v", in, time.Unix(0, got).UTC(), want.UTC())
		}
	}
	for _, bad := range []string{"", "tomorrow", "2026-03-09 08:x0:00+00:00"} {
		if _, err := sqliteInstant([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
