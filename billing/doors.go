package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
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
// siteID at instant t, each with its plan's inclusions. A door answers on
// every unlock, so it skips what bookings need (packs, row locks), reads
// each kind of right with its plan in one query, and reads day passes only
// when no membership opens the door at any hour.
func (s *Service) doorRights(ctx context.Context, userID, siteID string, t time.Time) ([]right, error) {
	var ms []struct {
		Membership `bun:",extend"`
		Includes   Includes `bun:"plan_includes"`
	}
	// The query every unlock runs: prepared on PostgreSQL (db.Prepared).
	if err := db.ScanPrepared(ctx, s.db, &ms, `SELECT m.id, m.user_id, m.plan_id, m.site_id, m.status,
			m.current_period_start, m.current_period_end, m.cancel_at_period_end, m.past_due_since,
			pl.includes AS plan_includes
		FROM memberships AS m JOIN plans AS pl ON pl.id = m.plan_id
		WHERE m.user_id = ? AND m.status IN ('`+StatusActive+`', '`+StatusPastDue+`') AND (m.site_id IS NULL OR m.site_id = ?)
		ORDER BY m.created_at`, userID, siteID); err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	var out []right
	for i := range ms {
		if !ms[i].Usable(t, s.grace) {
			continue
		}
		out = append(out, right{membership: &ms[i].Membership, plan: &Plan{ID: ms[i].PlanID, Includes: ms[i].Includes}})
		if ms[i].Includes.DoorAccess == DoorAlways {
			return out, nil
		}
	}
	var passes []struct {
		DayPass  `bun:",extend"`
		Includes Includes `bun:"plan_includes"`
	}
	if err := s.db.NewSelect().Model(&passes).ColumnExpr("dp.id, dp.user_id, dp.plan_id, dp.site_id, dp.starts_at, dp.ends_at, dp.status, pl.includes AS plan_includes").
		Join("JOIN plans AS pl ON pl.id = dp.plan_id").
		Where("dp.user_id = ? AND dp.site_id = ? AND dp.status = ? AND dp.starts_at <= ? AND dp.ends_at > ?", userID, siteID, StatusActive, t, t).
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("read day passes: %w", err)
	}
	for i := range passes {
		out = append(out, right{pass: &passes[i].DayPass, plan: &Plan{ID: passes[i].PlanID, Includes: passes[i].Includes}})
	}
	return out, nil
}
