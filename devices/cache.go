package devices

import (
	"context"
	"sync"
	"time"
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
	d, err := getDevice(ctx, s.db, deviceID)
	if err != nil {
		return nil, err
	}
	s.cache.put(gen, d)
	return d, nil
}
