package appointments

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

var (
	errPartnerNotFound     = errs.Problemf(errs.ErrNotFound, "partner_not_found", "no such partner")
	errWindowNotFound      = errs.Problemf(errs.ErrNotFound, "window_not_found", "no such window of this partner")
	errAppointmentNotFound = errs.Problemf(errs.ErrNotFound, "appointment_not_found", "no such appointment")
	errSiteNotFound        = errs.Problemf(errs.ErrNotFound, "site_not_found", "no such site")
)

// Agents are not a role of identity: an agent is an account with a row in
// partner_agents, checked here. The Principal carries no partner, so an
// agent's token is a member's token, and everything but a partner's own
// appointments stays as closed to them as to any member.

// mayRunPartner: changing a partner, its agents — the admins for a
// network-wide partner, the site's managers (and the admins) for a site's.
// Never an API key: these are a person's acts.
func mayRunPartner(p *identity.Principal, pt *Partner) bool {
	if p.IsSystem() {
		return true
	}
	if p == nil || p.IsAPIKey() {
		return false
	}
	if pt.SiteID == nil {
		return p.IsAdmin()
	}
	return p.ManagesSite(*pt.SiteID)
}

// managesSite: the site's managers and the admins, not API keys.
func managesSite(p *identity.Principal, siteID string) bool {
	return p.IsSystem() || (p != nil && !p.IsAPIKey() && p.ManagesSite(siteID))
}

// isAgent reports whether p acts for the partner.
func (s *Service) isAgent(ctx context.Context, idb bun.IDB, p *identity.Principal, partnerID string) (bool, error) {
	if p == nil || p.IsAPIKey() || p.UserID == "" {
		return false, nil
	}
	n, err := idb.NewSelect().Model((*Agent)(nil)).Where("partner_id = ? AND user_id = ?", partnerID, p.UserID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("find agent: %w", err)
	}
	return n > 0, nil
}

// mayPublishWindow: the managers of the window's site (and the admins).
// A window promises the site's resource — every appointment booked in it
// blocks the booth — so it is the host's to open, not the partner's: an
// agent of a network-wide partner could otherwise take any site's booth.
func mayPublishWindow(p *identity.Principal, siteID string) error {
	if managesSite(p, siteID) {
		return nil
	}
	return errs.ErrForbidden
}

// mayPromiseKit: a window at a host place (or any site) may hold a kit of
// another site, a portable visio kit for instance, when its publisher
// manages the kit's home site too (the rule of calendar's host.go: the home
// site's team answers for its kits). The calendar then keeps the kit from
// being promised twice, whoever reserves it.
func mayPromiseKit(p *identity.Principal, site *calendar.Site, res *calendar.Resource) error {
	if res.SiteID == site.ID {
		return nil
	}
	if !managesSite(p, res.SiteID) {
		return calendar.KitHomeManagersOnly("resource_id")
	}
	return nil
}

// mayCloseWindow: those who publish it, and the partner's agents (the
// partner stops receiving then).
func (s *Service) mayCloseWindow(ctx context.Context, p *identity.Principal, pt *Partner, siteID string) error {
	if managesSite(p, siteID) {
		return nil
	}
	ok, err := s.isAgent(ctx, s.db, p, pt.ID)
	if err != nil {
		return err
	}
	if !ok {
		return errs.ErrForbidden
	}
	return nil
}

// appointmentRole is how p sees an appointment: as its resident, as the
// site's manager (the animateur at the desk), as the partner's agent, or
// not at all (404, as if there were none). Only an agent reads the
// outcome's note, which is the partner's.
type appointmentRole struct {
	resident, manager, agent bool
}

func (r appointmentRole) any() bool { return r.resident || r.manager || r.agent }

func (s *Service) roleOn(ctx context.Context, p *identity.Principal, a *Appointment) (appointmentRole, error) {
	var r appointmentRole
	if p == nil || p.IsAPIKey() {
		return r, nil
	}
	r.resident = p.UserID != "" && p.UserID == a.UserID
	r.manager = managesSite(p, a.SiteID)
	agent, err := s.isAgent(ctx, s.db, p, a.PartnerID)
	r.agent = agent
	return r, err
}

// --- services-app ---

// mayListAgencies: a signed-in person asks which partners they act for;
// an API key is no one's agent.
func mayListAgencies(p *identity.Principal) error {
	if p == nil || p.IsAPIKey() || p.UserID == "" {
		return errs.ErrForbidden
	}
	return nil
}
