package calendar_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestWaitingList(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	f := newFixtureWith(t, 4, calendar.Config{Events: events.Discard, Now: clk.Now, OfferTTL: time.Hour}, clk.t)
	ctx := context.Background()
	a, b, c, d := f.users[0], f.users[1], f.users[2], f.users[3]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	slot := func(u string) calendar.Booking {
		return calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: f.at(5, 9, 0), End: f.at(5, 12, 0)}
	}
	held, err := f.svc.Book(ctx, slot(a))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.JoinWaitlist(ctx, slot(d), false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.JoinWaitlist(ctx, slot(d), false); ruleCode(err) != "already_waiting" {
		t.Fatalf("joining twice: %v", err)
	}
	eb, _ := f.svc.JoinWaitlist(ctx, slot(b), false)
	ec, _ := f.svc.JoinWaitlist(ctx, slot(c), true)
	if _, err := f.svc.JoinWaitlist(ctx, calendar.Booking{ResourceID: desk.ID, UserID: b, By: byMember(b), Start: f.at(6, 9, 0), End: f.at(6, 10, 0)}, false); ruleCode(err) != "slot_available" {
		t.Fatalf("joining the line of a free slot: %v", err)
	}
	// d leaves; a cancels: b (first still in line) is offered the slot, held.
	if _, err := f.svc.LeaveWaitlist(ctx, byMember(d), mustEntry(t, f, d).ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: held.ID, By: byMember(a)}); err != nil {
		t.Fatal(err)
	}
	eb, _ = f.svc.GetWaitlistEntry(ctx, byMember(eb.UserID), eb.ID)
	if eb.Status != calendar.WaitOffered || eb.ReservationID == nil || !eb.OfferExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Fatalf("b's entry = %+v", eb)
	}
	// While held, nobody else books it.
	if _, err := f.svc.Book(ctx, slot(a)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking a held slot: %v", err)
	}
	// b lets the hour pass: the offer lapses and c (auto-book) gets the slot.
	clk.Advance(61 * time.Minute)
	if err := f.svc.ExpireOffer(ctx, eb.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ExpireOffer(ctx, eb.ID); err != nil { // a repeated job is harmless
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptOffer(ctx, byMember(b), eb.ID); ruleCode(err) != "no_open_offer" {
		t.Fatalf("accepting a lapsed offer: %v", err)
	}
	ec, _ = f.svc.GetWaitlistEntry(ctx, byMember(ec.UserID), ec.ID)
	if ec.Status != calendar.WaitBooked || ec.ReservationID == nil {
		t.Fatalf("c's entry = %+v", ec)
	}
	r, _ := f.svc.GetReservation(ctx, *ec.ReservationID)
	if r.Status != calendar.StatusConfirmed || *r.UserID != c {
		t.Fatalf("c's reservation = %+v", r)
	}
}

func mustEntry(t *testing.T, f *fixture, user string) *calendar.WaitlistEntry {
	t.Helper()
	es, err := f.svc.ListWaitlist(context.Background(), byMember(user))
	if err != nil || len(es) == 0 {
		t.Fatalf("entries of %s: %v, %v", user, es, err)
	}
	return &es[0]
}

func TestAcceptOfferAndLazyExpiry(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	f := newFixtureWith(t, 3, calendar.Config{Events: events.Discard, Now: clk.Now, OfferTTL: 30 * time.Minute}, clk.t)
	ctx := context.Background()
	a, b, c := f.users[0], f.users[1], f.users[2]
	room := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 4})
	at := func(u string, day int) calendar.Booking {
		return calendar.Booking{ResourceID: room.ID, UserID: u, By: byMember(u), Start: f.at(day, 14, 0), End: f.at(day, 15, 0)}
	}
	r1, _ := f.svc.Book(ctx, at(a, 5))
	r2, _ := f.svc.Book(ctx, at(a, 6))
	e1, _ := f.svc.JoinWaitlist(ctx, at(b, 5), false)
	e2, _ := f.svc.JoinWaitlist(ctx, at(b, 6), false)
	f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r1.ID, By: byMember(a)})
	f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r2.ID, By: byMember(a)})
	got, err := f.svc.AcceptOffer(ctx, byMember(b), e1.ID)
	if err != nil || got.Status != calendar.StatusConfirmed || *got.UserID != b {
		t.Fatalf("accept = %+v, %v", got, err)
	}
	if _, err := f.svc.AcceptOffer(ctx, byMember(c), e1.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("someone else accepting b's offer: %v", err)
	}
	// No job client works this test's queue, as if the expiry job of the
	// offer on day 6 were late: the lapsed hold is cleared when c next tries
	// to book (see expireOverdueHolds), and c gets the slot.
	clk.Advance(31 * time.Minute)
	if _, err := f.svc.Book(ctx, at(c, 6)); err != nil {
		t.Fatalf("booking after a lapsed hold: %v", err)
	}
	e2, _ = f.svc.GetWaitlistEntry(ctx, byMember(e2.UserID), e2.ID)
	if e2.Status != calendar.WaitExpired {
		t.Fatalf("lapsed entry = %s", e2.Status)
	}
}

