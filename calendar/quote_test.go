package calendar_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// counts is the number of rows of the tables a booking writes.
func (f *fixture) counts(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"reservations", "reservation_series", "river_job"} {
		n, err := f.db.NewSelect().Table(table).Count(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

// A quote gives the booking's own decision: the refusal Book answers, or
// a booking Book then makes; what Book fails on as a fault of the request,
// Quote fails on too. Nothing it does stays behind.
func TestQuoteDecidesAsBook(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	u, other := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk 1",
		Rules: calendar.Rules{SlotMinutes: 30, MinMinutes: 60, MaxMinutes: 240, HorizonDays: 14, MinNoticeMinutes: 60, CancelDeadlineMinutes: 1440}})
	q, _ := f.svc.CreateQualification(ctx, bySystem(), f.site.ID, "Laser induction", "")
	qid := q.ID
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", QualificationID: &qid})
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 2})
	if _, err := f.svc.AddClosure(ctx, bySystem(), f.site.ID, time.Date(2026, 3, 6, 0, 0, 0, 0, f.paris), time.Date(2026, 3, 7, 0, 0, 0, 0, f.paris), "Inventaire"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(desk, other, f.at(4, 9, 0), f.at(4, 10, 0)); err != nil {
		t.Fatal(err)
	}
	for _, seat := range []string{u, other} {
		if _, err := f.book(zone, seat, f.at(5, 9, 0), f.at(5, 12, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name       string
		res        *calendar.Resource
		start, end string
		seats      int
		refusal    string // the code of the refusal, when Book refuses
		fault      bool   // Book fails on the request itself
	}{
		{"bookable", desk, f.at(3, 10, 0), f.at(3, 11, 0), 0, "", false},
		{"bookable zone seat", zone, f.at(3, 10, 0), f.at(3, 11, 0), 2, "", false},
		{"in the past", desk, f.at(1, 10, 0), f.at(1, 11, 0), 0, "in_the_past", false},
		{"beyond horizon", desk, f.at(20, 10, 0), f.at(20, 11, 0), 0, "beyond_horizon", false},
		{"under notice", desk, f.at(2, 7, 30), f.at(2, 8, 30), 0, "under_minimum_notice", false},
		{"off granularity", desk, f.at(3, 10, 15), f.at(3, 11, 15), 0, "off_granularity", false},
		{"too short", desk, f.at(3, 10, 0), f.at(3, 10, 30), 0, "too_short", false},
		{"too long", desk, f.at(3, 10, 0), f.at(3, 14, 30), 0, "too_long", false},
		{"outside hours", desk, f.at(3, 19, 0), f.at(3, 21, 0), 0, "outside_opening_hours", false},
		{"closure", desk, f.at(6, 10, 0), f.at(6, 11, 0), 0, "closed", false},
		{"qualification", laser, f.at(3, 10, 0), f.at(3, 11, 0), 0, "qualification_required", false},
		{"over capacity", zone, f.at(3, 10, 0), f.at(3, 11, 0), 3, "over_capacity", false},
		{"taken", desk, f.at(4, 9, 30), f.at(4, 10, 30), 0, "slot_taken", false},
		{"zone full", zone, f.at(5, 11, 0), f.at(5, 13, 0), 0, "slot_taken", false},
		{"end before start", desk, f.at(3, 10, 0), f.at(3, 9, 0), 0, "", true},
		{"seats on a desk", desk, f.at(3, 10, 0), f.at(3, 11, 0), 2, "", true},
		{"garbage time", desk, "tomorrow", f.at(3, 11, 0), 0, "", true},
		{"nonexistent local time", desk, "2026-03-29T02:30", "2026-03-29T04:00", 0, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := calendar.Booking{ResourceID: tt.res.ID, By: byMember(u), Start: tt.start, End: tt.end, Seats: tt.seats}
			before := f.counts(t)
			quote, qerr := f.svc.Quote(ctx, b)
			if after := f.counts(t); !reflect.DeepEqual(before, after) {
				t.Fatalf("the quote wrote: %v, then %v", before, after)
			}
			r, berr := f.svc.Book(ctx, b)
			switch {
			case tt.fault:
				if berr == nil || qerr == nil || !reflect.DeepEqual(qerr, berr) {
					t.Fatalf("quote failed with %v, the booking with %v", qerr, berr)
				}
			case tt.refusal != "":
				if qerr != nil || berr == nil || ruleCode(berr) != tt.refusal || !reflect.DeepEqual(quote.Refusal, berr) || quote.Price != nil {
					t.Fatalf("quote %+v, %v; the booking failed with %v", quote, qerr, berr)
				}
				start, _ := calendar.ResolveTime("start", tt.start, f.paris)
				if !quote.Start.Equal(start) {
					t.Fatalf("a refused quote starts at %v, asked %v", quote.Start, start)
				}
			default:
				if qerr != nil || berr != nil || quote.Refusal != nil {
					t.Fatalf("quote %+v, %v; the booking failed with %v", quote, qerr, berr)
				}
				// No guard: nothing is asked.
				if quote.Price == nil || *quote.Price != (calendar.Price{CoveredBy: calendar.CoveredByFree}) ||
					!quote.Start.Equal(r.StartsAt) || !quote.End.Equal(r.EndsAt) || quote.Seats != r.Seats ||
					!quote.CancellationDeadline.Equal(r.StartsAt.Add(-time.Duration(tt.res.Rules.CancelDeadlineMinutes)*time.Minute)) {
					t.Fatalf("quote %+v, booked %+v", quote, r)
				}
			}
		})
	}
	// An unknown resource and a member booking for another are the
	// booking's own errors.
	for _, b := range []calendar.Booking{
		{ResourceID: "0192f1a4-7c3e-7b1a-9c55-2f4e8d6a1b20", By: byMember(u), Start: f.at(3, 10, 0), End: f.at(3, 11, 0)},
		{ResourceID: desk.ID, UserID: other, By: byMember(u), Start: f.at(3, 14, 0), End: f.at(3, 15, 0)},
	} {
		_, qerr := f.svc.Quote(ctx, b)
		_, berr := f.svc.Book(ctx, b)
		if qerr == nil || !reflect.DeepEqual(qerr, berr) {
			t.Fatalf("quote failed with %v, the booking with %v", qerr, berr)
		}
	}
}

// The quote of a cancellation follows Cancel: the deadline, lateness, and
// a reservation over refused with Cancel's own error.
func TestQuoteCancellation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	u, other := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk", Rules: calendar.Rules{CancelDeadlineMinutes: 120}})
	early, err := f.book(desk, u, f.at(2, 8, 0), f.at(2, 9, 0)) // its deadline, 06:00, has passed
	if err != nil {
		t.Fatal(err)
	}
	later, err := f.book(desk, u, f.at(3, 8, 0), f.at(3, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.svc.QuoteCancellation(ctx, byMember(u), later.ID)
	if err != nil || q.Refusal != nil || q.Late || q.Refund == nil || !q.Deadline.Equal(later.StartsAt.Add(-2*time.Hour)) {
		t.Fatalf("later: %+v, %v", q, err)
	}
	q, err = f.svc.QuoteCancellation(ctx, byMember(u), early.ID)
	if err != nil || q.Refusal != nil || !q.Late {
		t.Fatalf("early: %+v, %v", q, err)
	}
	cancelled, err := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: early.ID, By: byMember(u)})
	if err != nil || !cancelled.LateCancel {
		t.Fatalf("cancel: %+v, %v", cancelled, err)
	}
	// Another member may not know it exists, as for Cancel.
	_, qerr := f.svc.QuoteCancellation(ctx, byMember(other), later.ID)
	_, cerr := f.svc.Cancel(ctx, calendar.Cancellation{ReservationID: later.ID, By: byMember(other)})
	if !errors.Is(qerr, errs.ErrNotFound) || !reflect.DeepEqual(qerr, cerr) {
		t.Fatalf("another member: quote %v, cancel %v", qerr, cerr)
	}
	// Over: refused as Cancel refuses.
	late := f.clock(time.Date(2026, 3, 3, 12, 0, 0, 0, f.paris))
	q, err = late.QuoteCancellation(ctx, byMember(u), later.ID)
	_, cerr = late.Cancel(ctx, calendar.Cancellation{ReservationID: later.ID, By: byMember(u)})
	if err != nil || q.Refusal == nil || q.Refund != nil || !reflect.DeepEqual(q.Refusal, cerr) || ruleCode(cerr) != "already_over" {
		t.Fatalf("over: %+v, %v; cancel %v", q, err, cerr)
	}
}
