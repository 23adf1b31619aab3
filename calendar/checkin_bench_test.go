package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/latency"
)

// BenchmarkCheckInOnArrival measures the statement a door opening runs
// after its answer (access.Gate's finish): the member's bookings under way
// at the site are checked in. 20,000 bookings of 200 members over five
// months are in the table: the member who arrives has a hundred of them,
// about one every other working day, most of them ahead.
// "nothing-under-way": the usual case (no booking now, or already checked
// in), which changes no row; "checks-in": one booking under way and not yet
// checked in, reset (untimed) before each arrival. See BENCHMARKS.md.
//
//	go test -run '^$' -bench CheckInOnArrival ./calendar/
//	RELAIS_TEST_DATABASE_URL=… go test -run '^$' -bench CheckInOnArrival ./calendar/
func BenchmarkCheckInOnArrival(b *testing.B) {
	f := newFixture(b, 200)
	ctx := context.Background()
	me := f.users[0]
	seedReservations(b, f, benchResources(b, f, 12), 20000, 0, func(i int) string { return f.users[i%len(f.users)] })
	// Statistics, as PostgreSQL's autovacuum keeps them in production:
	// without them it walks the site's index rather than the member's.
	if _, err := f.db.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	// The seeded bookings are two hours apart per desk, starting ten days
	// before now; one of them under way for me is found here.
	var now calendar.Reservation
	if err := f.db.NewSelect().Model(&now).Where("user_id = ? AND starts_at > ?", me, f.now).Order("starts_at").Limit(1).Scan(ctx); err != nil {
		b.Fatal(err)
	}
	at := now.StartsAt.Add(10 * time.Minute)

	run := func(b *testing.B, reset func(), want int) {
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			reset()
			t0 := time.Now()
			n, err := f.svc.CheckInOnArrival(ctx, f.db, me, f.site.ID, at)
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			if n != want {
				b.Fatalf("checked in %d bookings, want %d", n, want)
			}
		}
		latency.Report(b, lat)
	}
	uncheck := func() {
		if _, err := f.db.NewUpdate().Model((*calendar.Reservation)(nil)).Set("checked_in_at = NULL").Set("checked_in_by = NULL").
			Where("id = ?", now.ID).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("checks-in", func(b *testing.B) { run(b, uncheck, 1) })
	b.Run("nothing-under-way", func(b *testing.B) { run(b, func() {}, 0) })
}
