package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/id"
)

// EventDoorRelock records relais locking a latching lock again once its
// pulse is over.
const EventDoorRelock = "door_relock"

// Relocking. A strike (relais firmware, Tasmota, Shelly) closes by itself:
// the device's own timer ends the pulse. A Zigbee lock latches: it stays
// unlocked until someone sends LOCK, or until its own auto_relock_time if it
// has one and it is set. So relais sends LOCK itself, through a durable job,
// so that a restart between the two does not leave the door open.

// relocks reports whether relais must lock d again after an unlock.
func relocks(d *devices.Device) bool {
	return d.Kind == devices.KindLock && d.Protocol == devices.ProtocolZigbee
}

// RelockArgs is the durable job that locks a latching lock again after its
// pulse. Two are enqueued per unlock: one before the command goes out (in
// case relais dies before the answer, at the latest the lock could act),
// one at the confirmed time plus the pulse.
type RelockArgs struct {
	DeviceID string `json:"device_id"`
	// UnlockEventID is the unlock it ends: a later unlock of the same lock
	// has relocks of its own, and this one then does nothing (it must not
	// cut the later member's pulse short).
	UnlockEventID string `json:"unlock_event_id"`
}

func (RelockArgs) Kind() string { return "access.door_relock" }

// relockBackstop is how long after the pulse the first relock job runs
// when no confirmation came to schedule the second (relais died, or the
// lock answered late): the longest a latching lock can stay open.
const relockBackstop = time.Minute

// relockAttempts bounds how often a relock that fails (the lock or its
// bridge offline) is tried again, with River's backoff: about two hours.
const relockAttempts = 12

// scheduleRelock enqueues a relock at at.
func (g *Gate) scheduleRelock(ctx context.Context, d *devices.Device, unlockEventID string, at time.Time) error {
	_, err := g.jobs.Insert(ctx, RelockArgs{DeviceID: d.ID, UnlockEventID: unlockEventID},
		&river.InsertOpts{ScheduledAt: at, MaxAttempts: relockAttempts})
	if err != nil {
		return fmt.Errorf("schedule the relock of %s: %w", d.ID, err)
	}
	return nil
}

type relockWorker struct {
	river.WorkerDefaults[RelockArgs]
	g *Gate
}

// Work locks the door unless a later unlock of it took over, and records
// what the lock did. An error (lock offline, no answer) is retried.
func (w *relockWorker) Work(ctx context.Context, job *river.Job[RelockArgs]) error {
	g := w.g
	d, err := g.dev.Get(ctx, job.Args.DeviceID)
	if err != nil {
		return fmt.Errorf("relock: %w", err)
	}
	if d.RetiredAt != nil {
		return nil
	}
	var latest string
	err = g.db.NewSelect().Model((*Event)(nil)).Column("id").
		Where("device_id = ?", d.ID).Where("kind = ?", EventDoorUnlock).Where("decision = ?", Granted).
		Order("occurred_at DESC", "id DESC").Limit(1).Scan(ctx, &latest)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("relock: read the latest unlock: %w", err)
	}
	if latest != job.Args.UnlockEventID {
		return nil // a later unlock relocks on its own schedule
	}
	cmd := devices.Command{ID: id.New(), Action: devices.ActionLock}
	ev := &Event{SiteID: d.SiteID, Kind: EventDoorRelock, Decision: Info, Reason: "pulse_elapsed", DeviceID: &d.ID,
		ResourceID: d.ResourceID, Outcome: OutcomePending, CommandID: &cmd.ID}
	// Recorded before the command, like every command. Locking takes
	// access away: it goes out even when the record fails (a door must not
	// stay open for want of an audit row), and the job is tried again.
	recErr := g.record(ctx, g.db, ev)
	res, sendErr := g.dev.Send(ctx, d, cmd)
	if recErr != nil {
		g.log.Error("a latching lock was locked without its audit record; retrying", "device_id", d.ID,
			"command_id", cmd.ID, "outcome", outcomeOf(sendErr), "err", recErr)
		return fmt.Errorf("relock %s: %w", d.ID, recErr)
	}
	if err := g.settle(context.WithoutCancel(ctx), g.db, ev, res, sendErr); err != nil {
		return err
	}
	if sendErr != nil {
		g.log.Error("a latching lock could not be locked again; retrying", "device_id", d.ID, "attempt", job.Attempt, "err", sendErr)
		return fmt.Errorf("relock %s: %w", d.ID, sendErr)
	}
	return nil
}
