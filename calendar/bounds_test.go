package calendar_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// allDay is open around the clock, written out, so that a resource does
// not follow the fixture site's 08:00–20:00.
func allDay() calendar.OpeningHours {
	h := calendar.OpeningHours{}
	for _, d := range calendar.Weekdays {
		h[d] = [][2]string{{"00:00", "24:00"}}
	}
	return h
}

// problemOf fails t unless err is a 422 problem with code naming field.
func problemOf(t *testing.T, err error, field, code string) {
	t.Helper()
	var p *errs.Problem
	if !errors.As(err, &p) || !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("err = %v, want a 422 %s naming %s", err, code, field)
	}
	if p.Code != code || len(p.Fields) != 1 || p.Fields[0].Field != field {
		t.Fatalf("problem %s %v, want %s naming %s", p.Code, p.Fields, code, field)
	}
}

// reservationsOf lists every reservation of a resource, whatever its status.
func (f *fixture) reservationsOf(t *testing.T, res *calendar.Resource) []calendar.Reservation {
	t.Helper()
	rs, _, err := f.svc.ListReservations(context.Background(), bySystem(), calendar.ReservationFilter{ResourceID: res.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Every path that creates a reservation bounds its end by the horizon and
// its length by the resource's maximum: a member, a manager booking for a
// member, and a manager's block (a larger but finite bound). The observed
// attack was end: 9999-12-31, which blocked a room forever.
func TestReservationBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2) // now: Monday 2 March 2026, 07:00 in Paris
	member, mgr := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", OpeningHours: allDay()})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", OpeningHours: allDay()})
	room := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 8, OpeningHours: allDay(),
		Rules: calendar.Rules{MaxMinutes: 3 * 24 * 60, HorizonDays: 30}})
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 4, OpeningHours: allDay()})
	now := f.now.UTC()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	const day = 24 * time.Hour
	forever := "9999-12-31T00:00:00Z"
	bookFor := func(res *calendar.Resource, start, end string) calendar.Booking {
		return calendar.Booking{ResourceID: res.ID, UserID: member, By: byMember(member), Start: start, End: end}
	}
	onBehalf := func(res *calendar.Resource, start, end string) calendar.Booking {
		return calendar.Booking{ResourceID: res.ID, UserID: member, By: byAdmin(mgr), Start: start, End: end}
	}
	block := func(res *calendar.Resource, start, end string) calendar.Booking {
		return calendar.Booking{ResourceID: res.ID, By: byAdmin(mgr), Kind: calendar.ReservationBlock, Start: start, End: end}
	}
	tests := []struct {
		name        string
		b           calendar.Booking
		field, code string // empty: allowed
	}{
		{"member, the observed attack", bookFor(room, at(day), forever), "end", "beyond_horizon"},
		{"member, a desk to 9999", bookFor(desk, at(day), forever), "end", "beyond_horizon"},
		{"member, ending past the horizon", bookFor(room, at(30*day-time.Hour), at(30*day+time.Hour)), "end", "beyond_horizon"},
		{"member, ending at the horizon", bookFor(room, at(30*day-2*time.Hour), at(30*day)), "", ""},
		{"member, starting past the horizon", bookFor(room, at(31*day), at(31*day+time.Hour)), "start", "beyond_horizon"},
		{"member, a desk for a day", bookFor(desk, at(day), at(2*day)), "", ""},
		{"member, a desk for a day and a half hour", bookFor(desk, at(day), at(2*day+30*time.Minute)), "end", "too_long"},
		{"member, a zone seat for two days", bookFor(zone, at(day), at(3*day)), "end", "too_long"},
		{"member, a machine for eight hours", bookFor(laser, at(day), at(day+8*time.Hour)), "", ""},
		{"member, a machine for ten hours", bookFor(laser, at(2*day), at(2*day+10*time.Hour)), "end", "too_long"},
		{"member, a room for its three days", bookFor(room, at(3*day), at(6*day)), "", ""},
		{"member, a room for four days", bookFor(room, at(7*day), at(11*day)), "end", "too_long"},
		{"manager for a member, to 9999", onBehalf(desk, at(5*day), forever), "end", "beyond_horizon"},
		{"manager for a member, from 9999", onBehalf(desk, "9999-12-30T00:00:00Z", forever), "start", "beyond_horizon"},
		{"manager for a member, beyond theirs", onBehalf(room, at(100*day), at(100*day+time.Hour)), "", ""},
		{"manager for a member, past two years", onBehalf(room, at(731*day), at(731*day+time.Hour)), "start", "beyond_horizon"},
		{"manager for a member, three days of a desk", onBehalf(desk, at(10*day), at(13*day)), "end", "too_long"},
		{"block to 9999", block(room, at(40*day), forever), "end", "beyond_horizon"},
		{"block of a year", block(desk, at(20*day), at(385*day)), "end", "too_long"},
		{"block from year 1", block(desk, "0001-01-01T00:00:00Z", at(20*day)), "end", "too_long"},
		{"block over already", block(desk, at(-3*day), at(-2*day)), "end", "in_the_past"},
		{"block of a quarter", block(laser, at(10*day), at(102*day)), "", ""},
		{"block of a quarter and a day", block(zone, at(10*day), at(103*day)), "end", "too_long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := map[string]*calendar.Resource{desk.ID: desk, laser.ID: laser, room.ID: room, zone.ID: zone}[tt.b.ResourceID]
			before := len(f.reservationsOf(t, res))
			r, err := f.svc.Book(context.Background(), tt.b)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if _, err := f.svc.Cancel(context.Background(), calendar.Cancellation{ReservationID: r.ID, By: byAdmin(mgr)}); err != nil {
					t.Fatal(err)
				}
				return
			}
			problemOf(t, err, tt.field, tt.code)
			if after := len(f.reservationsOf(t, res)); after != before {
				t.Fatalf("a refused booking left %d reservations behind", after-before)
			}
		})
	}
}

