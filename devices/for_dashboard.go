package devices

import (
	"context"
	"fmt"
	"time"
)

// What the dashboard (package dashboard) reads of a site's devices. It
// decides nothing: dashboard's rules have decided who may read it.

// OfflineDevice is a device in service that is not connected now.
type OfflineDevice struct {
	ID         string
	Name       string
	Kind       string
	LastSeenAt *time.Time
}

// Offline returns siteID's devices in service that are offline now, by
// name.
func (s *Service) Offline(ctx context.Context, siteID string) ([]OfflineDevice, error) {
	var ds []Device
	if err := s.db.NewSelect().Model(&ds).Column("id", "name", "kind", "last_seen_at").
		Where("site_id = ? AND retired_at IS NULL AND online = ?", siteID, false).
		OrderExpr("name, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard offline devices: %w", err)
	}
	out := make([]OfflineDevice, len(ds))
	for i, d := range ds {
		out[i] = OfflineDevice{ID: d.ID, Name: d.Name, Kind: string(d.Kind), LastSeenAt: d.LastSeenAt}
	}
	return out, nil
}
