package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// CheckInVisits tells the front desk when people last checked in at a
// site (people.Visits): an arrival as true as a door grant, and the only
// one at a site without a connected lock.
type CheckInVisits struct{}

// LastVisits returns the latest check-in of each of userIDs at siteID.
func (CheckInVisits) LastVisits(ctx context.Context, idb bun.IDB, siteID string, userIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID string    `bun:"user_id"`
		At     time.Time `bun:"at"`
	}
	if err := idb.NewRaw(`SELECT r.user_id, MAX(r.checked_in_at) AS at FROM reservations r
		JOIN resources res ON res.id = r.resource_id
		WHERE r.user_id IN (?) AND res.site_id = ? AND r.checked_in_at IS NOT NULL GROUP BY r.user_id`,
		bun.In(userIDs), siteID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("last check-ins: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = r.At.UTC()
	}
	return out, nil
}
