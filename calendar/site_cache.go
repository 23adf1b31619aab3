package calendar

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// siteCacheSites caps the sites kept; past it the least recently used
// goes. A busy week of a 500-desk site is about 20,000 intervals and 500
// resources, around 1 MB.
const siteCacheSites = 32

// siteReloadMax is how many changed resources are read again one by one;
// past it the whole site is.
const siteReloadMax = 64

// siteCache keeps, per site, what availability reads: the resources, and
// their live reservations over a window of time. A request first reads
// each resource's two counters — version, bumped by every change to the
// resource, and booking_seq, bumped by a trigger in every transaction that
// writes one of its reservations — and then reads again only what moved:
// a few rows rather than tens of thousands. Counters are read before the
// rows they label, so a copy may hold changes newer than its label (and is
// then read again once more), never older ones: the cache is as current as
// a direct read, across replicas too.
type siteCache struct {
	mu    sync.Mutex
	tick  uint64
	sites map[string]*siteState
}

// siteState is one site's copy. It is never changed once published: a
// refresh builds a new one.
type siteState struct {
	from, to  time.Time // the window whose reservations and closures are kept, [from, to)
	resources map[string]cachedSiteResource
	// siteVersion labels siteClosed, the site's closures in the window,
	// sorted (a trigger bumps sites.version when a closure changes).
	siteVersion int64
	siteClosed  []span
	used        uint64 // the cache's tick when last used
}

type cachedSiteResource struct {
	res    Resource // res.Version also labels closed
	closed []span   // the resource's closures in the window, sorted
	seq    int64
	edges  []edge
}

// siteView is what availability reads from the cache: never to be changed.
type siteView struct {
	resources  []Resource // in service, by kind, name and id (byte order)
	edges      map[string][]edge
	closed     map[string][]span // by resource
	siteClosed []span
}

// counters is a resource's id with its two change counters.
type counters struct {
	ID           string
	Version, Seq int64
}

