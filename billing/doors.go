package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
)

// Entry is billing's answer to "may this member open this site's door
// now": the access package adds reservations (a room's lock, a machine)
// and records the decision.
type Entry struct {
	Allowed bool
	// Code names the reason when refused: no_membership,
	// membership_suspended, no_door_access or outside_door_window.
	Code   string
	Detail string
	// Window is the right that allowed it: 24_7 or opening_hours.
	Window string
}

// MayEnter decides whether userID's memberships or day passes open siteID's
// doors at instant t: an active (or grace-period) membership or a day pass
// valid now, within its plan's door window (24/7, or the site's opening
// hours).
func (s *Service) MayEnter(ctx context.Context, userID, siteID string, t time.Time) (*Entry, error) {
	rights, err := s.doorRights(ctx, userID, siteID, t)
	if err != nil {
		return nil, err
	}
	var site *calendar.Site // read only when a plan opens in opening hours
	best := &Entry{Code: "no_membership", Detail: "no membership or day pass is valid now at this site"}
	for _, rt := range rights {
		switch rt.plan.Includes.DoorAccess {
		case DoorAlways:
			return &Entry{Allowed: true, Window: DoorAlways}, nil
		case DoorOpeningHours, "":
			if site == nil {
				if site, err = calendar.LoadSite(ctx, s.db, siteID); err != nil {
					return nil, err
				}
			}
			if site.OpeningHours.Covers(site.Location(), t, t.Add(time.Minute)) {
				return &Entry{Allowed: true, Window: DoorOpeningHours}, nil
			}
			best = &Entry{Code: "outside_door_window", Detail: "your plan opens the doors during opening hours only"}
		case DoorNone:
			if best.Code == "no_membership" {
				best = &Entry{Code: "no_door_access", Detail: "your plan does not include door access"}
			}
		}
	}
	if best.Code == "no_membership" {
		n, err := s.db.NewSelect().Model((*Membership)(nil)).
			Where("user_id = ? AND (site_id IS NULL OR site_id = ?)", userID, siteID).
			Where("status = ? OR (status = ? AND past_due_since <= ?)", StatusSuspended, StatusPastDue, t.Add(-s.grace)).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("read suspended memberships: %w", err)
		}
		if n > 0 {
			best = &Entry{Code: "membership_suspended", Detail: "your membership is suspended until the payment is settled"}
		}
	}
	return best, nil
}

// doorRights loads the memberships and day passes of userID usable at
// siteID at instant t, with their plans, in three queries: a door answers
// on every unlock, so it skips what bookings need (packs, row locks).
func (s *Service) doorRights(ctx context.Context, userID, siteID string, t time.Time) ([]right, error) {
	var ms []Membership
	if err := s.db.NewSelect().Model(&ms).Where("user_id = ? AND status IN (?)", userID, bun.In([]string{StatusActive, StatusPastDue})).
		Where("site_id IS NULL OR site_id = ?", siteID).Order("created_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	var passes []DayPass
	if err := s.db.NewSelect().Model(&passes).Where("user_id = ? AND site_id = ? AND status = ? AND starts_at <= ? AND ends_at > ?",
		userID, siteID, StatusActive, t, t).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read day passes: %w", err)
	}
	var out []right
	planIDs := []string{}
	for i := range ms {
		if ms[i].Usable(t, s.grace) {
			out = append(out, right{membership: &ms[i]})
			planIDs = append(planIDs, ms[i].PlanID)
		}
	}
	for i := range passes {
		out = append(out, right{pass: &passes[i]})
		planIDs = append(planIDs, passes[i].PlanID)
	}
	if len(out) == 0 {
		return nil, nil
	}
	var plans []Plan
	if err := s.db.NewSelect().Model(&plans).Where("id IN (?)", bun.In(planIDs)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read plans: %w", err)
	}
	for i := range out {
		planID := ""
		if out[i].membership != nil {
			planID = out[i].membership.PlanID
		} else {
			planID = out[i].pass.PlanID
		}
		for j := range plans {
			if plans[j].ID == planID {
				out[i].plan = &plans[j]
			}
		}
		if out[i].plan == nil {
			return nil, fmt.Errorf("plan %s of a right: %w", planID, errPlanNotFound)
		}
	}
	return out, nil
}
