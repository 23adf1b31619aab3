package calendar_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/id"
)

// seedReservations inserts n one-hour reservations spread over resources,
// starting ten days ago, straight into the table: Book would check every
// rule and take minutes for 10,000. Each resource's reservations are two
// hours apart, so PostgreSQL's no-overlap constraint holds. With blockEvery
// > 0, every blockEvery-th is a manager's block; user(i) is whom
// reservation i is for (or who made it).
func seedReservations(b *testing.B, f *fixture, resources []*calendar.Resource, n, blockEvery int, user func(i int) string) {
	b.Helper()
	ctx := context.Background()
	start := f.now.Add(-10 * 24 * time.Hour).UTC().Truncate(time.Hour)
	const chunk = 500 // 21 columns a row stays under both databases' parameter limits
	rows := make([]calendar.Reservation, 0, chunk)
	flush := func() {
		if len(rows) == 0 {
			return
		}
		if _, err := f.db.NewInsert().Model(&rows).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		rows = rows[:0]
	}
	for i := range n {
		res := resources[i%len(resources)]
		at := start.Add(time.Duration(i/len(resources)) * 2 * time.Hour)
		u := user(i)
		r := calendar.Reservation{
			ID: id.New(), ResourceID: res.ID, SiteID: res.SiteID, UserID: &u, Kind: calendar.ReservationBooking,
			Status: calendar.StatusConfirmed, Exclusive: true, Seats: 1, StartsAt: at, EndsAt: at.Add(time.Hour),
			BusyUntil: at.Add(time.Hour), CreatedBy: u, CreatedAt: f.now, UpdatedAt: f.now,
		}
		if i%3 == 0 {
			r.Note = fmt.Sprintf("Réunion n° %d, avec l’équipe; prévoir café ☕", i)
		}
		if blockEvery > 0 && i%blockEvery == 0 {
			r.Kind, r.UserID, r.Note = calendar.ReservationBlock, nil, "Maintenance"
		}
		rows = append(rows, r)
		if len(rows) == chunk {
			flush()
		}
	}
	flush()
}

func benchResources(b *testing.B, f *fixture, n int) []*calendar.Resource {
	b.Helper()
	out := make([]*calendar.Resource, n)
	for i := range out {
		out[i] = f.resource(b, calendar.NewResource{Kind: calendar.KindDesk, Name: fmt.Sprintf("Bureau %d", i+1)})
	}
	return out
}

func benchFeed(b *testing.B, events int, feed func() (*calendar.Feed, error)) {
	b.Helper()
	got, err := feed()
	if err != nil {
		b.Fatal(err)
	}
	if n := bytes.Count(got.Body, []byte("BEGIN:VEVENT\r\n")); n != events {
		b.Fatalf("feed has %d events, want %d", n, events)
	}
	for b.Loop() {
		if _, err := feed(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(got.Body)), "bytes/feed")
}

func BenchmarkUserFeed1000(b *testing.B) {
	f := newFixture(b, 2)
	me := f.users[0]
	seedReservations(b, f, benchResources(b, f, 4), 1000, 0, func(int) string { return me })
	// Someone else's bookings are in the table too, as they would be.
	seedReservations(b, f, benchResources(b, f, 4), 1000, 0, func(int) string { return f.users[1] })
	ctx := context.Background()
	benchFeed(b, 1000, func() (*calendar.Feed, error) { return f.svc.UserFeed(ctx, me) })
}

func BenchmarkSiteFeed10000(b *testing.B) {
	f := newFixture(b, 3)
	seedReservations(b, f, benchResources(b, f, 12), 10000, 10, func(i int) string { return f.users[i%len(f.users)] })
	ctx := context.Background()
	benchFeed(b, 10000, func() (*calendar.Feed, error) {
		return f.svc.SiteFeed(ctx, bySystem(), f.site.ID, time.Time{}, time.Time{})
	})
}
