package calendar_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

// fixture is a site in Paris, open every day 08:00–20:00, and a member.
type fixture struct {
	db *bun.DB
	// jobs is the queue of every service the fixture builds; no client
	// works it unless a test starts one.
	jobs *jobs.Queue
	// accounts is identity's service, which calendar asks about members.
	accounts calendar.Accounts
	svc      *calendar.Service
	site     *calendar.Site
	users    []string
	now      time.Time
	paris    *time.Location
}

func newFixture(t testing.TB, members int) *fixture {
	t.Helper()
	paris, _ := time.LoadLocation("Europe/Paris")
	// Monday 2 March 2026, 07:00 in Paris.
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, paris)
	return newFixtureWith(t, members, calendar.Config{Events: events.Discard, Now: func() time.Time { return now }}, now)
}

func newFixtureWith(t testing.TB, members int, cfg calendar.Config, now time.Time) *fixture {
	t.Helper()
	d := dbtest.New(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	if cfg.Jobs == nil {
		cfg.Jobs = jobstest.Queue(t, d)
	}
	if cfg.Accounts == nil {
		cfg.Accounts = identitytest.Accounts(t, d, cfg.Jobs)
	}
	svc := calendar.New(d, cfg)
	in := validSite()
	in.OpeningHours = calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		in.OpeningHours[day] = [][2]string{{"08:00", "20:00"}}
	}
	site, err := svc.CreateSite(context.Background(), bySystem(), in)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: d, jobs: cfg.Jobs, accounts: cfg.Accounts, svc: svc, site: site, now: now, paris: paris}
	for i := range members {
		f.users = append(f.users, dbtest.User(t, d, fmt.Sprintf("m%d@example.fr", i), "M"))
	}
	return f
}

func (f *fixture) resource(t testing.TB, in calendar.NewResource) *calendar.Resource {
	t.Helper()
	r, err := f.svc.CreateResource(context.Background(), bySystem(), f.site.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// at formats a local Paris time on day d of March 2026.
func (f *fixture) at(day, hour, minute int) string {
	return time.Date(2026, 3, day, hour, minute, 0, 0, f.paris).Format(time.RFC3339)
}

func (f *fixture) book(res *calendar.Resource, user, start, end string) (*calendar.Reservation, error) {
	return f.svc.Book(context.Background(), calendar.Booking{ResourceID: res.ID, UserID: user, By: byMember(user), Start: start, End: end})
}

func ruleCode(err error) string {
	var p *errs.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return fmt.Sprintf("(not a problem: %v)", err)
}

func TestBookingRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk 1",
		Rules: calendar.Rules{SlotMinutes: 30, MinMinutes: 60, MaxMinutes: 240, HorizonDays: 14, MinNoticeMinutes: 60}})
	q, _ := f.svc.CreateQualification(ctx, bySystem(), f.site.ID, "Laser induction", "")
	qid := q.ID
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", QualificationID: &qid})
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 10})
	if _, err := f.svc.AddClosure(ctx, bySystem(), f.site.ID, time.Date(2026, 3, 6, 0, 0, 0, 0, f.paris), time.Date(2026, 3, 7, 0, 0, 0, 0, f.paris), "Inventaire"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		res        *calendar.Resource
		start, end string
		seats      int
		code       string
	}{
		{"end before start", desk, f.at(3, 10, 0), f.at(3, 9, 0), 0, "end_before_start"},
		{"in the past", desk, f.at(1, 10, 0), f.at(1, 11, 0), 0, "in_the_past"},
		{"beyond horizon", desk, f.at(20, 10, 0), f.at(20, 11, 0), 0, "beyond_horizon"},
		{"under notice", desk, f.at(2, 7, 30), f.at(2, 8, 30), 0, "under_minimum_notice"},
		{"off granularity", desk, f.at(3, 10, 15), f.at(3, 11, 15), 0, "off_granularity"},
		{"too short", desk, f.at(3, 10, 0), f.at(3, 10, 30), 0, "too_short"},
		{"too long", desk, f.at(3, 10, 0), f.at(3, 14, 30), 0, "too_long"},
		{"outside hours", desk, f.at(3, 19, 0), f.at(3, 21, 0), 0, "outside_opening_hours"},
		{"closure", desk, f.at(6, 10, 0), f.at(6, 11, 0), 0, "closed"},
		{"qualification", laser, f.at(3, 10, 0), f.at(3, 11, 0), 0, "qualification_required"},
		{"over capacity", zone, f.at(3, 10, 0), f.at(3, 11, 0), 11, "over_capacity"},
		{"seats on a desk", desk, f.at(3, 10, 0), f.at(3, 11, 0), 2, "seats_invalid"},
		{"garbage time", desk, "tomorrow", f.at(3, 11, 0), 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Book(ctx, calendar.Booking{ResourceID: tt.res.ID, UserID: u, By: byMember(u), Start: tt.start, End: tt.end, Seats: tt.seats})
			if tt.code == "" {
				var ve *errs.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("err = %v, want a validation error", err)
				}
				return
			}
			if got := ruleCode(err); got != tt.code {
				t.Fatalf("err = %v (code %s), want %s", err, got, tt.code)
			}
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("rule refusal is not ErrInvalid: %v", err)
			}
		})
	}
	// With the grant, the laser books.
	if _, err := f.svc.GrantQualification(ctx, byAdmin(u), qid, u, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(laser, u, f.at(3, 10, 0), f.at(3, 11, 0)); err != nil {
		t.Fatalf("qualified booking: %v", err)
	}
	// Nothing refused above was stored.
	rs, _, err := f.svc.ListReservations(ctx, bySystem(), calendar.ReservationFilter{UserID: u, Limit: 100})
	if err != nil || len(rs) != 1 {
		t.Fatalf("reservations = %d, %v; want only the laser", len(rs), err)
	}
}

