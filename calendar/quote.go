package calendar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// What a booking would cost, or why it would be refused, and what
// cancelling one would give back: asked before confirming, changing
// nothing (the members' app shows it before the member commits).

// How a booking is paid for (Price.CoveredBy), from the dearest means it
// uses: a booking paid partly with included minutes and partly with credit
// is covered by credits.
const (
	CoveredByPlan            = "plan"             // a membership, day pass or plan includes it without counting time
	CoveredByIncludedMinutes = "included_minutes" // included minutes of a membership's month or of a pack
	CoveredByCredits         = "credits"          // the member's credit (hour credit, or money credit at the price)
	CoveredByPayment         = "payment"          // a pay-per-use charge, to be paid
	CoveredByFree            = "free"             // nothing is asked (no entitlement check, or a manager's block)
)

// Price is what a booking costs its member, as the guard decided it in the
// booking's own transaction.
type Price struct {
	CoveredBy string
	// IncludedMinutesUsed: minutes taken from a membership's month or a
	// pack; IncludedMinutesLeft what that allowance has left after them
	// (nil when none was used).
	IncludedMinutesUsed int
	IncludedMinutesLeft *int
	// CreditMinutesUsed: hour credit spent, in minutes; CreditCentsUsed:
	// money credit spent, TTC.
	CreditMinutesUsed int64
	CreditCentsUsed   int64
	// AmountCents: the pay-per-use charge, TTC, at VATRateBP (the rate of
	// the charge, or of the money credit spent).
	AmountCents int64
	VATRateBP   int
}

// Refund is what cancelling a booking gives back, as the guard's
// ReleaseBooking would.
type Refund struct {
	IncludedMinutesReturned int
	// ChargeVoidedCents: pay-per-use charges still open that the member no
	// longer owes; ChargeKeptCents: those that stay owed (a late
	// cancellation) or were paid already.
	ChargeVoidedCents int64
	ChargeKeptCents   int64
	// CreditReturnedPercent: the share of the credit the booking was paid
	// with (if any) that goes back to the member.
	CreditReturnedPercent int
}

// Pricer says what the guard decides, without changing anything the
// caller keeps: billing implements it beside the Guard. PriceBooking is
// the guard's CheckBooking itself (run in a transaction Quote rolls back)
// that also says what the booking cost; PriceRelease says what
// ReleaseBooking would give back.
type Pricer interface {
	PriceBooking(ctx context.Context, tx bun.IDB, r *Reservation, res *Resource, site *Site) (*Price, error)
	PriceRelease(ctx context.Context, idb bun.IDB, r *Reservation, late bool) (*Refund, error)
}

// Quote is the answer to "what if I booked this?".
type Quote struct {
	// Refusal is the error the booking would have answered (a rule, a
	// taken slot, an entitlement), or nil when it may be made.
	Refusal    error
	ResourceID string
	Start, End time.Time
	Seats      int
	// Price is nil when refused.
	Price *Price
	// CancellationDeadline: cancelling after it is late (see Cancel).
	CancellationDeadline time.Time
}

// quoteRun is what a quoted booking's guard found (see Booking.quote).
type quoteRun struct{ price *Price }

// errQuoted rolls a quote's transaction back once it has its answer.
var errQuoted = errors.New("quoted: roll back")

// Quote answers what booking b would do — the same decision, on the same
// code path — and changes nothing: no reservation, event, job or hold
// stays behind.
//
// It runs the booking itself, Book's step-by-step path, in a transaction
// that is always rolled back, rather than the checks alone: the guard's
// decision depends on what the booking writes (included minutes and credit
// taken, a charge, a series' earlier occurrences), and only running it
// makes the answer the booking's. The cost is a booking's: on PostgreSQL
// the quote takes the resource's lock (so it answers on fresh rows, after
// any booking of the resource being written, and never meets one in the
// exclusion constraint) and locks the member's memberships, packs and
// credit for its few milliseconds; on SQLite it holds the single write
// lock as long. Nothing it wrote commits; a rolled-back job insert may
// leave a gap in River's job ids, which mean nothing.
func (svc *Service) Quote(ctx context.Context, b Booking) (*Quote, error) {
	if svc.guarded && svc.pricer == nil {
		return nil, errors.New("calendar: Quote needs Config.Pricer beside Config.Guard")
	}
	b.Claim, b.Response = nil, nil
	run := &quoteRun{}
	b.quote = run
	q := &Quote{ResourceID: b.ResourceID}
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockResource(ctx, tx, b.ResourceID); err != nil {
			return err
		}
		// Read before booking: a refusal may leave PostgreSQL's
		// transaction unable to read further.
		res, site, rerr := getResourceAndSite(ctx, tx, b.ResourceID)
		r, err := svc.book(ctx, tx, b, nil)
		if err != nil && !isRefusal(err) {
			return err
		}
		if rerr != nil {
			return rerr
		}
		if err != nil {
			// Refused after its times resolved (an error resolving them is
			// not a refusal): say them as the booking read them.
			q.Refusal = err
			if q.Start, err = ResolveTime("start", b.Start, site.Location()); err != nil {
				return err
			}
			if q.End, err = ResolveTime("end", b.End, site.Location()); err != nil {
				return err
			}
			q.Seats = max(b.Seats, 1)
		} else {
			q.Start, q.End, q.Seats = r.StartsAt, r.EndsAt, r.Seats
			q.Price = priceOf(run)
		}
		q.CancellationDeadline = cancelDeadline(q.Start, res)
		return errQuoted
	})
	if !errors.Is(err, errQuoted) {
		if err == nil {
			err = errors.New("calendar: quote transaction committed")
		}
		return nil, err
	}
	return q, nil
}