// Moves, recurring reservations and waiting lists go through the same
// bounds.
func TestReservationBoundsOnEveryPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	member, mgr := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", OpeningHours: allDay()})
	forever := "9999-12-31T00:00:00Z"
	r, err := f.book(desk, member, f.at(3, 9, 0), f.at(3, 10, 0))
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		got, err := f.svc.GetReservation(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.StartsAt.Equal(r.StartsAt) || !got.EndsAt.Equal(r.EndsAt) {
			t.Fatalf("a refused move changed the reservation to %s–%s", got.StartsAt, got.EndsAt)
		}
	}
	t.Run("member moves the end to 9999", func(t *testing.T) {
		_, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: byMember(member), End: forever})
		problemOf(t, err, "end", "beyond_horizon")
		unchanged(t)
	})
	t.Run("manager moves the end to 9999", func(t *testing.T) {
		_, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: byAdmin(mgr), End: forever})
		problemOf(t, err, "end", "beyond_horizon")
		unchanged(t)
	})
	t.Run("member stretches it over three days", func(t *testing.T) {
		_, err := f.svc.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: byMember(member), End: f.at(6, 10, 0)})
		problemOf(t, err, "end", "too_long")
		unchanged(t)
	})
	t.Run("a series of occurrences to 9999", func(t *testing.T) {
		_, err := f.svc.BookSeries(ctx, calendar.SeriesBooking{
			Booking: calendar.Booking{ResourceID: desk.ID, UserID: member, By: byMember(member), Start: f.at(4, 9, 0), End: forever},
			RRule:   "FREQ=DAILY;COUNT=3", Mode: calendar.SkipConflicts})
		problemOf(t, err, "end", "too_long")
		if n := len(f.reservationsOf(t, desk)); n != 1 {
			t.Fatalf("a refused series left %d reservations", n-1)
		}
	})
	t.Run("a series of two-day occurrences", func(t *testing.T) {
		_, err := f.svc.BookSeries(ctx, calendar.SeriesBooking{
			Booking: calendar.Booking{ResourceID: desk.ID, UserID: member, By: byMember(member), Start: f.at(4, 9, 0), End: f.at(6, 9, 0)},
			RRule:   "FREQ=WEEKLY;COUNT=3", Mode: calendar.SkipConflicts})
		problemOf(t, err, "end", "too_long")
	})
	t.Run("a series running past the horizon", func(t *testing.T) {
		// Daily for 100 days from tomorrow: the occurrences past the 90
		// days of the horizon are refused, the others booked.
		res, err := f.svc.BookSeries(ctx, calendar.SeriesBooking{
			Booking: calendar.Booking{ResourceID: desk.ID, UserID: member, By: byMember(member), Start: f.at(3, 12, 0), End: f.at(3, 13, 0)},
			RRule:   "FREQ=DAILY;COUNT=100", Mode: calendar.SkipConflicts})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Created) != 89 || len(res.Skipped) != 11 {
			t.Fatalf("created %d, skipped %d; want 89 and 11", len(res.Created), len(res.Skipped))
		}
		for _, s := range res.Skipped {
			if s.Code != "beyond_horizon" {
				t.Fatalf("skipped %+v, want beyond_horizon", s)
			}
		}
		if _, err := f.svc.CancelSeries(ctx, byMember(member), res.Series.ID, time.Time{}, ""); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a waiting list for a slot to 9999", func(t *testing.T) {
		_, err := f.svc.JoinWaitlist(ctx, calendar.Booking{ResourceID: desk.ID, UserID: mgr, By: byMember(mgr), Start: f.at(3, 9, 0), End: forever}, true)
		problemOf(t, err, "end", "beyond_horizon")
	})
}