// TestOfferExpiresThroughTheJobQueue runs the real River queue: the offer
// lapses by itself and passes to the next in line.
func TestOfferExpiresThroughTheJobQueue(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	f := newFixtureWith(t, 3, calendar.Config{Events: events.Discard, OfferTTL: 6 * time.Second}, now)
	ctx := context.Background()
	workers := river.NewWorkers()
	if err := f.svc.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	jc, err := jobs.New(f.db, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jc.Stop(context.Background()) })

	a, b, c := f.users[0], f.users[1], f.users[2]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	day := now.AddDate(0, 0, 2)
	slot := func(u string) calendar.Booking {
		return calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u),
			Start: time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, paris).Format(time.RFC3339),
			End:   time.Date(day.Year(), day.Month(), day.Day(), 11, 0, 0, 0, paris).Format(time.RFC3339)}
	}
	r, err := f.svc.Book(ctx, slot(a))
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := f.svc.JoinWaitlist(ctx, slot(b), false)
	ec, _ := f.svc.JoinWaitlist(ctx, slot(c), false)
	if _, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: byMember(a)}); err != nil {
		t.Fatal(err)
	}
	// b's offer lapses in its expiry job, which passes the slot to c.
	jobstest.WaitCompleted(t, jc.River(), calendar.OfferExpiryArgs{}.Kind(), 1)
	if e, _ := f.svc.GetWaitlistEntry(ctx, byMember(ec.UserID), ec.ID); e.Status != calendar.WaitOffered {
		first, _ := f.svc.GetWaitlistEntry(ctx, byMember(eb.UserID), eb.ID)
		t.Fatalf("c was never offered the slot (b: %s, c: %s)", first.Status, e.Status)
	}
	first, _ := f.svc.GetWaitlistEntry(ctx, byMember(eb.UserID), eb.ID)
	if first.Status != calendar.WaitExpired {
		t.Fatalf("b's offer = %s, want expired", first.Status)
	}
}

// An offer publishes waitlist.offered with its deadline; its lapse, found
// late by a booking of the slot (the job not run yet), waitlist.lapsed;
// the next in line, auto-book, gets a reservation.created and no offer.
func TestWaitlistEvents(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	rec := &events.Recorder{}
	f := newFixtureWith(t, 3, calendar.Config{Events: rec, Now: clk.Now, OfferTTL: time.Hour}, clk.t)
	ctx := context.Background()
	a, b, c := f.users[0], f.users[1], f.users[2]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	slot := func(u string) calendar.Booking {
		return calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: f.at(5, 9, 0), End: f.at(5, 12, 0)}
	}
	r, err := f.svc.Book(ctx, slot(a))
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := f.svc.JoinWaitlist(ctx, slot(b), false)
	if _, err := f.svc.JoinWaitlist(ctx, slot(c), true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: byMember(a)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(61 * time.Minute)
	if _, err := f.svc.Book(ctx, slot(a)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking the slot c got: %v", err)
	}
	var got []string
	for _, e := range rec.Events() {
		got = append(got, e.Type)
		w, ok := e.Data.(calendar.WaitlistEvent)
		if !ok {
			continue
		}
		want := calendar.WaitlistEvent{EntryID: eb.ID, UserID: b, SiteID: f.site.ID, ResourceID: desk.ID,
			Start: eb.StartsAt.UTC(), End: eb.EndsAt.UTC(), ExpiresAt: time.Date(2026, 3, 2, 8, 0, 0, 0, paris).UTC()}
		if w != want || e.SiteID != f.site.ID {
			t.Errorf("%s: %+v, want %+v", e.Type, w, want)
		}
	}
	// A cancellation publishes after the offers it makes, within its
	// transaction.
	want := []string{"reservation.created", "reservation.created", "waitlist.offered", "reservation.cancelled",
		"reservation.created", "reservation.cancelled", "waitlist.lapsed"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}
