package access

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Session is a member's use of a machine: its relay switched on for them,
// from the confirmed power-on to the power-off.
type Session struct {
	bun.BaseModel `bun:"table:machine_sessions,alias:ms"`

	ID            string     `bun:"id,pk"`
	SiteID        string     `bun:"site_id"`
	ResourceID    string     `bun:"resource_id"`
	DeviceID      string     `bun:"device_id"`
	UserID        string     `bun:"user_id"`
	ReservationID string     `bun:"reservation_id"`
	StartedAt     time.Time  `bun:"started_at"`
	EndsAt        time.Time  `bun:"ends_at"` // the power goes off then: the slot's end plus the grace
	StoppedAt     *time.Time `bun:"stopped_at"`
	StopReason    string     `bun:"stop_reason"`
	OffConfirmed  bool       `bun:"off_confirmed"`
	UsedMinutes   *int       `bun:"used_minutes"`
	CreatedAt     time.Time  `bun:"created_at"`
}

// Why a session stopped.
const (
	StopMember       = "member"        // the member (or a manager) switched it off
	StopSlotEnd      = "slot_end"      // the slot and its grace ended
	StopCancelled    = "cancelled"     // the reservation was cancelled or moved away
	StopHandover     = "handover"      // the next member started during the grace
	StopNotConfirmed = "not_confirmed" // the relay never confirmed power-on
	StopReconcile    = "reconcile"     // found running with no current reservation
)

// relayOf returns the power relay of a machine resource.
func (g *Gate) relayOf(ctx context.Context, res *calendar.Resource) (*devices.Device, error) {
	ds, err := g.dev.List(ctx, res.SiteID)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Kind == devices.KindRelay && ds[i].ResourceID != nil && *ds[i].ResourceID == res.ID {
			return &ds[i], nil
		}
	}
	return nil, &errs.Problem{Kind: errs.ErrUnavailable, Code: "no_relay", Detail: "this machine has no power relay registered"}
}

// machine reads a machine resource.
func (g *Gate) machine(ctx context.Context, resourceID string) (*calendar.Resource, error) {
	res, err := g.cal.GetResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	if res.Kind != calendar.KindMachine {
		return nil, fmt.Errorf("resource %s is not a machine: %w", resourceID, errs.ErrNotFound)
	}
	return res, nil
}

// running returns the running session of a machine, or nil.
func running(ctx context.Context, idb bun.IDB, resourceID string) (*Session, error) {
	var ss []Session
	if err := idb.NewSelect().Model(&ss).Where("resource_id = ? AND stopped_at IS NULL", resourceID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read machine session: %w", err)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	return &ss[0], nil
}

// CurrentSession returns the machine's running session, or ErrNotFound.
func (g *Gate) CurrentSession(ctx context.Context, resourceID string) (*Session, error) {
	s, err := running(ctx, g.db, resourceID)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, &errs.Problem{Kind: errs.ErrNotFound, Code: "no_session", Detail: "no session is running on this machine"}
	}
	return s, nil
}

// RunningSessions lists the sessions running now on a site's machines,
// the soonest to end first, for those who may read the site's access
// events (MayAudit): who uses a machine is access data. The console's
// Today shows them in one request rather than one per machine.
func (g *Gate) RunningSessions(ctx context.Context, p *identity.Principal, siteID string) ([]Session, error) {
	if err := MayAudit(p, siteID); err != nil {
		return nil, err
	}
	ss := []Session{}
	if err := g.db.NewSelect().Model(&ss).Where("site_id = ? AND stopped_at IS NULL", siteID).OrderExpr("ends_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read the running machine sessions: %w", err)
	}
	return ss, nil
}

// MachineSite returns the site of a machine, for authorisation.
func (g *Gate) MachineSite(ctx context.Context, resourceID string) (string, error) {
	res, err := g.machine(ctx, resourceID)
	if err != nil {
		return "", err
	}
	return res.SiteID, nil
}

