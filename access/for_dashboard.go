package access

import (
	"context"
	"fmt"
	"time"
)

// What the dashboard (package dashboard) reads of the gate: door grants
// (who came in) and machine hours. It decides nothing: dashboard's rules
// have decided who may read the figures.

// DoorGrant is a door opened for a member: who, and when.
type DoorGrant struct {
	UserID string
	At     time.Time
}

// DoorGrants returns the doors opened for members at siteID in
// [from, to), by time. A door a manager opened for themselves counts: they
// are here too.
func (e *Events) DoorGrants(ctx context.Context, siteID string, from, to time.Time) ([]DoorGrant, error) {
	var evs []Event
	if err := e.db.NewSelect().Model(&evs).Column("user_id", "occurred_at").
		Where("site_id = ? AND occurred_at >= ? AND occurred_at < ?", siteID, from, to).
		Where("kind = ? AND decision = ? AND user_id IS NOT NULL", EventDoorUnlock, Granted).
		Where("outcome = ?", OutcomeConfirmed).OrderExpr("occurred_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard door grants: %w", err)
	}
	out := make([]DoorGrant, len(evs))
	for i, ev := range evs {
		out[i] = DoorGrant{UserID: *ev.UserID, At: ev.OccurredAt}
	}
	return out, nil
}

// MachineMinutes sums the minutes machines ran at siteID in sessions
// started in [from, to): a stopped session's used_minutes, a running
// one's minutes so far (at now).
func (e *Events) MachineMinutes(ctx context.Context, siteID string, from, to, now time.Time) (int64, error) {
	var ss []Session
	if err := e.db.NewSelect().Model(&ss).Column("started_at", "stopped_at", "used_minutes").
		Where("site_id = ? AND started_at >= ? AND started_at < ?", siteID, from, to).Scan(ctx); err != nil {
		return 0, fmt.Errorf("dashboard machine sessions: %w", err)
	}
	var total int64
	for _, s := range ss {
		switch {
		case s.UsedMinutes != nil:
			total += int64(*s.UsedMinutes)
		case s.StoppedAt == nil && now.After(s.StartedAt):
			total += int64(now.Sub(s.StartedAt) / time.Minute)
		}
	}
	return total, nil
}