// priceOf is the price a quoted booking's guard found.
func priceOf(run *quoteRun) *Price {
	if run.price == nil {
		// The guard was not asked (a block) or allows everything.
		return &Price{CoveredBy: CoveredByFree}
	}
	return run.price
}

// QuoteMove answers what MoveReservation(m) would do — the move itself,
// run in a transaction that is always rolled back, as Quote does for a
// booking — so that a member sees the new slot's price (after what the
// old one took is given back) or why it is refused before moving. Who may
// not change the reservation gets MoveReservation's error, not a refusal.
func (svc *Service) QuoteMove(ctx context.Context, m Move) (*Quote, error) {
	if svc.guarded && svc.pricer == nil {
		return nil, errors.New("calendar: QuoteMove needs Config.Pricer beside Config.Guard")
	}
	run := &quoteRun{}
	var q *Quote
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, manager, err := lockForMove(ctx, tx, m)
		if err != nil {
			return err
		}
		// Read before moving: a refusal may leave PostgreSQL's transaction
		// unable to read further, and the move changes r.
		b := movedBooking(r, m, manager)
		res, site, err := getResourceAndSite(ctx, tx, b.ResourceID)
		if errors.Is(err, errs.ErrNotFound) && m.changesResource(r) {
			err = errNoSuchResource()
		}
		if err != nil {
			return err
		}
		q = &Quote{ResourceID: b.ResourceID}
		moved, err := svc.move(ctx, tx, r, manager, m, run)
		if err != nil && !isRefusal(err) {
			return err
		}
		if err != nil {
			q.Refusal = err
			if q.Start, err = ResolveTime("start", b.Start, site.Location()); err != nil {
				return err
			}
			if q.End, err = ResolveTime("end", b.End, site.Location()); err != nil {
				return err
			}
			q.Seats = max(b.Seats, 1)
		} else {
			q.Start, q.End, q.Seats = moved.StartsAt, moved.EndsAt, moved.Seats
			q.Price = priceOf(run)
		}
		q.CancellationDeadline = cancelDeadline(q.Start, res)
		return errQuoted
	})
	if !errors.Is(err, errQuoted) {
		if err == nil {
			err = errors.New("calendar: quote transaction committed")
		}
		return nil, err
	}
	return q, nil
}

// SeriesQuote is the answer to "what if I booked this series?".
type SeriesQuote struct {
	// Refusal is the error booking the series would answer (some
	// occurrences cannot be booked, see BookSeries), or nil.
	Refusal error
	// Occurrences: each one's answer, in date order, as booked one after
	// the other in the series' transaction (an occurrence may take the
	// last included minutes from the next).
	Occurrences []OccurrenceQuote
}

// OccurrenceQuote is the quote of one occurrence of a series.
type OccurrenceQuote struct {
	Start, End time.Time
	// Refusal is why this occurrence cannot be booked, or nil; Price is
	// then nil.
	Refusal              error
	Price                *Price
	CancellationDeadline time.Time
}

