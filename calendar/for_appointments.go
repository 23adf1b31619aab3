package calendar

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
)

// What package appointments asks of the calendar. A partner's window opens
// a resource (the visio-guichet booth, a room) to appointments whatever
// the members' booking rules (notice, horizon, member_bookable): the
// window's hours were checked against the opening hours when it was
// published. What still applies is what the calendar knows of the
// resource: closures, and every live reservation with its buffer.

// FreeForAppointments returns the parts of [from, to) in which resourceID,
// of siteID, is free: outside the site's and the resource's closures and
// outside live reservations (lapsed holds excepted) and the buffer a new
// one needs before the next. It reads the site's cached view and sweeps it
// as availability does. A resource retired or not of the site is never
// free.
func (svc *Service) FreeForAppointments(ctx context.Context, siteID, resourceID string, from, to time.Time) ([]FreeInterval, error) {
	if !to.After(from) {
		return nil, nil
	}
	site, err := svc.GetSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	if site.IsHost() {
		// A window at a host place holds a kit of another site: read the
		// kit's home, where its reservations are.
		res, err := svc.GetResource(ctx, resourceID)
		if err != nil || res.Kind != KindKit {
			return nil, nil
		}
		if site, err = svc.GetSite(ctx, res.SiteID); err != nil {
			return nil, err
		}
	}
	v, err := svc.siteResources(ctx, site, from, to)
	if err != nil {
		return nil, err
	}
	for i := range v.resources {
		res := &v.resources[i]
		if res.ID != resourceID || res.RetiredAt != nil {
			continue
		}
		open := subtract(subtract([]span{{from.UTC(), to.UTC()}}, v.siteClosed), v.closed[res.ID])
		rules := res.Rules.withDefaults(res.Kind)
		return freeIntervals(nil, open, v.edges[res.ID], svc.now(), res, 1, time.Duration(rules.BufferAfterMinutes)*time.Minute), nil
	}
	return nil, nil
}

// ReserveForAppointment reserves resourceID, of siteID, for [start, end)
// in tx as a block noted with the appointment, made by relais itself on
// the partner's behalf: the resident is not billed for the booth, and the
// same locks and checks as any reservation keep it from colliding with a
// booking or an atelier on either database (409 slot_taken). actorID, who
// books (the resident, or the animateur for them), is recorded as its
// author.
func (svc *Service) ReserveForAppointment(ctx context.Context, tx bun.Tx, actorID, siteID, resourceID string, start, end time.Time, note string) (*Reservation, error) {
	by := identity.System()
	by.UserID = actorID
	rs, err := svc.ReserveForAtelier(ctx, tx, by, siteID, []string{resourceID}, start, end, note)
	if err != nil {
		return nil, err
	}
	return rs[0], nil
}

// ReleaseForAppointment cancels, in tx, the block of an appointment
// cancelled or moved, as actorID.
func (svc *Service) ReleaseForAppointment(ctx context.Context, tx bun.Tx, actorID, reservationID, reason string) error {
	return svc.ReleaseForAtelier(ctx, tx, actorID, []string{reservationID}, reason)
}
