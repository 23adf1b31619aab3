package appointments

import (
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
)

// Slots are cut in the site's wall clock: on the day clocks go forward
// (29 March 2026 in Paris) 9:00 is still 9:00, an hour nearer UTC.
func TestSlotsOnKeepWallClockAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip(err)
	}
	sun := "sun"
	w := &Window{ID: "w", Weekday: &sun, ValidFrom: "2026-03-01", StartTime: "09:00", EndTime: "10:30", SlotMinutes: 30}
	before := w.slotsOn(paris, time.Date(2026, 3, 22, 0, 0, 0, 0, paris))
	after := w.slotsOn(paris, time.Date(2026, 3, 29, 0, 0, 0, 0, paris))
	if len(before) != 3 || len(after) != 3 {
		t.Fatalf("slots = %v / %v", before, after)
	}
	if !before[0].Start.Equal(time.Date(2026, 3, 22, 8, 0, 0, 0, time.UTC)) || !after[0].Start.Equal(time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("first slots = %v, %v", before[0].Start, after[0].Start)
	}
	if got := w.slotsOn(paris, time.Date(2026, 3, 30, 0, 0, 0, 0, paris)); len(got) != 0 {
		t.Fatalf("a Monday: %v", got)
	}
	until := "2026-03-22"
	w.ValidUntil = &until
	if got := w.slotsOn(paris, time.Date(2026, 3, 29, 0, 0, 0, 0, paris)); len(got) != 0 {
		t.Fatalf("after until: %v", got)
	}
}

// outsideHours names the field at fault, within one opening span.
func TestOutsideHours(t *testing.T) {
	h := calendar.OpeningHours{"tue": {{"09:00", "12:30"}, {"14:00", "19:00"}}}
	tue := time.Tuesday
	for _, c := range []struct {
		start, end int
		want       string
	}{
		{9 * 60, 12 * 60, ""},
		{14 * 60, 19 * 60, ""},
		{8 * 60, 10 * 60, "start"},
		{12 * 60, 15 * 60, "end"}, // across the lunch break
		{13 * 60, 14 * 60, "start"},
	} {
		if got := outsideHours(h, tue, c.start, c.end); got != c.want {
			t.Errorf("%d–%d: %q, want %q", c.start, c.end, got, c.want)
		}
	}
	if got := outsideHours(h, time.Wednesday, 9*60, 10*60); got != "start" {
		t.Errorf("a closed day: %q", got)
	}
	if got := outsideHours(nil, time.Wednesday, 0, 24*60); got != "" {
		t.Errorf("open around the clock: %q", got)
	}
}
