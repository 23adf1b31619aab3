// Package ttlcache keeps values read from the database for a short time,
// for rows every request reads and that rarely change (a token's session, a
// lock's registration). A change made through this process clears the
// cache at once (Invalidate); one made through another replica is seen once
// the entry lapses, so the lifetime bounds how stale a replica can be.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values for a fixed lifetime. Its zero value with a
// TTL is ready to use; a TTL of zero or less turns it off.
type Cache[K comparable, V any] struct {
	TTL time.Duration
	// Max caps the entries kept; past it the cache starts afresh. Zero
	// means 4,096.
	Max int

	mu  sync.Mutex
	gen uint64 // bumped by every invalidation
	m   map[K]entry[V]
}

type entry[V any] struct {
	v       V
	expires time.Time // wall clock with monotonic reading, not an injectable clock
}

// Get returns a copy of the value cached for k, and the generation to pass
// to Put when there is none.
func (c *Cache[K, V]) Get(k K) (v V, ok bool, gen uint64) {
	if c.TTL <= 0 {
		return v, false, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, found := c.m[k]
	if !found || !time.Now().Before(e.expires) {
		return v, false, c.gen
	}
	return e.v, true, c.gen
}

// Put remembers v for k unless the cache was invalidated since gen was
// read: a value loaded before a change must not outlive it.
func (c *Cache[K, V]) Put(k K, gen uint64, v V) {
	if c.TTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	max := c.Max
	if max <= 0 {
		max = 4096
	}
	if c.m == nil || len(c.m) >= max {
		c.m = make(map[K]entry[V])
	}
	c.m[k] = entry[V]{v: v, expires: time.Now().Add(c.TTL)}
}

// Invalidate forgets every value; call it after a committed change.
func (c *Cache[K, V]) Invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