// Availability agrees with booking: over every pair of slot boundaries in a
// window, a booking succeeds exactly when availability offers a free
// interval holding it and its length is within the resource's minimum and
// maximum (availability applies neither: an interval may hold several
// bookings). Lengths are elapsed time, so on the DST days of Europe/Paris
// a local day is 23 or 25 hours: 00:00–24:00 on 25 October is over a day.
// The horizon bounds the end of a booking as availability's offers end
// there.
func TestAvailabilityAgreesWithBooking(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2) // now: Monday 2 March 2026, 07:00 in Paris
	ctx := context.Background()
	member, other := f.users[0], f.users[1]
	hourly := calendar.Rules{SlotMinutes: 60, MinMinutes: 120, HorizonDays: 365, BufferAfterMinutes: 60}
	local := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, f.paris) }
	tests := []struct {
		name     string
		rules    calendar.Rules
		from, to time.Time
		taken    [2]time.Time // a reservation of another member, if any
	}{
		{"spring forward, 23 hours", hourly, local(2026, 3, 29, 0), local(2026, 3, 30, 0),
			[2]time.Time{local(2026, 3, 29, 10), local(2026, 3, 29, 12)}},
		{"fall back, 25 hours", hourly, local(2026, 10, 25, 0), local(2026, 10, 26, 0),
			[2]time.Time{local(2026, 10, 25, 14), local(2026, 10, 25, 16)}},
		// The horizon is 30 days from now: 1 April 06:00 UTC, 08:00 in Paris.
		{"the horizon", calendar.Rules{SlotMinutes: 60, HorizonDays: 30, MaxMinutes: 240}, local(2026, 4, 1, 2), local(2026, 4, 1, 14), [2]time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: tt.name, OpeningHours: allDay(), Rules: tt.rules})
			rules := desk.Rules
			if !tt.taken[0].IsZero() {
				if _, err := f.book(desk, other, tt.taken[0].Format(time.RFC3339), tt.taken[1].Format(time.RFC3339)); err != nil {
					t.Fatal(err)
				}
			}
			av, err := f.svc.ResourceAvailability(ctx, bySystem(), desk.ID, calendar.AvailabilityQuery{From: tt.from, To: tt.to})
			if err != nil {
				t.Fatal(err)
			}
			offered := func(s, e time.Time) bool {
				for _, fi := range av.Free {
					if !fi.Start.After(s) && !e.After(fi.End) {
						return true
					}
				}
				return false
			}
			var grid []time.Time // slot boundaries, an hour apart in elapsed time as in local time
			for at := tt.from; !at.After(tt.to); at = at.Add(time.Hour) {
				grid = append(grid, at)
			}
			booked, refused := 0, 0
			for i, s := range grid {
				for _, e := range grid[i+1:] {
					d := e.Sub(s)
					want := offered(s, e) && d >= time.Duration(rules.MinMinutes)*time.Minute && d <= time.Duration(rules.MaxMinutes)*time.Minute
					r, err := f.book(desk, member, s.Format(time.RFC3339), e.Format(time.RFC3339))
					if (err == nil) != want {
						t.Fatalf("%s–%s (%s): booking says %v, availability %v (free %v)", s.In(f.paris).Format("Jan 2 15:04 MST"), e.In(f.paris).Format("15:04 MST"), d, err, want, av.Free)
					}
					if err != nil {
						refused++
						continue
					}
					booked++
					if _, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: byMember(member)}); err != nil {
						t.Fatal(err)
					}
				}
			}
			if booked == 0 || refused == 0 {
				t.Fatalf("booked %d and refused %d: the case tests nothing", booked, refused)
			}
		})
	}
}

