package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
)

func byManagerOf(userID, siteID string) *identity.Principal {
	return &identity.Principal{UserID: userID, ManagedSites: []string{siteID}}
}

// Check-in by the member, by a manager, and on arrival through a door;
// refused before the margin, to another member, and for a machine;
// idempotent.
func TestCheckIn(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	f := newFixtureWith(t, 3, calendar.Config{Events: events.Discard, Now: clk.Now}, clk.t)
	ctx := context.Background()
	a, b, mgr := f.users[0], f.users[1], f.users[2]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	desk2 := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk 2"})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser"})
	ra, err := f.book(desk, a, f.at(2, 9, 0), f.at(2, 12, 0))
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := f.book(desk2, b, f.at(2, 9, 0), f.at(2, 12, 0))
	rm, err := f.book(laser, a, f.at(2, 9, 0), f.at(2, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	// 08:00: more than 15 minutes early.
	clk.Advance(time.Hour)
	if _, err := f.svc.CheckIn(ctx, byMember(a), ra.ID); ruleCode(err) != "too_early" {
		t.Fatalf("check-in at 08:00 for 09:00: %v", err)
	}
	clk.Advance(45 * time.Minute) // 08:45: within the margin
	if _, err := f.svc.CheckIn(ctx, byMember(b), ra.ID); err == nil {
		t.Fatal("another member checked in a's booking")
	}
	got, err := f.svc.CheckIn(ctx, byMember(a), ra.ID)
	if err != nil || got.CheckedInAt == nil || !got.CheckedInAt.Equal(clk.Now()) || *got.CheckedInBy != a {
		t.Fatalf("a's check-in = %+v, %v", got, err)
	}
	first := *got.CheckedInAt
	clk.Advance(10 * time.Minute)
	if again, err := f.svc.CheckIn(ctx, byMember(a), ra.ID); err != nil || !again.CheckedInAt.Equal(first) {
		t.Fatalf("second check-in = %+v, %v", again, err)
	}
	if _, err := f.svc.CheckIn(ctx, byMember(a), rm.ID); ruleCode(err) != "not_checkable" {
		t.Fatalf("machine check-in: %v", err)
	}
	got, err = f.svc.CheckIn(ctx, byManagerOf(mgr, f.site.ID), rb.ID)
	if err != nil || got.CheckedInAt == nil || *got.CheckedInBy != mgr {
		t.Fatalf("manager's check-in = %+v, %v", got, err)
	}
	if _, err := f.svc.CheckIn(ctx, byManagerOf(mgr, "other-site"), rb.ID); err == nil {
		t.Fatal("another site's manager checked in")
	}
}

func TestCheckInOnArrival(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	f := newFixtureWith(t, 1, calendar.Config{Events: events.Discard, Now: clk.Now}, clk.t)
	ctx := context.Background()
	a := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser"})
	now, _ := f.book(desk, a, f.at(2, 9, 0), f.at(2, 10, 0))
	later, _ := f.book(desk, a, f.at(2, 14, 0), f.at(2, 15, 0))
	machine, _ := f.book(laser, a, f.at(2, 9, 0), f.at(2, 10, 0))
	at := time.Date(2026, 3, 2, 8, 50, 0, 0, paris)
	n, err := f.svc.CheckInOnArrival(ctx, f.db, a, f.site.ID, at)
	if err != nil || n != 1 {
		t.Fatalf("arrival checked in %d, %v; want 1 (the desk under way)", n, err)
	}
	for _, c := range []struct {
		r    *calendar.Reservation
		want bool
	}{{now, true}, {later, false}, {machine, false}} {
		r, _ := f.svc.GetReservation(ctx, c.r.ID)
		if (r.CheckedInAt != nil) != c.want {
			t.Errorf("%s at %s: checked in %v, want %v", c.r.ResourceID, c.r.StartsAt, r.CheckedInAt, c.want)
		}
	}
	if n, _ := f.svc.CheckInOnArrival(ctx, f.db, a, f.site.ID, at.Add(time.Minute)); n != 0 {
		t.Fatalf("a second door grant checked in %d again", n)
	}
}

// The release rule: a job is scheduled with each booking and moved with
// it; it releases a booking not checked in, and not one checked in.
func TestReleaseUnchecked(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clk := &movableClock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	f := newFixtureWith(t, 2, calendar.Config{Events: events.Discard, Now: clk.Now}, clk.t)
	ctx := context.Background()
	a, b := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk",
		Rules: calendar.Rules{ReleaseUncheckedAfterMinutes: 20}})
	desk2 := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk 2",
		Rules: calendar.Rules{ReleaseUncheckedAfterMinutes: 20}})
	ra, _ := f.book(desk, a, f.at(2, 9, 0), f.at(2, 12, 0))
	rb, _ := f.book(desk2, b, f.at(2, 9, 0), f.at(2, 12, 0))
	if got := f.releaseJobs(t, ra.ID); len(got) != 1 || !got[0].Equal(ra.StartsAt.Add(20*time.Minute)) {
		t.Fatalf("release jobs of a's booking at %v, want one at 09:20", got)
	}
	moved, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: ra.ID, By: byMember(a), Start: f.at(2, 10, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.releaseJobs(t, ra.ID); len(got) != 2 || !got[1].Equal(moved.StartsAt.Add(20*time.Minute)) {
		t.Fatalf("release jobs after the move at %v, want a second at 10:20", got)
	}
	clk.t = time.Date(2026, 3, 2, 9, 5, 0, 0, paris)
	if _, err := f.svc.CheckIn(ctx, byMember(b), rb.ID); err != nil {
		t.Fatal(err)
	}
	clk.t = time.Date(2026, 3, 2, 9, 20, 0, 0, paris)
	// The job of the old slot finds the booking moved.
	if ok, err := f.svc.ReleaseUnchecked(ctx, ra.ID, ra.StartsAt); err != nil || ok {
		t.Fatalf("the old slot's job released: %v, %v", ok, err)
	}
	if ok, err := f.svc.ReleaseUnchecked(ctx, rb.ID, rb.StartsAt); err != nil || ok {
		t.Fatalf("a checked-in booking released: %v, %v", ok, err)
	}
	clk.t = time.Date(2026, 3, 2, 10, 20, 0, 0, paris)
	if ok, err := f.svc.ReleaseUnchecked(ctx, ra.ID, moved.StartsAt); err != nil || !ok {
		t.Fatalf("the unchecked booking was not released: %v, %v", ok, err)
	}
	r, _ := f.svc.GetReservation(ctx, ra.ID)
	if r.Status != calendar.StatusCancelled || r.CancelReason != calendar.ReleaseReason {
		t.Fatalf("released booking = %s %q", r.Status, r.CancelReason)
	}
	if _, err := f.svc.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser",
		Rules: calendar.Rules{ReleaseUncheckedAfterMinutes: 20}}); err == nil {
		t.Fatal("a machine took the release rule")
	}
}

// releaseJobs returns when the release jobs of reservationID are
// scheduled, in the order they were queued.
func (f *fixture) releaseJobs(t *testing.T, reservationID string) []time.Time {
	t.Helper()
	var at []time.Time
	rows, err := f.db.QueryContext(context.Background(),
		`SELECT scheduled_at FROM river_job WHERE kind = ? AND CAST(args AS TEXT) LIKE ? ORDER BY id`,
		calendar.ReleaseArgs{}.Kind(), "%"+reservationID+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s time.Time
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		at = append(at, s)
	}
	return at
}
