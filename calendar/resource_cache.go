package calendar

import (
	"sync"
)

// resourceCacheMax caps the resources kept; past it the cache starts afresh.
const resourceCacheMax = 10000

// resourceCache keeps exclusive resources with their site for the booking
// path, which then does not read them: the booking's one insert statement
// also checks that neither row changed since (their version), a
// refusal decided on cached data is decided again on fresh data, and
// changes made through this process clear the cache at once. So a change
// made through another replica is never missed, only noticed one statement
// later.
type resourceCache struct {
	mu  sync.Mutex
	gen uint64 // bumped by every invalidation
	m   map[string]cachedResource
}

type cachedResource struct {
	res  Resource
	site Site
}

// get returns copies of the cached resource and site, and the generation
// to pass to put.
func (c *resourceCache) get(resourceID string) (*Resource, *Site, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[resourceID]
	if !ok {
		return nil, nil, c.gen
	}
	res, site := e.res, e.site
	return &res, &site, c.gen
}

// put keeps res and site unless the cache was invalidated since gen was
// read: what was loaded before a change must not outlive it.
func (c *resourceCache) put(gen uint64, res *Resource, site *Site) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= resourceCacheMax {
		c.m = make(map[string]cachedResource)
	}
	c.m[res.ID] = cachedResource{res: *res, site: *site}
}

// forget drops one resource found stale.
func (c *resourceCache) forget(resourceID string) {
	c.mu.Lock()
	delete(c.m, resourceID)
	c.mu.Unlock()
}

// invalidate forgets everything; call it after a committed change to a
// resource or a site.
func (c *resourceCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.m = nil
	c.mu.Unlock()
}
