package ateliers

import (
	"context"
	"fmt"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/id"
)

// --- services-app ---

// AgendaSite is what the public agenda says of its site, to anyone: its
// name, time zone and address (a town's website links to the agenda, and
// its readers are signed out). Nothing else of the site.
func (s *Service) AgendaSite(ctx context.Context, siteID string) (*calendar.Site, error) {
	if !id.Valid(siteID) {
		return nil, errSiteNotFound
	}
	site, err := s.cfg.Calendar.GetSite(ctx, siteID)
	if err != nil {
		return nil, errSiteNotFound
	}
	return site, nil
}

// positions sets each waiting registration's place in its session's line,
// in the order promote follows (created_at, id).
func (s *Service) positions(ctx context.Context, rs []Registration) error {
	for i := range rs {
		r := &rs[i]
		if r.Status != StatusWaitlisted {
			continue
		}
		n, err := s.db.NewSelect().Model((*Registration)(nil)).Where("session_id = ? AND status = ?", r.SessionID, StatusWaitlisted).
			Where("(created_at < ? OR (created_at = ? AND id < ?))", r.CreatedAt, r.CreatedAt, r.ID).Count(ctx)
		if err != nil {
			return fmt.Errorf("waiting list position: %w", err)
		}
		r.Position = n + 1
	}
	return nil
}