// A reservation stored before the bounds, ending in 9999, still shows its
// resource busy, and a window past any horizon (or in year 1) is answered
// with nothing free rather than with instants out of range.
func TestAvailabilityFarFromNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	room := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 6, OpeningHours: allDay()})
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", OpeningHours: allDay()})
	forever := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	start := time.Date(2026, 3, 3, 9, 0, 0, 0, f.paris)
	f.exec(t, `INSERT INTO reservations (id, resource_id, site_id, user_id, kind, status, exclusive, seats, starts_at, ends_at, busy_until,
		note, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'booking', 'confirmed', ?, 1, ?, ?, ?, '', ?, ?, ?)`,
		"0192f1a4-7c3e-7b1a-9c55-2f4e8d6a1b20", room.ID, f.site.ID, f.users[0], true, start.UTC(), forever, forever, f.users[0], f.now.UTC(), f.now.UTC())
	day := calendar.AvailabilityQuery{From: time.Date(2026, 3, 4, 0, 0, 0, 0, f.paris), To: time.Date(2026, 3, 5, 0, 0, 0, 0, f.paris)}
	av, err := f.svc.ResourceAvailability(ctx, bySystem(), room.ID, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(av.Free) != 0 {
		t.Fatalf("a room taken until 9999 shows free: %v", av.Free)
	}
	if _, err := f.book(room, f.users[0], time.Date(2026, 3, 4, 9, 0, 0, 0, f.paris).Format(time.RFC3339), time.Date(2026, 3, 4, 10, 0, 0, 0, f.paris).Format(time.RFC3339)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("booking the room taken until 9999: %v", err)
	}
	for _, q := range []calendar.AvailabilityQuery{
		{From: time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(1, 2, 1, 0, 0, 0, 0, time.UTC), To: time.Date(1, 2, 28, 0, 0, 0, 0, time.UTC)},
		{From: time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2029, 1, 31, 0, 0, 0, 0, time.UTC)},
	} {
		all, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, q)
		if err != nil {
			t.Fatalf("%s–%s: %v", q.From, q.To, err)
		}
		for _, a := range all {
			if len(a.Free) != 0 {
				t.Fatalf("%s–%s: %s free %v", q.From, q.To, a.Resource.Name, a.Free)
			}
		}
	}
	// Near now, the desk is free as ever.
	av, err = f.svc.ResourceAvailability(ctx, bySystem(), desk.ID, day)
	if err != nil || len(av.Free) != 1 {
		t.Fatalf("the desk's day: %v, %v", av, err)
	}
}

