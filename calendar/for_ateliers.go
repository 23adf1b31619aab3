package calendar

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// What package ateliers asks of the calendar: the resources a session of
// an atelier occupies are reserved as the site's manager's blocks, through
// the same checks and locks as any reservation, so an atelier never
// collides with a booking (nor a booking with an atelier) on either
// database.

// ReserveForAtelier reserves every one of resourceIDs, all of siteID, for
// [start, end) in tx, as blocks noted with the atelier's title, on behalf
// of p (who must manage the site: blocks are managers' acts). A resource
// is of siteID, or a kit of another site that p manages too (host.go).
// Resources are
// locked in id order, so that two ateliers over the same resources queue
// rather than deadlock; a booking locks one resource only. A resource
// taken is a 409 slot_taken naming the conflict and the resource.
func (svc *Service) ReserveForAtelier(ctx context.Context, tx bun.Tx, p *identity.Principal, siteID string, resourceIDs []string,
	start, end time.Time, note string) ([]*Reservation, error) {
	ids := slices.Clone(resourceIDs)
	slices.Sort(ids)
	for _, rid := range ids {
		res, err := getResource(ctx, tx, rid, false)
		if err != nil || (res.SiteID != siteID && res.Kind != KindKit) {
			return nil, errs.Rule("resource_ids", "resource_not_found", "no such resource at this site")
		}
		if res.SiteID != siteID {
			// A kit taken away from its home site (host.go).
			if err := mayTakeKitAway(p, res); err != nil {
				return nil, err
			}
		}
		if err := lockResource(ctx, tx, rid); err != nil {
			return nil, err
		}
	}
	out := make([]*Reservation, 0, len(ids))
	for _, rid := range ids {
		r, err := svc.book(ctx, tx, Booking{By: p, ResourceID: rid, Kind: ReservationBlock,
			Start: start.UTC().Format(time.RFC3339), End: end.UTC().Format(time.RFC3339), Note: note}, nil)
		if err != nil {
			// conflictProblem makes a new problem each time: naming the
			// resource in it changes no other answer.
			if p, ok := err.(*errs.Problem); ok && p.Code == "slot_taken" && p.Extra != nil {
				p.Extra["resource_id"] = rid
			}
			return nil, err
		}
		if err := svc.publish(ctx, tx, EventReservationCreated, r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// ReleaseForAtelier cancels, in tx, the blocks ReserveForAtelier made for a
// session that is cancelled, as actorID; the slots go to waiting lists as
// any cancelled reservation's do. Blocks already over stay.
func (svc *Service) ReleaseForAtelier(ctx context.Context, tx bun.Tx, actorID string, reservationIDs []string, reason string) error {
	ids := slices.Clone(reservationIDs)
	slices.Sort(ids)
	for _, rid := range ids {
		r, err := lockReservation(ctx, tx, rid)
		if err != nil {
			return fmt.Errorf("release atelier block %s: %w", rid, err)
		}
		if r.Status == StatusCancelled || !r.EndsAt.After(svc.now()) {
			continue
		}
		if _, err := svc.cancel(ctx, tx, r, actorID, reason); err != nil {
			return err
		}
	}
	return nil
}

// GrantOnAttendance records, in tx, that userID holds qualID from at on,
// granted by grantedBy (the animateur who marked them present at the
// training that teaches it), replacing any grant in force, as
// GrantQualification does. expiresAt may be nil (no end).
func (svc *Service) GrantOnAttendance(ctx context.Context, tx bun.IDB, qualID, userID, grantedBy string, at time.Time, expiresAt *time.Time) error {
	if _, err := svc.getQualification(ctx, tx, qualID); err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model((*Grant)(nil)).Set("revoked_at = ?", at).
		Where("qualification_id = ? AND user_id = ? AND revoked_at IS NULL", qualID, userID).Exec(ctx); err != nil {
		return fmt.Errorf("replace grants: %w", err)
	}
	g := &Grant{ID: id.New(), QualificationID: qualID, UserID: userID, GrantedBy: grantedBy, GrantedAt: at, ExpiresAt: expiresAt}
	if _, err := tx.NewInsert().Model(g).Exec(ctx); err != nil {
		return fmt.Errorf("grant qualification: %w", err)
	}
	return nil
}

// QualificationSite is the site of a qualification, for ateliers to check
// that a training and the qualification it grants are of one site.
func (svc *Service) QualificationSite(ctx context.Context, idb bun.IDB, qualID string) (string, error) {
	q, err := svc.getQualification(ctx, idb, qualID)
	if err != nil {
		return "", err
	}
	return q.SiteID, nil
}

// ListSiteIDs lists every site's id, for the network-wide figures of
// package reports (which decides who may read them).
func (svc *Service) ListSiteIDs(ctx context.Context) ([]string, error) {
	var ids []string
	if err := svc.db.NewSelect().Model((*Site)(nil)).Column("id").Order("id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	return ids, nil
}
