package access

import (
	"context"
	"fmt"
	"sort"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// MemberDoor is a door of one of the member's sites, with what would
// happen if they pressed its button now.
type MemberDoor struct {
	Device   devices.Device
	SiteName string
	// MayOpen is CheckDoor's decision at this instant, and false too when
	// the lock is offline (nothing could be sent to it).
	MayOpen bool
	// Reason names why not: CheckDoor's code (no_membership,
	// outside_door_window, no_reservation…) or device_offline.
	Reason string
}

// DoorsFor lists the locks of the sites p belongs to: those whose plans
// or day passes they hold (any status but cancelled: a suspended member
// hears why the door stays shut) and those they manage. Each says whether
// p may open it now, by the same decision as an unlock (CheckDoor), with
// nothing recorded: reading the list is not trying a door. A room's lock
// is listed only while p may open it (a booking of that room under way),
// so that a member does not see every room of the house refused.
func (g *Gate) DoorsFor(ctx context.Context, p *identity.Principal) ([]MemberDoor, error) {
	if p == nil || p.IsAPIKey() {
		return nil, errs.ErrForbidden
	}
	sites, err := g.memberSites(ctx, p)
	if err != nil {
		return nil, err
	}
	now := g.now()
	out := []MemberDoor{}
	for _, site := range sites {
		ds, err := g.dev.List(ctx, site.ID)
		if err != nil {
			return nil, err
		}
		for i := range ds {
			d := &ds[i]
			if d.Kind != devices.KindLock {
				continue
			}
			ev, err := g.CheckDoor(ctx, p, d, now)
			if err != nil {
				return nil, err
			}
			door := MemberDoor{Device: *d, SiteName: site.Name, MayOpen: ev.Decision == Granted}
			switch {
			case !door.MayOpen && d.ResourceID != nil:
				continue
			case !door.MayOpen:
				door.Reason = ev.Reason
			case !d.Online:
				door.MayOpen, door.Reason = false, "device_offline"
			}
			out = append(out, door)
		}
	}
	return out, nil
}

// memberSites: the sites of p's memberships and day passes not cancelled
// (every site for a membership of the whole network, or an admin), and
// the sites p manages, by name.
func (g *Gate) memberSites(ctx context.Context, p *identity.Principal) ([]calendar.Site, error) {
	set := map[string]bool{}
	all := p.IsAdmin()
	for _, s := range p.ManagedSites {
		set[s] = true
	}
	ms, err := g.bill.ListMemberships(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Status == billing.StatusCanceled || m.Status == billing.StatusPending {
			continue
		}
		if m.SiteID == nil {
			all = true
		} else {
			set[*m.SiteID] = true
		}
	}
	passes, err := g.bill.ListDayPasses(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	now := g.now()
	for _, dp := range passes {
		if dp.Status != billing.StatusCanceled && dp.EndsAt.After(now) {
			set[dp.SiteID] = true
		}
	}
	var sites []calendar.Site
	q := g.db.NewSelect().Model(&sites).Column("id", "name").Order("name", "id")
	if !all {
		if len(set) == 0 {
			return nil, nil
		}
		ids := make([]string, 0, len(set))
		for s := range set {
			ids = append(ids, s)
		}
		sort.Strings(ids)
		q = q.Where("id IN (?)", bun.In(ids))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read the member's sites: %w", err)
	}
	return sites, nil
}