// Rules stored before the bounds — max_minutes 0 for "no limit", and
// numbers nothing refused, such as 2^62 minutes of notice, which overflowed
// into no notice at all — are brought within them by the migration
// 20261205000400, after which the rules hold again.
func TestRulesStoredBeforeTheBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	member := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", OpeningHours: allDay()})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", OpeningHours: allDay()})
	long := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 4, OpeningHours: allDay(), Rules: calendar.Rules{SlotMinutes: 60, MinMinutes: 2880}})
	legacy := map[string]string{
		desk.ID:  `{"slot_minutes": 30, "min_minutes": 30, "max_minutes": 0, "horizon_days": 90, "min_notice_minutes": 4611686018427387904, "cancel_deadline_minutes": 4611686018427387904, "buffer_after_minutes": 0}`,
		laser.ID: `{"slot_minutes": 30, "min_minutes": 30, "max_minutes": 0, "horizon_days": 90, "min_notice_minutes": 0, "cancel_deadline_minutes": 0, "buffer_after_minutes": 0}`,
		long.ID:  `{"slot_minutes": 60, "min_minutes": 2880, "max_minutes": 0, "horizon_days": 90, "min_notice_minutes": 0, "cancel_deadline_minutes": 0, "buffer_after_minutes": 0}`,
	}
	for id, rules := range legacy {
		f.exec(t, "UPDATE resources SET rules = ? WHERE id = ?", rules, id)
	}
	planID := "0192f1a4-7c3e-7b1a-9c55-2f4e8d6a1b21"
	f.exec(t, `INSERT INTO plans (id, site_id, kind, name, price_cents, vat_rate_bp, includes, created_at, updated_at)
		VALUES (?, ?, 'membership', 'Résident', 50000, 2000, ?, ?, ?)`, planID, f.site.ID,
		`{"resource_kinds": ["desk"], "quotas": {"max_concurrent_reservations": 4611686018427387904, "max_minutes_per_day": 600, "horizon_days": 4611686018427387904}}`,
		f.now.UTC(), f.now.UTC())
	// Today's code would book the desk with 2^62 minutes of notice an hour
	// from now: the rule had wrapped round into none.

	migrator := migrate.NewMigrator(f.db, db.Migrations)
	applied, err := migrator.AppliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var step *migrate.Migration
	for _, m := range applied {
		if m.Name == "20261205000400" {
			step = &m
		}
	}
	if step == nil {
		t.Fatal("no migration 20261205000400")
	}
	if err := migrator.MarkUnapplied(ctx, step); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, f.db); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		res                          *calendar.Resource
		minMinutes, maxMinutes, note int
	}{
		{desk, 30, 24 * 60, calendar.MaxNoticeMinutes},
		{laser, 30, 8 * 60, 0},
		{long, 2880, 2880, 0},
	} {
		got, err := f.svc.GetResource(ctx, tt.res.ID)
		if err != nil {
			t.Fatal(err)
		}
		r := got.Rules
		if r.MinMinutes != tt.minMinutes || r.MaxMinutes != tt.maxMinutes || r.MinNoticeMinutes != tt.note || r.CancelDeadlineMinutes != tt.note || got.Version <= tt.res.Version {
			t.Errorf("%s after the migration: %+v (version %d → %d)", got.Name, r, tt.res.Version, got.Version)
		}
	}
	_, err = f.book(desk, member, f.now.Add(time.Hour).Format(time.RFC3339), f.now.Add(2*time.Hour).Format(time.RFC3339))
	problemOf(t, err, "start", "under_minimum_notice")

	var includes string
	if err := f.db.NewRaw("SELECT CAST(includes AS TEXT) FROM plans WHERE id = ?", planID).Scan(ctx, &includes); err != nil {
		t.Fatal(err)
	}
	var in struct {
		Kinds  []string `json:"resource_kinds"`
		Quotas map[string]int64
	}
	if err := json.Unmarshal([]byte(includes), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Kinds) != 1 || in.Quotas["max_concurrent_reservations"] != 1000 || in.Quotas["horizon_days"] != calendar.MaxHorizonDays || in.Quotas["max_minutes_per_day"] != 600 {
		t.Fatalf("plan's includes after the migration: %s", includes)
	}
}

