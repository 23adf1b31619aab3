package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// MachineOffArgs is the durable job that switches a session's relay off at
// the end of the slot plus the grace, even if relais restarted meanwhile.
type MachineOffArgs struct {
	SessionID string `json:"session_id"`
	// Reason is why the session stops; empty: the slot ended.
	Reason string `json:"reason,omitempty"`
}

func (MachineOffArgs) Kind() string { return "access.machine_off" }

// MachineWarningArgs records, before the power-off, that it is coming.
type MachineWarningArgs struct {
	SessionID string `json:"session_id"`
}

func (MachineWarningArgs) Kind() string { return "access.machine_warning" }

// machineRefreshArgs is the periodic job that pushes back the device-side
// auto-off of every running session (the dead-man's switch), and stops
// sessions whose reservation went away or whose end passed unnoticed.
type machineRefreshArgs struct{}

func (machineRefreshArgs) Kind() string { return "access.machine_refresh" }

// AddWorkers registers the machine jobs and the relock of latching locks.
func (g *Gate) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &machineOffWorker{g: g})
	river.AddWorker(w, &machineWarningWorker{g: g})
	river.AddWorker(w, &machineRefreshWorker{g: g})
	river.AddWorker(w, &relockWorker{g: g})
}

// PeriodicJobs returns the refresh job, run by the elected replica every
// third of the dead-man window, so a relay's auto-off is renewed twice
// before it would fire.
func (g *Gate) PeriodicJobs() []*river.PeriodicJob {
	every := g.cfg.DeadMan / 3
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return machineRefreshArgs{}, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		}, &river.PeriodicJobOpts{ID: "access.machine_refresh"})}
}

type machineOffWorker struct {
	river.WorkerDefaults[MachineOffArgs]
	g *Gate
}

// Work switches the relay off unless the session already stopped and
// another member's session now holds the machine. It runs at least once;
// stopping twice is harmless.
func (w *machineOffWorker) Work(ctx context.Context, job *river.Job[MachineOffArgs]) error {
	reason := job.Args.Reason
	if reason == "" {
		reason = StopSlotEnd
	}
	return w.g.endSession(ctx, job.Args.SessionID, reason)
}

// SessionGuard wraps the calendar's guard (billing's entitlement check) so
// that a reservation cancelled, or moved away, while its machine runs
// switches the machine off at once: the power-off job is enqueued in the
// calendar's own transaction, and runs when it commits. It needs only the
// queue, not the Gate, so that it exists before the calendar the Gate
// needs.
func SessionGuard(inner calendar.Guard, queue *jobs.Queue) calendar.Guard {
	return &sessionGuard{inner: inner, jobs: queue}
}

type sessionGuard struct {
	inner calendar.Guard
	jobs  *jobs.Queue
}

func (sg *sessionGuard) CheckBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, site *calendar.Site) error {
	return sg.inner.CheckBooking(ctx, tx, r, res, site)
}

