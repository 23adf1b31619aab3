package calendar_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
)

func TestSeriesKeepsWallClockAcrossDST(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", Rules: calendar.Rules{HorizonDays: 365}})
	// Daily 09:00–12:00 from 25 March to 3 April: the clocks change on 29 March.
	res, err := f.svc.BookSeries(context.Background(), calendar.SeriesBooking{
		Booking: calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: "2026-03-25T09:00", End: "2026-03-25T12:00"},
		RRule:   "FREQ=DAILY;COUNT=10",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 10 {
		t.Fatalf("created %d occurrences, want 10", len(res.Created))
	}
	for _, r := range res.Created {
		s, e := r.StartsAt.In(f.paris), r.EndsAt.In(f.paris)
		if s.Hour() != 9 || s.Minute() != 0 || e.Hour() != 12 {
			t.Errorf("occurrence %s–%s is not 09:00–12:00 local", s, e)
		}
		if r.SeriesID == nil || *r.SeriesID != res.Series.ID {
			t.Errorf("occurrence not tied to its series")
		}
	}
	// Before the change 09:00 is 08:00 UTC; after it, 07:00 UTC.
	if h := res.Created[0].StartsAt.UTC().Hour(); h != 8 {
		t.Errorf("25 March 09:00 Paris = %02d:00 UTC, want 08:00", h)
	}
	if h := res.Created[9].StartsAt.UTC().Hour(); h != 7 {
		t.Errorf("3 April 09:00 Paris = %02d:00 UTC, want 07:00", h)
	}
}

func TestSeriesConflictModes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	a, b := f.users[0], f.users[1]
	room := f.resource(t, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 6, Rules: calendar.Rules{HorizonDays: 365}})
	// b holds Tuesday 17 March 10:00–11:00.
	if _, err := f.book(room, b, f.at(17, 10, 0), f.at(17, 11, 0)); err != nil {
		t.Fatal(err)
	}
	weekly := calendar.SeriesBooking{
		Booking: calendar.Booking{ResourceID: room.ID, UserID: a, By: byMember(a), Start: f.at(3, 9, 0), End: f.at(3, 12, 0)},
		RRule:   "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331T235959Z", // 3, 10, 17, 24, 31 March
	}
	_, err := f.svc.BookSeries(ctx, weekly)
	var p *errs.Problem
	if !errors.As(err, &p) || p.Code != "occurrences_unavailable" || !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("all_or_nothing with a conflict: %v", err)
	}
	un := p.Extra["unavailable"].([]calendar.Unavailable)
	if len(un) != 1 || un[0].Code != "slot_taken" || !un[0].Start.Equal(time.Date(2026, 3, 17, 9, 0, 0, 0, f.paris)) {
		t.Fatalf("unavailable = %+v", un)
	}
	rs, _, _ := f.svc.ListReservations(ctx, bySystem(), calendar.ReservationFilter{UserID: a, Limit: 100})
	if len(rs) != 0 {
		t.Fatalf("all_or_nothing left %d reservations", len(rs))
	}
	weekly.Mode = calendar.SkipConflicts
	res, err := f.svc.BookSeries(ctx, weekly)
	if err != nil || len(res.Created) != 4 || len(res.Skipped) != 1 {
		t.Fatalf("skip_conflicts = %+v, %v", res, err)
	}
	// Cancel this and following from 24 March.
	cancelled, err := f.svc.CancelSeries(ctx, byMember(a), res.Series.ID, time.Date(2026, 3, 24, 0, 0, 0, 0, f.paris), "")
	if err != nil || len(cancelled) != 2 {
		t.Fatalf("cancel this and following: %d, %v", len(cancelled), err)
	}
	// Move the rest (3 and 10 March) to 14:00–17:00.
	moved, err := f.svc.MoveSeries(ctx, byMember(a), res.Series.ID, time.Time{}, "14:00", "17:00")
	if err != nil || len(moved) != 2 {
		t.Fatalf("move series: %d, %v", len(moved), err)
	}
	for _, r := range moved {
		if r.StartsAt.In(f.paris).Hour() != 14 || r.EndsAt.In(f.paris).Hour() != 17 {
			t.Errorf("moved occurrence at %s", r.StartsAt.In(f.paris))
		}
	}
}

func TestSeriesLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", Rules: calendar.Rules{HorizonDays: 730}})
	for _, tc := range []struct{ rule, code string }{
		{"FREQ=DAILY;COUNT=367", "too_many_occurrences"},
		{"FREQ=DAILY", "unbounded_rrule"},
		{"FREQ=HOURLY;COUNT=3", "invalid_rrule"},
		{"FREQ=SOMETIMES", "invalid_rrule"},
		// No one books beyond MaxHorizonDays: a rule may not reach further.
		{"FREQ=WEEKLY;UNTIL=20300101T000000Z", "beyond_horizon"},
		{"FREQ=YEARLY;INTERVAL=5;COUNT=2", "beyond_horizon"},
		// A rule matching no date is not searched for until the year 9999.
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=3", "beyond_horizon"},
		// Within the horizon, a rule ending by UNTIL is fine (the one
		// success of this table: its occurrences would collide with
		// another's).
		{"FREQ=WEEKLY;UNTIL=20260401T000000Z", ""},
	} {
		_, err := f.svc.BookSeries(context.Background(), calendar.SeriesBooking{
			Booking: calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: f.at(3, 9, 0), End: f.at(3, 10, 0)},
			RRule:   tc.rule,
		})
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.rule, err)
			}
			continue
		}
		if got := ruleCode(err); got != tc.code {
			t.Errorf("%s: code %s (%v), want %s", tc.rule, got, err, tc.code)
		}
	}
}

func TestSeriesAcrossFallBack(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 10, 1, 7, 0, 0, 0, paris)
	f := newFixtureWith(t, 1, calendar.Config{Events: events.Discard, Now: func() time.Time { return now }}, now)
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	// Daily 09:00–10:00 from 23 to 27 October: the clocks go back on the 25th.
	res, err := f.svc.BookSeries(context.Background(), calendar.SeriesBooking{
		Booking: calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: "2026-10-23T09:00", End: "2026-10-23T10:00"},
		RRule:   "FREQ=DAILY;COUNT=5",
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Created {
		if s := r.StartsAt.In(paris); s.Hour() != 9 || r.EndsAt.Sub(r.StartsAt) != time.Hour {
			t.Errorf("occurrence %d at %s for %s, want 09:00 for 1h", i, s, r.EndsAt.Sub(r.StartsAt))
		}
	}
	if h := res.Created[0].StartsAt.UTC().Hour(); h != 7 {
		t.Errorf("23 October 09:00 Paris = %02d:00 UTC, want 07:00", h)
	}
	if h := res.Created[4].StartsAt.UTC().Hour(); h != 8 {
		t.Errorf("27 October 09:00 Paris = %02d:00 UTC, want 08:00", h)
	}
}
