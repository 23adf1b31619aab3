package api_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/id"
)

// BenchmarkSiteAvailability asks GET /v1/sites/{id}/availability for one
// week of a site with 500 resources and 20,000 reservations in that week.
func BenchmarkSiteAvailability(b *testing.B) {
	f := newCalendarFixture(b)
	ctx := context.Background()
	var site calendar.Site
	if err := f.h.db.NewSelect().Model(&site).Where("id = ?", f.site).Scan(ctx); err != nil {
		b.Fatal(err)
	}
	memberID, member, _ := f.h.member("bench@example.fr")
	now := f.h.clock.Now()
	resources := make([]calendar.Resource, 500)
	for i := range resources {
		resources[i] = calendar.Resource{ID: id.New(), SiteID: f.site, Kind: calendar.KindDesk, Name: fmt.Sprintf("Desk %03d", i),
			Capacity: 1, Rules: calendar.Rules{SlotMinutes: 30, MinMinutes: 30, HorizonDays: 90}, MemberBookable: true, CreatedAt: now, UpdatedAt: now}
	}
	if _, err := f.h.db.NewInsert().Model(&resources).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	// 40 one-hour reservations per resource among the 84 opening hours of
	// the week of 9 March.
	monday := time.Date(2026, 3, 9, 0, 0, 0, 0, f.paris)
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []calendar.Reservation
	for _, r := range resources {
		for _, slot := range rng.Perm(84)[:40] {
			start := time.Date(2026, 3, 9+slot/12, 8+slot%12, 0, 0, 0, f.paris).UTC()
			uid := memberID
			batch = append(batch, calendar.Reservation{ID: id.New(), ResourceID: r.ID, SiteID: f.site, UserID: &uid, Kind: calendar.ReservationBooking,
				Status: calendar.StatusConfirmed, Exclusive: true, Seats: 1, StartsAt: start, EndsAt: start.Add(time.Hour), BusyUntil: start.Add(time.Hour),
				CreatedBy: memberID, CreatedAt: now, UpdatedAt: now})
			if len(batch) == 1000 {
				if _, err := f.h.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	path := fmt.Sprintf("%s/v1/sites/%s/availability?from=%s&to=%s", f.h.srv.URL, f.site,
		monday.UTC().Format(time.RFC3339), monday.AddDate(0, 0, 7).UTC().Format(time.RFC3339))
	b.ResetTimer()
	runParallel(b, 1, func(c *http.Client) error {
		req, _ := http.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+member)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) // read to EOF so the connection is reused
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("availability: %d", resp.StatusCode)
		}
		return nil
	})
}