func (sg *sessionGuard) ReleaseBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, late bool) error {
	if err := sg.inner.ReleaseBooking(ctx, tx, r, late); err != nil {
		return err
	}
	var ids []string
	if err := tx.NewSelect().Model((*Session)(nil)).Column("id").
		Where("resource_id = ? AND stopped_at IS NULL AND reservation_id = ?", r.ResourceID, r.ID).Scan(ctx, &ids); err != nil {
		return fmt.Errorf("read the reservation's machine session: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	for _, id := range ids {
		if _, err := sg.jobs.InsertTx(ctx, tx, MachineOffArgs{SessionID: id, Reason: StopCancelled}, nil); err != nil {
			return fmt.Errorf("schedule power-off: %w", err)
		}
	}
	return nil
}

func (g *Gate) endSession(ctx context.Context, sessionID, reason string) error {
	var s Session
	if err := g.db.NewSelect().Model(&s).Where("id = ?", sessionID).Scan(ctx); err != nil {
		return fmt.Errorf("read machine session: %w", err)
	}
	if s.StoppedAt == nil {
		_, err := g.stop(ctx, &s, reason, "")
		return err
	}
	// Stopped already (by the member, or never confirmed): make sure the
	// relay is off, unless the next member holds it now.
	cur, err := running(ctx, g.db, s.ResourceID)
	if err != nil || cur != nil || s.OffConfirmed {
		return err
	}
	relay, err := g.dev.Get(ctx, s.DeviceID)
	if err != nil {
		return err
	}
	if _, err := g.dev.Send(ctx, relay, devices.Command{Action: devices.ActionPowerOff}); err != nil && !errors.Is(err, devices.ErrOffline) {
		g.log.WarnContext(ctx, "relay did not confirm power-off", "device_id", relay.ID, "error", err)
	}
	return nil
}

type machineWarningWorker struct {
	river.WorkerDefaults[MachineWarningArgs]
	g *Gate
}

func (w *machineWarningWorker) Work(ctx context.Context, job *river.Job[MachineWarningArgs]) error {
	return w.g.WarnSession(ctx, job.Args.SessionID)
}

// WarnSession records that a running session's power goes off soon (the
// warning job calls it).
func (g *Gate) WarnSession(ctx context.Context, sessionID string) error {
	var s Session
	if err := g.db.NewSelect().Model(&s).Where("id = ?", sessionID).Scan(ctx); err != nil {
		return fmt.Errorf("read machine session: %w", err)
	}
	if s.StoppedAt != nil {
		return nil
	}
	// A retry may record a second warning; the audit is append-only, and a
	// repeated warning misleads no one. The member's notice goes in the
	// same transaction (its mail job is unique per session).
	return db.Tx(ctx, g.db, func(ctx context.Context, tx bun.Tx) error {
		ev := &Event{SiteID: s.SiteID, Kind: EventMachineWarning, Decision: Info,
			Reason: "power_off_soon", Detail: fmt.Sprintf("power goes off at %s", s.EndsAt.Format(time.RFC3339)),
			UserID: ptr(s.UserID), DeviceID: ptr(s.DeviceID), ResourceID: ptr(s.ResourceID),
			ReservationID: ptr(s.ReservationID), SessionID: ptr(s.ID)}
		if err := g.record(ctx, tx, ev); err != nil {
			return err
		}
		return g.cfg.Notices.Publish(ctx, tx, events.New(EventPowerOffSoon, s.SiteID, ev.OccurredAt, MachineNotice{
			SessionID: s.ID, UserID: s.UserID, ResourceID: s.ResourceID, ReservationID: s.ReservationID, EndsAt: s.EndsAt}))
	})
}

type machineRefreshWorker struct {
	river.WorkerDefaults[machineRefreshArgs]
	g *Gate
}

func (w *machineRefreshWorker) Work(ctx context.Context, _ *river.Job[machineRefreshArgs]) error {
	return w.g.Refresh(ctx)
}

// Refresh renews the auto-off of every running session and stops those
// that should not run: their end passed, or their reservation was
// cancelled or moved away from now.
func (g *Gate) Refresh(ctx context.Context) error {
	var ss []Session
	if err := g.db.NewSelect().Model(&ss).Where("stopped_at IS NULL").Scan(ctx); err != nil {
		return fmt.Errorf("read running sessions: %w", err)
	}
	var errs []error
	for i := range ss {
		if err := g.refreshOne(ctx, &ss[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (g *Gate) refreshOne(ctx context.Context, s *Session) error {
	now := g.now()
	if !now.Before(s.EndsAt) {
		_, err := g.stop(ctx, s, StopSlotEnd, "")
		return err
	}
	r, err := g.cal.GetReservationTx(ctx, g.db, s.ReservationID)
	if err != nil {
		return err
	}
	if r.Status != calendar.StatusConfirmed || r.StartsAt.After(now) || !now.Before(r.EndsAt.Add(g.cfg.MachineGrace)) {
		_, err := g.stop(ctx, s, StopCancelled, "")
		return err
	}
	relay, err := g.dev.Get(ctx, s.DeviceID)
	if err != nil {
		return err
	}
	_, err = g.dev.Send(ctx, relay, devices.Command{Action: devices.ActionPowerOn, Duration: g.autoOff(now, s.EndsAt)})
	if err != nil {
		// The device-side auto-off is the safety net; the next refresh
		// tries again.
		g.log.WarnContext(ctx, "relay auto-off refresh failed", "device_id", relay.ID, "session_id", s.ID, "error", err)
	}
	return nil
}

// Reconcile brings every relay in line with the sessions, at start: running
// sessions that still hold a current reservation get their auto-off
// renewed; the others are stopped; relays without a running session are
// switched off. Devices whose presence is not known yet count as offline
// and rely on their auto-off.
func (g *Gate) Reconcile(ctx context.Context) error {
	if err := g.Refresh(ctx); err != nil {
		g.log.WarnContext(ctx, "reconcile: refresh", "error", err)
	}
	var relays []devices.Device
	if err := g.db.NewSelect().Model(&relays).Where("kind = ? AND retired_at IS NULL", devices.KindRelay).Scan(ctx); err != nil {
		return fmt.Errorf("read relays: %w", err)
	}
	for i := range relays {
		d := &relays[i]
		if d.ResourceID == nil {
			continue
		}
		cur, err := running(ctx, g.db, *d.ResourceID)
		if err != nil {
			return err
		}
		if cur != nil {
			continue
		}
		_, err = g.dev.Send(ctx, d, devices.Command{Action: devices.ActionPowerOff})
		if err != nil && !errors.Is(err, devices.ErrOffline) {
			g.log.WarnContext(ctx, "reconcile: relay did not confirm power-off", "device_id", d.ID, "error", err)
		}
	}
	return nil
}