// Every rule is bounded: out of range is a validation error naming it, and
// no resource is created.
func TestRuleBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	const huge = 1 << 62
	tests := []struct {
		field string
		rules calendar.Rules
	}{
		{"rules.min_notice_minutes", calendar.Rules{MinNoticeMinutes: huge}},
		{"rules.min_notice_minutes", calendar.Rules{MinNoticeMinutes: calendar.MaxNoticeMinutes + 1}},
		{"rules.cancel_deadline_minutes", calendar.Rules{CancelDeadlineMinutes: huge}},
		{"rules.cancel_deadline_minutes", calendar.Rules{CancelDeadlineMinutes: -1}},
		{"rules.min_minutes", calendar.Rules{MinMinutes: huge}},
		{"rules.min_minutes", calendar.Rules{MinMinutes: calendar.MaxBookingMinutes + 30}},
		{"rules.max_minutes", calendar.Rules{MaxMinutes: huge}},
		{"rules.max_minutes", calendar.Rules{MaxMinutes: calendar.MaxBookingMinutes + 30}},
		{"rules.max_minutes", calendar.Rules{MaxMinutes: -30}},
		{"rules.horizon_days", calendar.Rules{HorizonDays: calendar.MaxHorizonDays + 1}},
		{"rules.slot_minutes", calendar.Rules{SlotMinutes: huge}},
		{"rules.buffer_after_minutes", calendar.Rules{BufferAfterMinutes: huge}},
		{"rules.late_cancel_refund_percent", calendar.Rules{LateCancelRefundPercent: huge}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := f.svc.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", Rules: tt.rules})
			var ve *errs.ValidationError
			if !errors.As(err, &ve) || len(ve.Fields) == 0 || ve.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want a validation error naming %s", err, tt.field)
			}
			if rs, _ := f.svc.ListResources(ctx, bySystem(), f.site.ID, calendar.ResourceFilter{IncludeRetired: true}); len(rs) != 0 {
				t.Fatalf("a refused resource was created: %+v", rs)
			}
		})
	}
	// At the bounds, and max_minutes left at 0, the kind's default.
	for kind, want := range map[string]int{calendar.KindDesk: 24 * 60, calendar.KindMachine: 8 * 60} {
		r, err := f.svc.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: kind, Name: kind,
			Rules: calendar.Rules{MinNoticeMinutes: calendar.MaxNoticeMinutes, CancelDeadlineMinutes: calendar.MaxNoticeMinutes, HorizonDays: calendar.MaxHorizonDays}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Rules.MaxMinutes != want {
			t.Fatalf("%s: max_minutes %d, want %d", kind, r.Rules.MaxMinutes, want)
		}
	}
	if r, err := f.svc.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 4,
		Rules: calendar.Rules{MinMinutes: 2 * 24 * 60, MaxMinutes: calendar.MaxBookingMinutes}}); err != nil || r.Rules.MaxMinutes != calendar.MaxBookingMinutes {
		t.Fatalf("a room for up to 31 days: %+v, %v", r, err)
	}
	if r, err := f.svc.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle 2", Capacity: 4,
		Rules: calendar.Rules{MinMinutes: 2 * 24 * 60}}); err != nil || r.Rules.MaxMinutes != 2*24*60 {
		t.Fatalf("a room for two days at least: %+v, %v", r, err)
	}
}
