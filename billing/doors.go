package billing

import (
	"context"
	"fmt"
	"time"

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
	site, err := calendar.LoadSite(ctx, s.db, siteID)
	if err != nil {
		return nil, err
	}
	rights, err := s.rightsAt(ctx, s.db, userID, siteID, t, false)
	if err != nil {
		return nil, err
	}
	best := &Entry{Code: "no_membership", Detail: "no membership or day pass is valid now at this site"}
	for _, rt := range rights {
		if rt.pack != nil {
			continue // packs pay for bookings; the door comes with the booking
		}
		switch rt.plan.Includes.DoorAccess {
		case DoorAlways:
			return &Entry{Allowed: true, Window: DoorAlways}, nil
		case DoorOpeningHours, "":
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
