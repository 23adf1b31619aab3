package devices

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/id"
)

// DefaultDeviceCacheTTL bounds how long ForCommand reuses a device read
// from the database. Changes made through this process (an update, a
// retirement, a new secret) clear the cache at once; changes made through
// another replica reach this one within this delay, as for access tokens
// (identity.DefaultPrincipalCacheTTL).
const DefaultDeviceCacheTTL = 2 * time.Second

// ForCommand returns the device deviceID for deciding on and sending a
// command. Its identity and settings may be up to DeviceCacheTTL old when
// they were changed through another replica; its presence fields (Online,
// LastSeenAt) are not current: ask Online, or Get for what a reader sees.
func (s *Service) ForCommand(ctx context.Context, deviceID string) (*Device, error) {
	d, ok, gen := s.cache.Get(deviceID)
	if ok {
		return &d, nil
	}
	fresh, err := s.readForCommand(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	s.cache.Put(deviceID, gen, *fresh)
	return fresh, nil
}

// selectByIDSQL reads a device by id, its columns Device's.
func selectByIDSQL(bdb *bun.DB) string {
	if bdb == nil {
		return "" // a service without a database (a broker's own tests)
	}
	return "SELECT " + db.Columns[Device](bdb, "") + " FROM devices WHERE id = ?"
}

// readForCommand is getDevice as a prepared statement (db.Prepared): a
// door used less often than the cache lasts reads its row on every unlock.
func (s *Service) readForCommand(ctx context.Context, deviceID string) (*Device, error) {
	if !id.Valid(deviceID) {
		return nil, errDeviceNotFound
	}
	var ds []Device
	if err := db.ScanPrepared(ctx, s.db, &ds, s.selectByID, deviceID); err != nil {
		return nil, fmt.Errorf("get device: %w", err)
	}
	if len(ds) == 0 {
		return nil, errDeviceNotFound
	}
	return &ds[0], nil
}
