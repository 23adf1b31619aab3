package access

import (
	"sync"
	"time"
)

// DefaultPrincipalCacheTTL bounds how long a verified access token's
// principal is reused without reading its session again. Changes made
// through this process (logout, a disabled or deleted account, a role or
// manager change, a password change) clear the cache at once; changes made
// through another replica take effect within this delay.
const DefaultPrincipalCacheTTL = 2 * time.Second

// principalCacheMax caps the entries kept; past it the cache starts afresh.
const principalCacheMax = 10000

// principalCache maps an access token (already verified: signature and
// expiry are checked on every request) to the principal its session
// resolved to, saving the session query on most requests.
type principalCache struct {
	ttl time.Duration
	mu  sync.Mutex
	gen uint64 // bumped by every invalidation
	m   map[string]cachedPrincipal
}

type cachedPrincipal struct {
	p       Principal
	expires time.Time // wall clock with monotonic reading: not the injectable clock
}

// get returns a copy of the cached principal for token, and the
// generation to pass to put when there is none.
func (c *principalCache) get(token string) (*Principal, uint64) {
	if c.ttl <= 0 {
		return nil, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[token]
	if !ok {
		return nil, c.gen
	}
	if !time.Now().Before(e.expires) {
		delete(c.m, token)
		return nil, c.gen
	}
	p := e.p
	return &p, c.gen
}

// put remembers p for token unless the cache was invalidated since gen was
// read: what was loaded before a change must not outlive it.
func (c *principalCache) put(token string, gen uint64, p *Principal) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= principalCacheMax {
		c.m = make(map[string]cachedPrincipal)
	}
	c.m[token] = cachedPrincipal{p: *p, expires: time.Now().Add(c.ttl)}
}

// invalidate forgets every cached principal; call it after any committed
// change to sessions, accounts or site managers.
func (c *principalCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
