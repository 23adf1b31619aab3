package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/id"
)

// BenchmarkDashboard asks GET /v1/sites/{id}/dashboard of a site with a
// year of bookings: 50 desks each booked 09:00–17:00 every day of 2026
// (18,250 bookings, half of them checked in), over the whole year and
// over one day, one client.
func BenchmarkDashboard(b *testing.B) {
	f := newCalendarFixture(b)
	ctx := context.Background()
	memberID, _, _ := f.h.member("bench@example.fr")
	now := f.h.clock.Now()
	resources := make([]calendar.Resource, 50)
	for i := range resources {
		resources[i] = calendar.Resource{ID: id.New(), SiteID: f.site, Kind: calendar.KindDesk, Name: fmt.Sprintf("Desk %03d", i),
			Capacity: 1, Rules: calendar.Rules{SlotMinutes: 30, MinMinutes: 30, HorizonDays: 90}, MemberBookable: true, CreatedAt: now, UpdatedAt: now}
	}
	if _, err := f.h.db.NewInsert().Model(&resources).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	var batch []calendar.Reservation
	for day := 0; day < 365; day++ {
		for i, r := range resources {
			start := time.Date(2026, 1, 1+day, 9, 0, 0, 0, f.paris).UTC()
			uid := memberID
			rv := calendar.Reservation{ID: id.New(), ResourceID: r.ID, SiteID: f.site, UserID: &uid, Kind: calendar.ReservationBooking,
				Status: calendar.StatusConfirmed, Exclusive: true, Seats: 1, StartsAt: start, EndsAt: start.Add(8 * time.Hour),
				BusyUntil: start.Add(8 * time.Hour), CreatedBy: memberID, CreatedAt: now, UpdatedAt: now}
			if i%2 == 0 {
				in := start.Add(5 * time.Minute)
				rv.CheckedInAt, rv.CheckedInBy = &in, &uid
			}
			batch = append(batch, rv)
			if len(batch) == 1000 {
				if _, err := f.h.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if _, err := f.h.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct{ name, query string }{{"year", "?from=2026-01-01&to=2026-12-31"}, {"day", ""}} {
		b.Run(c.name, func(b *testing.B) {
			path := f.h.srv.URL + "/v1/sites/" + f.site + "/dashboard" + c.query
			runParallel(b, 1, func(cl *http.Client) error {
				req, _ := http.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+f.manager)
				resp, err := cl.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("dashboard: %d", resp.StatusCode)
				}
				return nil
			})
		})
	}
}