// StartSession switches a machine on for userID: they need a reservation of
// it under way now and, when the machine requires one, a valid
// qualification. The relay is switched on with a device-side auto-off that
// the refresh job keeps pushing back while the session lasts, and a durable
// job switches it off at the slot's end plus the grace.
func (g *Gate) StartSession(ctx context.Context, userID, resourceID string) (*Session, error) {
	res, err := g.machine(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	relay, err := g.relayOf(ctx, res)
	if err != nil {
		return nil, err
	}
	now := g.now()
	ev := &Event{SiteID: res.SiteID, OccurredAt: now, Kind: EventMachineOn, UserID: ptr(userID), DeviceID: ptr(relay.ID), ResourceID: ptr(res.ID)}
	r, err := g.slotUnderWay(ctx, ev, res, userID, now)
	if err != nil {
		return nil, err
	}
	endsAt, err := g.cal.NextStart(ctx, g.db, res.ID, r.ID, r.EndsAt, r.EndsAt.Add(g.cfg.MachineGrace))
	if err != nil {
		return nil, err
	}
	s := &Session{ID: id.New(), SiteID: res.SiteID, ResourceID: res.ID, DeviceID: relay.ID, UserID: userID,
		ReservationID: r.ID, StartedAt: now, EndsAt: endsAt, CreatedAt: now}
	cmd := devices.Command{ID: id.New(), Action: devices.ActionPowerOn, Duration: g.autoOff(now, endsAt)}
	ev.SessionID, ev.Decision, ev.Outcome, ev.CommandID = ptr(s.ID), Granted, OutcomePending, ptr(cmd.ID)
	already, err := g.claimMachine(ctx, s, ev, now)
	if err != nil {
		return nil, err
	}
	if already != nil {
		return already, nil
	}
	return g.switchOn(ctx, relay, cmd, s, ev)
}

// slotUnderWay returns userID's reservation of the machine res under way
// at now, refusing (and recording the refusal in ev) a member who has none
// or lacks the machine's qualification.
func (g *Gate) slotUnderWay(ctx context.Context, ev *Event, res *calendar.Resource, userID string, now time.Time) (*calendar.Reservation, error) {
	r, err := g.cal.ReservationAt(ctx, g.db, res.ID, userID, now, 0)
	if err != nil {
		return nil, err
	}
	if r == nil {
		around, err := g.cal.ReservationsAround(ctx, g.db, res.ID, userID, now.Add(-12*time.Hour), now.Add(12*time.Hour))
		if err != nil {
			return nil, err
		}
		if len(around) > 0 {
			return nil, g.denied(ctx, ev, errs.ErrForbidden, "outside_slot", "your reservation of this machine is not under way now")
		}
		return nil, g.denied(ctx, ev, errs.ErrForbidden, "no_reservation", "you have no reservation of this machine now")
	}
	ev.ReservationID = ptr(r.ID)
	if res.QualificationID != nil {
		ok, err := g.cal.Qualified(ctx, g.db, userID, *res.QualificationID, now)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, g.denied(ctx, ev, errs.ErrForbidden, "qualification_required", "you need a valid training for this machine")
		}
	}
	return r, nil
}

