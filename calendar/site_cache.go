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
	from, to  time.Time // the window whose reservations are kept, [from, to)
	resources map[string]cachedSiteResource
	used      uint64 // the cache's tick when last used
}

type cachedSiteResource struct {
	res   Resource
	seq   int64
	edges []edge
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

// siteResources returns a site's resources in service (ordered by kind,
// name and id, compared byte by byte) and the edges of their live reservations
// that may overlap [from, to), by resource. The edges may reach outside the
// window and include holds lapsed by now: freeIntervals leaves those out.
func (svc *Service) siteResources(ctx context.Context, siteID string, from, to time.Time) ([]Resource, map[string][]edge, error) {
	// 1. The counters, before any row they label.
	cs, err := svc.readCounters(ctx, siteID)
	if err != nil {
		return nil, nil, err
	}
	// 2. What moved since the copy was made; everything if the copy's
	// window does not cover the request (widened to whole UTC days, so that
	// the next requests, whose "now" has moved on, still fall inside it).
	prev := svc.sites.get(siteID)
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
	state := prev
	if prev == nil || len(staleRes) > 0 || len(staleBusy) > 0 {
		// 3. Read those again, one by one if few, the whole site
		// otherwise, into a new copy: the one published is never changed.
		next := &siteState{from: from, to: to, resources: make(map[string]cachedSiteResource, len(cs))}
		for _, c := range cs {
			old := cachedSiteResource{}
			if prev != nil {
				old = prev.resources[c.ID]
			}
			old.seq = c.Seq
			next.resources[c.ID] = old
		}
		if err := svc.reloadSite(ctx, siteID, next, staleRes, staleBusy); err != nil {
			return nil, nil, err
		}
		svc.sites.put(siteID, next)
		state = next
	}
	rs := make([]Resource, 0, len(cs))
	edges := make(map[string][]edge, len(cs))
	for _, c := range cs {
		e := state.resources[c.ID]
		if e.res.ID == "" {
			continue // deleted between the two reads
		}
		rs = append(rs, e.res)
		edges[c.ID] = e.edges
	}
	slices.SortFunc(rs, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return rs, edges, nil
}

// ceilDay rounds t up to a UTC midnight.
func ceilDay(t time.Time) time.Time {
	d := t.UTC().Truncate(24 * time.Hour)
	if d.Before(t) {
		d = d.Add(24 * time.Hour)
	}
	return d
}

// reloadSite reads into next the resources and the reservations that
// changed: one by one if few, the whole site otherwise.
func (svc *Service) reloadSite(ctx context.Context, siteID string, next *siteState, staleRes, staleBusy []string) error {
	if len(staleRes) > 0 {
		rs := []Resource{}
		q := svc.db.NewSelect().Model(&rs).Where("site_id = ?", siteID)
		if len(staleRes) <= siteReloadMax {
			q = q.Where("id IN (?)", bun.In(staleRes))
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("list resources: %w", err)
		}
		for _, r := range rs {
			if e, ok := next.resources[r.ID]; ok {
				e.res = r
				next.resources[r.ID] = e
			}
		}
	}
	if len(staleBusy) > 0 {
		ids := staleBusy
		if len(ids) > siteReloadMax {
			ids = nil
		}
		fresh, err := svc.readBusy(ctx, siteID, ids, next.from, next.to)
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