func TestHalfOpenIntervalsAndBuffers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	a, b := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", Rules: calendar.Rules{SlotMinutes: 15, BufferAfterMinutes: 15}})
	if _, err := f.book(desk, a, f.at(3, 9, 0), f.at(3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(desk, b, f.at(3, 10, 0), f.at(3, 11, 0)); err != nil {
		t.Fatalf("back-to-back booking refused: %v", err)
	}
	_, err := f.book(desk, b, f.at(3, 9, 30), f.at(3, 10, 30))
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("overlap: %v, want conflict", err)
	}
	var p *errs.Problem
	errors.As(err, &p)
	c, ok := p.Extra["conflict"].(calendar.Conflict)
	if !ok || !c.Start.Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, f.paris)) {
		t.Fatalf("conflict = %+v, want the 09:00 booking's interval", p.Extra)
	}
	// The laser cools down 15 min after each booking: 10:00 is taken, 10:15 is free.
	if _, err := f.book(laser, a, f.at(3, 9, 0), f.at(3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(laser, b, f.at(3, 10, 0), f.at(3, 11, 0)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking inside the buffer: %v, want conflict", err)
	}
	if _, err := f.book(laser, b, f.at(3, 10, 15), f.at(3, 11, 0)); err != nil {
		t.Fatalf("booking after the buffer: %v", err)
	}
	// A booking whose own buffer would run into the next one is refused too.
	if _, err := f.book(laser, b, f.at(3, 8, 0), f.at(3, 9, 0)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking whose buffer overlaps the next: %v, want conflict", err)
	}
}

func TestCancelAndMove(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	a, b := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", Rules: calendar.Rules{CancelDeadlineMinutes: 48 * 60}})
	r1, _ := f.book(desk, a, f.at(3, 9, 0), f.at(3, 10, 0))
	r2, _ := f.book(desk, b, f.at(5, 9, 0), f.at(5, 10, 0))
	// Moving onto b's slot is refused, and a keeps their slot.
	_, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: r1.ID, By: byMember(a), Start: f.at(5, 9, 0), End: f.at(5, 10, 0)})
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("move onto a taken slot: %v", err)
	}
	got, _ := f.svc.GetReservation(ctx, r1.ID)
	if !got.StartsAt.Equal(r1.StartsAt) {
		t.Fatal("refused move changed the reservation")
	}
	// Resizing over its own slot is fine (it does not collide with itself).
	moved, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: r1.ID, By: byMember(a), End: f.at(3, 11, 0)})
	if err != nil || !moved.EndsAt.Equal(time.Date(2026, 3, 3, 11, 0, 0, 0, f.paris)) {
		t.Fatalf("resize: %+v, %v", moved, err)
	}
	// Cancelling within 48 h of the start is allowed and marked late.
	c1, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r1.ID, By: byMember(a)})
	if err != nil || c1.Status != calendar.StatusCancelled || !c1.LateCancel {
		t.Fatalf("late cancel = %+v, %v", c1, err)
	}
	c2, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r2.ID, By: byAdmin(a), Reason: "Fuite d'eau"})
	if err != nil || c2.LateCancel || c2.CancelReason != "Fuite d'eau" {
		t.Fatalf("early cancel = %+v, %v", c2, err)
	}
	// The freed slot can be booked again.
	if _, err := f.book(desk, b, f.at(3, 9, 0), f.at(3, 10, 0)); err != nil {
		t.Fatalf("rebooking a cancelled slot: %v", err)
	}
}