// claimMachine records s as the machine's running session, or returns the
// session its member already runs there.
//
// It claims the machine first, with the power-off job and the decision's
// record, so that two starts (two members, two replicas) cannot both hold
// it, a crash after the relay switched on still leaves a job to switch it
// off, and no command goes out for a decision the audit does not hold. A
// running session thus always has its recorded decision, which also covers
// the refresh job's renewals of its auto-off.
func (g *Gate) claimMachine(ctx context.Context, s *Session, ev *Event, now time.Time) (already *Session, err error) {
	err = db.Tx(ctx, g.db, func(ctx context.Context, tx bun.Tx) error {
		cur, err := running(ctx, tx, s.ResourceID)
		if err != nil {
			return err
		}
		if cur != nil && cur.UserID == s.UserID {
			already = cur
			return nil
		}
		if cur != nil {
			// The previous member's grace overlaps this slot only if it
			// was booked after their session started: the slot wins.
			if err := g.closeSession(ctx, tx, cur, now, StopHandover, false); err != nil {
				return err
			}
		}
		if _, err := tx.NewInsert().Model(s).Exec(ctx); err != nil {
			if db.IsUnique(err) {
				return &errs.Problem{Kind: errs.ErrConflict, Code: "machine_in_use", Detail: "another session started on this machine at the same time"}
			}
			return fmt.Errorf("insert machine session: %w", err)
		}
		if err := g.scheduleSession(ctx, tx, s, now); err != nil {
			return err
		}
		return g.record(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return already, nil
}

// switchOn sends the claimed session's power-on command and settles its
// decision with the relay's answer: the session starts when the relay
// confirms, and is released when it does not.
func (g *Gate) switchOn(ctx context.Context, relay *devices.Device, cmd devices.Command, s *Session, ev *Event) (*Session, error) {
	result, sendErr := g.dev.Send(ctx, relay, cmd)
	ctx = context.WithoutCancel(ctx)
	if sendErr != nil {
		// Not on: release the machine. The scheduled power-off still runs
		// and switches it off in case the relay acted after all.
		if err := db.Tx(ctx, g.db, func(ctx context.Context, tx bun.Tx) error {
			if err := g.closeSession(ctx, tx, s, g.now(), StopNotConfirmed, false); err != nil {
				return err
			}
			return g.settle(ctx, tx, ev, result, sendErr)
		}); err != nil {
			return nil, err
		}
		return nil, commandProblem(sendErr)
	}
	// The gate's clock, not the device's, dates the session: one clock for
	// every time billing compares. The start and its answer commit together.
	s.StartedAt = g.now()
	if err := db.Tx(ctx, g.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewUpdate().Model(s).Column("started_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("record machine start: %w", err)
		}
		return g.settle(ctx, tx, ev, result, nil)
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// autoOff is the device-side auto-off for a relay switched on at now: the
// dead-man window, never past the session's end.
func (g *Gate) autoOff(now, endsAt time.Time) time.Duration {
	d := min(g.cfg.DeadMan, endsAt.Sub(now))
	return max(d, time.Second)
}

// scheduleSession enqueues, in tx, the session's warning and power-off.
func (g *Gate) scheduleSession(ctx context.Context, tx bun.Tx, s *Session, now time.Time) error {
	if _, err := g.jobs.InsertTx(ctx, tx, MachineOffArgs{SessionID: s.ID}, &river.InsertOpts{ScheduledAt: s.EndsAt}); err != nil {
		return fmt.Errorf("schedule power-off: %w", err)
	}
	if warn := s.EndsAt.Add(-g.cfg.MachineWarning); warn.After(now) {
		if _, err := g.jobs.InsertTx(ctx, tx, MachineWarningArgs{SessionID: s.ID}, &river.InsertOpts{ScheduledAt: warn}); err != nil {
			return fmt.Errorf("schedule power-off warning: %w", err)
		}
	}
	return nil
}

// closeSession marks s stopped at t (in tx), and bills an overrun past the
// slot. It does not touch the relay.
func (g *Gate) closeSession(ctx context.Context, tx bun.IDB, s *Session, t time.Time, reason string, offConfirmed bool) error {
	used := int((t.Sub(s.StartedAt) + time.Minute - 1) / time.Minute)
	if reason == StopNotConfirmed {
		used = 0
	}
	n, err := tx.NewUpdate().Model((*Session)(nil)).
		Set("stopped_at = ?, stop_reason = ?, off_confirmed = ?, used_minutes = ?", t.UTC(), reason, offConfirmed, used).
		Where("id = ? AND stopped_at IS NULL", s.ID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("stop machine session: %w", err)
	}
	if k, _ := n.RowsAffected(); k == 0 {
		return nil // another replica or request stopped it first
	}
	s.StoppedAt, s.StopReason, s.OffConfirmed, s.UsedMinutes = ptr(t.UTC()), reason, offConfirmed, &used
	if reason == StopNotConfirmed {
		return nil
	}
	r, err := g.cal.GetReservationTx(ctx, tx, s.ReservationID)
	if err != nil {
		return err
	}
	res, err := g.cal.GetResourceTx(ctx, tx, s.ResourceID)
	if err != nil {
		return err
	}
	if _, err := g.bill.RecordMachineUsage(ctx, tx, r, res, s.StartedAt, t); err != nil {
		return err
	}
	return nil
}

// StopSession switches the machine off at the member's (or a manager's)
// request. The session ends even if the relay does not confirm: refreshes
// stop, so the device-side auto-off powers it down within the dead-man
// window.
func (g *Gate) StopSession(ctx context.Context, s *Session, actorID string) (*Session, error) {
	return g.stop(ctx, s, StopMember, actorID)
}

func (g *Gate) stop(ctx context.Context, s *Session, reason, actorID string) (*Session, error) {
	relay, err := g.dev.Get(ctx, s.DeviceID)
	if err != nil {
		return nil, err
	}
	ev := &Event{SiteID: s.SiteID, Kind: EventMachineOff, Decision: Granted, Reason: reason, UserID: ptr(s.UserID),
		DeviceID: ptr(s.DeviceID), ResourceID: ptr(s.ResourceID), ReservationID: ptr(s.ReservationID), SessionID: ptr(s.ID)}
	if actorID != "" && actorID != s.UserID {
		ev.ActorID = ptr(actorID)
	}
	// Recorded before the command, like every command. A power-off takes
	// access away: it goes out even when the record fails (a machine must
	// not run on for want of an audit row), and the session ends all the
	// same, so that no refresh powers the relay again; the caller, or the
	// job, which retries, gets the error.
	cmd := devices.Command{ID: id.New(), Action: devices.ActionPowerOff}
	ev.Outcome, ev.CommandID = OutcomePending, ptr(cmd.ID)
	recErr := g.record(ctx, g.db, ev)
	result, sendErr := g.dev.Send(ctx, relay, cmd)
	ctx = context.WithoutCancel(ctx)
	off := g.now()
	// The session's end and the answer commit together: whoever sees the
	// machine free also finds why in the audit.
	err = db.Tx(ctx, g.db, func(ctx context.Context, tx bun.Tx) error {
		if err := g.closeSession(ctx, tx, s, off, reason, sendErr == nil); err != nil {
			return err
		}
		if recErr != nil {
			return nil
		}
		return g.settle(ctx, tx, ev, result, sendErr)
	})
	if err != nil {
		return nil, err
	}
	if recErr != nil {
		g.log.ErrorContext(ctx, "a machine was switched off without its audit record", "session_id", s.ID, "device_id", relay.ID,
			"command_id", cmd.ID, "outcome", outcomeOf(sendErr), "error", recErr)
		return nil, recErr
	}
	return s, nil
}