// QuoteSeries answers what BookSeries would do with sb, and changes
// nothing, as Quote does for a single booking: the series is booked in a
// transaction that is always rolled back.
func (svc *Service) QuoteSeries(ctx context.Context, sb SeriesBooking) (*SeriesQuote, error) {
	if svc.guarded && svc.pricer == nil {
		return nil, errors.New("calendar: QuoteSeries needs Config.Pricer beside Config.Guard")
	}
	if err := checkSeriesBooking(&sb); err != nil {
		return nil, err
	}
	sb.Claim, sb.Response = nil, nil
	sb.quote = &quoteRun{} // each occurrence gets its own (tryOccurrences)
	var q *SeriesQuote
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		ps, err := svc.prepareSeries(ctx, tx, &sb)
		if err != nil {
			return err
		}
		out, err := svc.tryOccurrences(ctx, tx, ps.res, ps.site, sb, ps.series, ps.starts, ps.length)
		if err != nil {
			return err
		}
		q = &SeriesQuote{Refusal: seriesRefusal(out, sb.Mode, len(ps.starts)), Occurrences: out.quotes}
		return errQuoted
	})
	if !errors.Is(err, errQuoted) {
		if err == nil {
			err = errors.New("calendar: quote transaction committed")
		}
		return nil, err
	}
	return q, nil
}

// isRefusal reports whether err, met while booking, is the booking's
// refusal — a named rule of the resource, a taken slot, an entitlement —
// rather than a fault of the request: malformed or nonexistent times, an
// unknown resource, a booking the caller may not make for someone. A
// quote answers the first and fails with the second, as the booking does.
func isRefusal(err error) bool {
	var p *errs.Problem
	if !errors.As(err, &p) || errors.Is(p.Kind, errs.ErrNotFound) {
		return false
	}
	switch p.Code {
	case "resource_not_found", "managers_only", "nonexistent_local_time", "ambiguous_local_time", "end_before_start", "seats_invalid":
		return false
	}
	return true
}

// guardBooking asks the guard about r, which b is about to become; for a
// quote (b.quote), it asks the Pricer, which decides as the guard does and
// says what it cost.
func (svc *Service) guardBooking(ctx context.Context, tx bun.IDB, b Booking, r *Reservation, res *Resource, site *Site) error {
	if b.quote == nil || svc.pricer == nil {
		return svc.guard.CheckBooking(ctx, tx, r, res, site)
	}
	p, err := svc.pricer.PriceBooking(ctx, tx, r, res, site)
	if err != nil {
		return err
	}
	b.quote.price = p
	return nil
}

// CancellationQuote is the answer to "what if I cancelled this?".
type CancellationQuote struct {
	Reservation *Reservation
	// Refusal is the error cancelling would answer, or nil.
	Refusal error
	// Deadline: cancelling after it is late; Late: cancelling now would be.
	Deadline time.Time
	Late     bool
	// Refund is nil when refused, and gives nothing back for a
	// reservation cancelled already (cancelling it again changes nothing).
	Refund *Refund
}

// QuoteCancellation says what cancelling reservationID now would do, for
// whoever may cancel it (mayChangeReservation, as Cancel), changing
// nothing: the same deadline and lateness as cancel, and what the guard's
// ReleaseBooking would give back.
func (svc *Service) QuoteCancellation(ctx context.Context, p *identity.Principal, reservationID string) (*CancellationQuote, error) {
	r, err := getReservation(ctx, svc.db, reservationID, false)
	if err != nil {
		return nil, err
	}
	if _, err := mayChangeReservation(p, r); err != nil {
		return nil, err
	}
	res, err := getResource(ctx, svc.db, r.ResourceID, false)
	if err != nil {
		return nil, fmt.Errorf("read the reservation's resource: %w", err)
	}
	now := svc.now()
	q := &CancellationQuote{Reservation: r, Deadline: cancelDeadline(r.StartsAt, res)}
	if r.Status == StatusCancelled {
		q.Refund = &Refund{}
		return q, nil
	}
	if err := cancellable(r, now); err != nil {
		q.Refusal = err
		return q, nil
	}
	q.Late = lateCancel(r, res, now)
	q.Refund = &Refund{}
	if r.Kind == ReservationBooking && svc.pricer != nil {
		if q.Refund, err = svc.pricer.PriceRelease(ctx, svc.db, r, q.Late); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// cancellable refuses to cancel r at now when it is over.
func cancellable(r *Reservation, now time.Time) error {
	if !r.EndsAt.After(now) {
		return errs.Rule("reservation_id", "already_over", "this reservation is over and cannot be cancelled")
	}
	return nil
}

// cancelDeadline is when cancelling a reservation of res starting at start
// becomes late.
func cancelDeadline(start time.Time, res *Resource) time.Time {
	return start.Add(-time.Duration(res.Rules.CancelDeadlineMinutes) * time.Minute)
}

// lateCancel reports whether cancelling r at now is late. A hold the
// member never accepted costs them nothing, whenever it ends.
func lateCancel(r *Reservation, res *Resource, now time.Time) bool {
	return r.Kind == ReservationBooking && r.Status == StatusConfirmed && now.After(cancelDeadline(r.StartsAt, res))
}
