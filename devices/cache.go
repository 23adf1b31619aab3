package devices

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/uptrace/bun"
)

// DefaultDeviceCacheTTL bounds how long ForCommand reuses a device read
// from the database. Changes made through this process (an update, a
// retirement, a new secret) clear the cache at once; changes made through
// another replica reach this one within this delay, as for access tokens
// (access.DefaultPrincipalCacheTTL).
const DefaultDeviceCacheTTL = 2 * time.Second

// deviceCacheMax caps the entries kept; past it the cache starts afresh.
const deviceCacheMax = 4096

// deviceCache maps a device id to its row as last read. A door answers on
// every unlock, and the device row is what it reads most: a lock's
// identity and settings change a few times in its life.
type deviceCache struct {
	ttl time.Duration
	mu  sync.Mutex
	gen uint64 // bumped by every invalidation
	m   map[string]cachedDevice
}

type cachedDevice struct {
	d       Device
	expires time.Time // wall clock with monotonic reading, not the injectable clock
}

func (c *deviceCache) get(id string) (*Device, uint64) {
	if c.ttl <= 0 {
		return nil, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || !time.Now().Before(e.expires) {
		return nil, c.gen
	}
	d := e.d
	return &d, c.gen
}

// put remembers d unless the cache was invalidated since gen was read: a
// row read before a change must not outlive it.
func (c *deviceCache) put(gen uint64, d *Device) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= deviceCacheMax {
		c.m = make(map[string]cachedDevice)
	}
	c.m[d.ID] = cachedDevice{d: *d, expires: time.Now().Add(c.ttl)}
}

func (c *deviceCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}

// ForCommand returns the device deviceID for deciding on and sending a
// command. Its identity and settings may be up to DeviceCacheTTL old when
// they were changed through another replica; its presence fields (Online,
// LastSeenAt) are not current: ask Online, or Get for what a reader sees.
func (s *Service) ForCommand(ctx context.Context, deviceID string) (*Device, error) {
	d, gen := s.cache.get(deviceID)
	if d != nil {
		return d, nil
	}
	d, err := s.readForCommand(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	s.cache.put(gen, d)
	return d, nil
}

// selectByIDSQL reads a device by id, its columns Device's.
func selectByIDSQL(bdb *bun.DB) string {
	if bdb == nil {
		return "" // a service without a database (a broker's own tests)
	}
	fields := bdb.Table(reflect.TypeFor[Device]()).Fields
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = string(f.SQLName)
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM devices WHERE id = ?"
}

// readForCommand is getDevice as a prepared statement (db.Prepared): a
// door used less often than the cache lasts reads its row on every unlock.
func (s *Service) readForCommand(ctx context.Context, deviceID string) (*Device, error) {
	if !id.Valid(deviceID) {
		return nil, errDeviceNotFound
	}
	q, args := db.Prepared(s.db, s.selectByID, deviceID)
	rows, err := s.db.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("get device: %w", err)
	}
	var ds []Device
	if err := s.db.ScanRows(ctx, rows, &ds); err != nil {
		return nil, fmt.Errorf("get device: %w", err)
	}
	if len(ds) == 0 {
		return nil, errDeviceNotFound
	}
	return &ds[0], nil
}
