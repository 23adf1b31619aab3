package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// CheckInMargin is how long before its start a booking may be checked in:
// a member who arrives a quarter of an hour early is here for it. From
// then until the booking ends, the member, the site's managers or the
// first door grant of the member at the site check it in.
const CheckInMargin = 15 * time.Minute

// ReleaseReason is the cancel_reason of a booking released by
// rules.release_unchecked_after_minutes.
const ReleaseReason = "not checked in"

// No-shows are computed, not marked: a confirmed booking whose slot has
// ended without a check-in. A machine's booking is never one: the
// machine's session is its arrival, and its figures are the machine hours
// (access's sessions), so machines are left out of check-ins and no-shows.

// CheckIn records that the member of reservation reservationID has arrived,
// as p: the member themselves or the site's managers (mayCheckIn), from
// CheckInMargin before the start to the end. Checking in again answers the
// first check-in unchanged.
func (svc *Service) CheckIn(ctx context.Context, p *identity.Principal, reservationID string) (*Reservation, error) {
	var out *Reservation
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := getReservation(ctx, tx, reservationID, true)
		if err != nil {
			return err
		}
		if err := mayCheckIn(p, r); err != nil {
			return err
		}
		if r.CheckedInAt != nil {
			out = r
			return nil
		}
		res, err := getResource(ctx, tx, r.ResourceID, false)
		if err != nil {
			return err
		}
		if err := svc.checkInTiming(r, res); err != nil {
			return err
		}
		now := svc.now()
		actor := checkInActor(p, r)
		r.CheckedInAt, r.CheckedInBy = &now, &actor
		if _, err := tx.NewUpdate().Model(r).Column("checked_in_at", "checked_in_by").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("check in: %w", err)
		}
		out = r
		return nil
	})
	return out, err
}

// checkInTiming: a confirmed booking (not a machine's), from CheckInMargin
// before its start until its end.
func (svc *Service) checkInTiming(r *Reservation, res *Resource) error {
	if r.Kind != ReservationBooking || r.Status != StatusConfirmed {
		return errs.Rule("reservation_id", "not_checkable", "only a confirmed booking can be checked in")
	}
	if res.Kind == KindMachine {
		return errs.Rule("reservation_id", "not_checkable", "a machine's booking is not checked in: switching the machine on is the arrival")
	}
	now := svc.now()
	if now.Before(r.StartsAt.Add(-CheckInMargin)) {
		return errs.Rule("reservation_id", "too_early", "check-in opens %d minutes before the booking starts", int(CheckInMargin/time.Minute))
	}
	if !now.Before(r.EndsAt) {
		return errs.Rule("reservation_id", "already_over", "this booking is over and can no longer be checked in")
	}
	return nil
}

// CheckInOnArrival checks in, at at, every booking of userID at siteID
// under way then (from CheckInMargin before its start), not a machine's
// and not yet checked in: the gate calls it after a door opened for the
// member, off the member's answer. It returns how many it checked in.
func (svc *Service) CheckInOnArrival(ctx context.Context, idb bun.IDB, userID, siteID string, at time.Time) (int, error) {
	if userID == "" {
		return 0, nil
	}
	res, err := idb.NewUpdate().Model((*Reservation)(nil)).
		Set("checked_in_at = ?", at).Set("checked_in_by = ?", userID).
		Where("user_id = ? AND site_id = ?", userID, siteID).
		Where("kind = ? AND status = ? AND checked_in_at IS NULL", ReservationBooking, StatusConfirmed).
		Where("starts_at <= ? AND ends_at > ? AND busy_until > ?", at.Add(CheckInMargin), at, at).
		Where("resource_id IN (SELECT id FROM resources WHERE site_id = ? AND kind <> ?)", siteID, KindMachine).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("check in on arrival: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ReleaseArgs is the durable job that releases a booking not checked in
// rules.release_unchecked_after_minutes after its start. A booking moved
// since has another job, and this one (whose StartsAt no longer matches)
// does nothing; so does it for a booking cancelled or checked in.
type ReleaseArgs struct {
	ReservationID string    `json:"reservation_id"`
	StartsAt      time.Time `json:"starts_at"`
}

// Kind names the job in river_job.
func (ReleaseArgs) Kind() string { return "calendar.release_unchecked" }

type releaseWorker struct {
	river.WorkerDefaults[ReleaseArgs]
	svc *Service
}

func (w *releaseWorker) Work(ctx context.Context, job *river.Job[ReleaseArgs]) error {
	_, err := w.svc.ReleaseUnchecked(ctx, job.Args.ReservationID, job.Args.StartsAt)
	return err
}

// scheduleRelease queues the release of booking r, in tx, when its
// resource has the rule. Called where a booking is made or moved.
func (svc *Service) scheduleRelease(ctx context.Context, tx bun.IDB, r *Reservation, res *Resource) error {
	after := res.Rules.ReleaseUncheckedAfterMinutes
	if after <= 0 || r.Kind != ReservationBooking || res.Kind == KindMachine || svc.jobs == nil {
		return nil
	}
	at := r.StartsAt.Add(time.Duration(after) * time.Minute)
	if !at.Before(r.EndsAt) {
		return nil // the booking is over before anyone would release it
	}
	if _, err := svc.jobs.InsertTx(ctx, tx, ReleaseArgs{ReservationID: r.ID, StartsAt: r.StartsAt.UTC()}, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("schedule release: %w", err)
	}
	return nil
}

// ReleaseUnchecked cancels reservation reservationID, reason
// ReleaseReason, if it still starts at startsAt, is confirmed, is not
// checked in, and its resource still has the rule and its delay has
// passed. The cancellation is an ordinary one (late, for billing; the
// waiting list is offered the slot; mails and webhooks follow). It reports
// whether it released the booking.
func (svc *Service) ReleaseUnchecked(ctx context.Context, reservationID string, startsAt time.Time) (bool, error) {
	released := false
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockReservation(ctx, tx, reservationID)
		if err != nil {
			return nil // gone: nothing to release
		}
		if r.Status != StatusConfirmed || r.CheckedInAt != nil || !r.StartsAt.Equal(startsAt) || r.Kind != ReservationBooking {
			return nil
		}
		res, err := getResource(ctx, tx, r.ResourceID, false)
		if err != nil {
			return err
		}
		after := time.Duration(res.Rules.ReleaseUncheckedAfterMinutes) * time.Minute
		now := svc.now()
		if after <= 0 || res.Kind == KindMachine || now.Before(r.StartsAt.Add(after)) || !now.Before(r.EndsAt) {
			return nil
		}
		if _, err := svc.cancel(ctx, tx, r, cancellingActor(identity.System(), r), ReleaseReason); err != nil {
			return err
		}
		released = true
		return nil
	})
	return released, err
}
