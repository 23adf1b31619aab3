package ateliers

import (
	"slices"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

var (
	errAtelierNotFound      = errs.Problemf(errs.ErrNotFound, "atelier_not_found", "no such atelier")
	errSessionNotFound      = errs.Problemf(errs.ErrNotFound, "session_not_found", "no such session of this atelier")
	errRegistrationNotFound = errs.Problemf(errs.ErrNotFound, "registration_not_found", "no such registration")
	errSiteNotFound         = errs.Problemf(errs.ErrNotFound, "site_not_found", "no such site")
)

// mayRun: creating and changing a site's ateliers, registering anyone,
// cancelling sessions — the site's managers and the admins; never an API
// key (these are a person's acts).
func mayRun(p *identity.Principal, siteID string) error {
	if p.IsSystem() || (!p.IsAPIKey() && p.ManagesSite(siteID)) {
		return nil
	}
	return errs.ErrForbidden
}

// seesAll: who reads an atelier whatever its audience, with participants'
// names — the site's managers, the admins, and the atelier's animateurs.
func seesAll(p *identity.Principal, a *Atelier) bool {
	if p == nil {
		return false
	}
	if p.IsSystem() || (!p.IsAPIKey() && p.ManagesSite(a.SiteID)) {
		return true
	}
	return !p.IsAPIKey() && p.UserID != "" && slices.Contains(a.AnimateurIDs, p.UserID)
}

// mayRead: an atelier of audience public or members is read by anyone,
// signed in or not (the public agenda: no participant's name); an
// invitation-only one by those who see all, and by those registered to it
// (handled by the caller).
func mayRead(p *identity.Principal, a *Atelier) bool {
	return a.Audience != AudienceInvitation || seesAll(p, a)
}

// mayTakeAttendance: the site's managers and the atelier's animateurs.
func mayTakeAttendance(p *identity.Principal, a *Atelier) bool { return seesAll(p, a) }
