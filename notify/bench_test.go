package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/notify"
)

// BenchmarkMailThroughput queues 10,000 booking mails while no job client
// runs (a relay that was down, a burst of bookings), then starts one and
// measures how fast they reach a local SMTP server: each job reads the
// reservation, its resource, site and member, renders the text and HTML,
// builds the iCalendar invitation and sends it over its own SMTP
// connection. Run it with -benchtime 1x (each iteration is the 10,000).
func BenchmarkMailThroughput(b *testing.B) {
	const queued = 10_000
	ctx := context.Background()
	f := newFixture(b)
	anne := f.member(b, "anne@example.fr", "Anne Martin", identity.NotificationsPatch{})
	r, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: anne}, Start: f.at(3, 14, 30), End: f.at(3, 16, 0)})
	if err != nil {
		b.Fatal(err)
	}
	waitMails(b, f, "anne@example.fr", 1) // the booking's own confirmation
	stop, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := f.jc.Stop(stop); err != nil {
		b.Fatal(err)
	}
	sent := 1
	b.StopTimer()
	for i := range b.N {
		params := make([]river.InsertManyParams, 0, 1000)
		for n := range queued {
			params = append(params, river.InsertManyParams{Args: notify.BookingMailArgs{
				EventID: fmt.Sprintf("evt_bench_%d_%d", i, n), Type: calendar.EventReservationCreated, ReservationID: r.ID}})
			if len(params) == cap(params) {
				if err := f.d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					_, err := f.queue.River().InsertManyTx(ctx, tx.Tx, params)
					return err
				}); err != nil {
					b.Fatal(err)
				}
				params = params[:0]
			}
		}
		workers := river.NewWorkers()
		if err := f.notify.AddWorkers(workers); err != nil {
			b.Fatal(err)
		}
		jc, err := jobs.New(f.d, jobs.Config{Workers: workers})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := jc.Start(ctx); err != nil {
			b.Fatal(err)
		}
		sent += queued
		waitMails(b, f, "anne@example.fr", sent)
		b.StopTimer()
		b.ReportMetric(queued/time.Since(start).Seconds(), "mails/s")
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = jc.Stop(stop)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// waitMails waits until addr has received n mails.
func waitMails(b *testing.B, f *fixture, addr string, n int) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for f.smtp.Count(addr) < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d mails to %s after 10 minutes, want %d", f.smtp.Count(addr), addr, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
