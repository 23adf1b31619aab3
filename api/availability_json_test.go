package api

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
)

// The hand-written availability encoder writes exactly what the generic
// one would, names with characters JSON must escape included.
func TestAppendSiteAvailabilityMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	at := func(h, m int) time.Time { return time.Date(2026, 3, 29, h, m, 0, 0, time.UTC) }
	cases := [][]calendar.Availability{
		nil,
		{{Resource: &calendar.Resource{ID: "r1", Name: "Salle \"<Pasteur>\" & co — été\n", Kind: calendar.KindRoom, Capacity: 12}, Free: []calendar.FreeInterval{}}},
		{
			{Resource: &calendar.Resource{ID: "r2", Name: "Bureau 1", Kind: calendar.KindDesk, Capacity: 1},
				Free: []calendar.FreeInterval{{Start: at(7, 0), End: at(9, 30), FreeSeats: 1}, {Start: at(10, 0), End: at(18, 0).Add(1500 * time.Millisecond), FreeSeats: 1}}},
			{Resource: &calendar.Resource{ID: "r3", Name: "Open space", Kind: calendar.KindZone, Capacity: 10},
				Free: []calendar.FreeInterval{{Start: at(7, 0).In(time.FixedZone("x", 3600)), End: at(9, 30), FreeSeats: 7}}},
		},
	}
	for i, as := range cases {
		want := httptest.NewRecorder()
		writeJSON(want, 200, listOf(as, toAvailabilityJSON))
		got := appendSiteAvailability(nil, as)
		if string(got) != want.Body.String() {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, want.Body.String())
		}
	}
}
