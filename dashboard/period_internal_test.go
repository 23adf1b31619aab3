package dashboard

import (
	"testing"
	"time"
)

// TestPeriod: local dates and months of the site's zone, both ends
// included, today by default, at most MaxDays.
func TestPeriod(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC) // already the 29th in Paris
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, paris) }
	for _, c := range []struct {
		from, to   string
		start, end time.Time
		bad        bool
	}{
		{"", "", day(3, 29), day(3, 30), false},
		{"2026-03-01", "2026-03-31", day(3, 1), day(4, 1), false},
		{"2026-03", "", day(3, 1), day(4, 1), false},
		{"2026-01", "2026-03", day(1, 1), day(4, 1), false},
		{"2026-03-02", "2026-03-01", time.Time{}, time.Time{}, true},
		{"2025-01-01", "2026-03-01", time.Time{}, time.Time{}, true},
		{"2026-02-30", "", time.Time{}, time.Time{}, true},
		{"2026-03-01T00:00:00Z", "", time.Time{}, time.Time{}, true},
	} {
		start, end, err := period(c.from, c.to, now, paris)
		if (err != nil) != c.bad || !c.bad && (!start.Equal(c.start) || !end.Equal(c.end)) {
			t.Errorf("from %q to %q: [%s, %s) %v; want [%s, %s) bad %v", c.from, c.to, start, end, err, c.start, c.end, c.bad)
		}
	}
}