func TestBlocks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 4})
	if _, err := f.svc.Book(ctx, calendar.Booking{ResourceID: zone.ID, By: byAdmin(f.users[0]), Kind: calendar.ReservationBlock,
		Start: f.at(4, 0, 0), End: f.at(5, 0, 0), Note: "Peinture"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(zone, f.users[0], f.at(4, 10, 0), f.at(4, 11, 0)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking a seat during a block: %v", err)
	}

	// A desk blocked for days: a booking well inside the block, far from
	// its start, still meets it (on PostgreSQL through the range test, not
	// a scan from the block's start); the slot where it ends is free.
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	if _, err := f.book(desk, f.users[0], f.at(3, 9, 0), f.at(3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Book(ctx, calendar.Booking{ResourceID: desk.ID, By: byAdmin(f.users[0]), Kind: calendar.ReservationBlock,
		Start: f.at(4, 0, 0), End: f.at(9, 12, 0), Note: "Déménagement"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		start, end string
		free       bool
	}{
		{f.at(8, 9, 0), f.at(8, 10, 0), false},
		{f.at(9, 11, 0), f.at(9, 13, 0), false},
		{f.at(9, 12, 0), f.at(9, 13, 0), true},
		{f.at(3, 10, 0), f.at(3, 11, 0), true},
	} {
		_, err := f.book(desk, f.users[0], tt.start, tt.end)
		if tt.free && err != nil || !tt.free && !errors.Is(err, errs.ErrConflict) {
			t.Errorf("booking the desk %s–%s: %v (free: %v)", tt.start, tt.end, err, tt.free)
		}
	}
}

// race books the same slot from n goroutines and returns how many succeeded.
func race(t *testing.T, f *fixture, res *calendar.Resource, n, seats int) int {
	t.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
	)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			u := f.users[i%len(f.users)]
			_, err := f.svc.Book(context.Background(), calendar.Booking{ResourceID: res.ID, UserID: u, By: byMember(u),
				Start: f.at(3, 9, 0), End: f.at(3, 10, 0), Seats: seats})
			switch {
			case err == nil:
				mu.Lock()
				created++
				mu.Unlock()
			case errors.Is(err, errs.ErrConflict):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return created
}

func TestNoDoubleBookingUnderRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	if n := race(t, f, desk, 100, 1); n != 1 {
		t.Fatalf("%d of 100 racing bookings of one desk succeeded, want exactly 1", n)
	}
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 10})
	if n := race(t, f, zone, 100, 1); n != 10 {
		t.Fatalf("%d of 100 racing one-seat bookings of a 10-seat zone succeeded, want exactly 10", n)
	}
	var seats int
	if err := f.db.NewSelect().Table("reservations").ColumnExpr("COALESCE(SUM(seats), 0)").
		Where("resource_id = ? AND status <> 'cancelled'", zone.ID).Scan(context.Background(), &seats); err != nil || seats != 10 {
		t.Fatalf("seats taken in the zone = %d, %v; want 10", seats, err)
	}
}

// TestDatabaseRefusesOverlap bypasses the application: on PostgreSQL the
// exclusion constraint alone refuses a second overlapping reservation.
func TestDatabaseRefusesOverlap(t *testing.T) {
	t.Parallel()
	if !dbtest.Postgres() {
		t.Log("SQLite serialises writers; the exclusion constraint exists on PostgreSQL only")
		return
	}
	f := newFixture(t, 1)
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	insert := func(id, start, end string) error {
		_, err := f.db.ExecContext(context.Background(), `INSERT INTO reservations
			(id, resource_id, site_id, user_id, kind, status, exclusive, seats, starts_at, ends_at, busy_until, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'booking', 'confirmed', TRUE, 1, ?, ?, ?, ?, now(), now())`,
			id, desk.ID, f.site.ID, f.users[0], start, end, end, f.users[0])
		return err
	}
	if err := insert("01a21af7-0000-7000-8000-000000000001", "2026-03-03T09:00:00Z", "2026-03-03T10:00:00Z"); err != nil {
		t.Fatal(err)
	}
	if err := insert("01a21af7-0000-7000-8000-000000000002", "2026-03-03T09:30:00Z", "2026-03-03T10:30:00Z"); !db.IsExclusion(err) {
		t.Fatalf("overlapping insert: %v, want an exclusion violation", err)
	}
	if err := insert("01a21af7-0000-7000-8000-000000000003", "2026-03-03T10:00:00Z", "2026-03-03T11:00:00Z"); err != nil {
		t.Fatalf("adjacent insert refused: %v", err)
	}
}