// readCounters reads the counters of a site's resources in service,
// scanning by hand: it runs on every availability request, and bun's
// reflection was most of its cost. (Sorting in SQL was most of the rest:
// siteResources sorts in Go.)
func (svc *Service) readCounters(ctx context.Context, siteID string) ([]counters, error) {
	rows, err := svc.db.QueryContext(ctx, `SELECT id, version, booking_seq FROM resources
		WHERE site_id = ? AND retired_at IS NULL`, siteID)
	if err != nil {
		return nil, fmt.Errorf("read resource counters: %w", err)
	}
	defer rows.Close()
	var cs []counters
	for rows.Next() {
		var c counters
		if err := rows.Scan(&c.ID, &c.Version, &c.Seq); err != nil {
			return nil, fmt.Errorf("read resource counters: %w", err)
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read resource counters: %w", err)
	}
	return cs, nil
}

func (c *siteCache) get(siteID string) *siteState {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.sites[siteID]
	if e != nil {
		c.tick++
		e.used = c.tick
	}
	return e
}

func (c *siteCache) put(siteID string, e *siteState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sites == nil {
		c.sites = map[string]*siteState{}
	}
	if _, ok := c.sites[siteID]; !ok && len(c.sites) >= siteCacheSites {
		oldest := ""
		for id, s := range c.sites {
			if oldest == "" || s.used < c.sites[oldest].used {
				oldest = id
			}
		}
		delete(c.sites, oldest)
	}
	c.tick++
	e.used = c.tick
	c.sites[siteID] = e
}

// siteResources returns the site's resources in service, the edges of
// their live reservations that may overlap [from, to), and the closures of
// the site and of each resource there. The edges may reach outside the
// window and include holds lapsed by now: freeIntervals leaves those out.
// site must have been read before the call (its version labels the
// closures kept).
func (svc *Service) siteResources(ctx context.Context, site *Site, from, to time.Time) (*siteView, error) {
	// 1. The counters, before any row they label.
	cs, err := svc.readCounters(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	// 2. What moved since the copy was made; everything if the copy's
	// window does not cover the request (widened to whole UTC days, so that
	// the next requests, whose "now" has moved on, still fall inside it).
	prev := svc.sites.get(site.ID)
	from, to = from.UTC().Truncate(24*time.Hour), ceilDay(to)
	if prev != nil {
		if !from.Before(prev.from) && !to.After(prev.to) {
			from, to = prev.from, prev.to
		} else {
			prev = nil
		}
	}
	var staleRes, staleBusy []string
	for _, c := range cs {
		old, ok := cachedSiteResource{}, false
		if prev != nil {
			old, ok = prev.resources[c.ID]
		}
		if !ok || old.res.Version != c.Version {
			staleRes = append(staleRes, c.ID)
		}
		if !ok || old.seq != c.Seq {
			staleBusy = append(staleBusy, c.ID)
		}
	}
	staleSite := prev == nil || prev.siteVersion != site.Version
	state := prev
	if prev == nil || staleSite || len(staleRes) > 0 || len(staleBusy) > 0 {
		// 3. Read those again, one by one if few, the whole site
		// otherwise, into a new copy: the one published is never changed.
		next := &siteState{from: from, to: to, resources: make(map[string]cachedSiteResource, len(cs))}
		if prev != nil {
			next.siteVersion, next.siteClosed = prev.siteVersion, prev.siteClosed
		}
		for _, c := range cs {
			old := cachedSiteResource{}
			if prev != nil {
				old = prev.resources[c.ID]
			}
			old.seq = c.Seq
			next.resources[c.ID] = old
		}
		if err := svc.reloadSite(ctx, site, next, staleSite, staleRes, staleBusy); err != nil {
			return nil, err
		}
		svc.sites.put(site.ID, next)
		state = next
	}
	v := &siteView{resources: make([]Resource, 0, len(cs)), edges: make(map[string][]edge, len(cs)),
		closed: make(map[string][]span, len(cs)), siteClosed: state.siteClosed}
	for _, c := range cs {
		e := state.resources[c.ID]
		if e.res.ID == "" {
			continue // deleted between the two reads
		}
		v.resources = append(v.resources, e.res)
		v.edges[c.ID], v.closed[c.ID] = e.edges, e.closed
	}
	slices.SortFunc(v.resources, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return v, nil
}

// ceilDay rounds t up to a UTC midnight.
func ceilDay(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	if d.Before(t) {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// reloadSite reads into next what changed: the site's closures, the
// resources (with their closures) and the reservations, one resource at a
// time if few changed, the whole site otherwise.
func (svc *Service) reloadSite(ctx context.Context, site *Site, next *siteState, staleSite bool, staleRes, staleBusy []string) error {
	if staleSite {
		var cs []Closure
		if err := svc.db.NewSelect().Model(&cs).Where("site_id = ? AND starts_at < ? AND ends_at > ?", site.ID, next.to, next.from).
			Order("starts_at").Scan(ctx); err != nil {
			return fmt.Errorf("read closures: %w", err)
		}
		next.siteVersion, next.siteClosed = site.Version, closureSpans(cs)
	}
	if len(staleRes) > 0 {
		rs := []Resource{}
		q := svc.db.NewSelect().Model(&rs).Where("site_id = ?", site.ID)
		if len(staleRes) <= siteReloadMax {
			q = q.Where("id IN (?)", bun.In(staleRes))
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("list resources: %w", err)
		}
		// Closures after the resources: their versions label them.
		var cs []ResourceClosure
		q = svc.db.NewSelect().Model(&cs).Where("starts_at < ? AND ends_at > ?", next.to, next.from).Order("starts_at")
		if len(staleRes) <= siteReloadMax {
			q = q.Where("resource_id IN (?)", bun.In(staleRes))
		} else {
			q = q.Where("resource_id IN (SELECT id FROM resources WHERE site_id = ?)", site.ID)
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("read resource closures: %w", err)
		}
		closed := map[string][]span{}
		for _, c := range cs {
			closed[c.ResourceID] = append(closed[c.ResourceID], span{c.StartsAt, c.EndsAt})
		}
		for _, r := range rs {
			if e, ok := next.resources[r.ID]; ok {
				e.res, e.closed = r, closed[r.ID]
				next.resources[r.ID] = e
			}
		}
	}
	if len(staleBusy) > 0 {
		ids := staleBusy
		if len(ids) > siteReloadMax {
			ids = nil
		}
		fresh, err := svc.readBusy(ctx, site.ID, ids, next.from, next.to)
		if err != nil {
			return err
		}
		for _, id := range staleBusy {
			e := next.resources[id]
			e.edges = edgesOf(fresh[id])
			next.resources[id] = e
		}
	}
	return nil
}
