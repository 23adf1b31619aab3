package people

import (
	"context"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

var errSiteNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}

// errPersonNotFound is any person the caller may not see at this site,
// whether the account exists or not.
var errPersonNotFound = errs.Problemf(errs.ErrNotFound, "person_not_found", "no such person at this site")

// MayReadPeople: the site's managers and the admins, and API keys of the
// site with users:read (a desk's kiosk or a CRM). A member, or a manager
// of another site, may know the site exists (403) but never who it serves.
func MayReadPeople(p *identity.Principal, siteID string) error {
	if p.IsSystem() || (p.ManagesSite(siteID) && p.HasScope(identity.ScopeUsersRead)) {
		return nil
	}
	if identity.CanReadSite(p, siteID) {
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// MayServePeople: registering walk-ins, giving them an email and writing
// notes are a person's acts at the desk, the site's managers' and the
// admins'; never an API key's.
func MayServePeople(p *identity.Principal, siteID string) error {
	if p.IsAPIKey() {
		if err := MayReadPeople(p, siteID); err != nil {
			return err
		}
		return errs.ErrForbidden
	}
	if p.ManagesSite(siteID) {
		return nil
	}
	if identity.CanReadSite(p, siteID) {
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// checkSite turns an unknown site into a 404 after the rule said yes (an
// admin may name any id).
func (s *Service) checkSite(ctx context.Context, siteID string) error {
	if !id.Valid(siteID) {
		return errSiteNotFound
	}
	ok, err := s.cfg.Sites.SiteExists(ctx, s.db, siteID)
	if err != nil {
		return err
	}
	if !ok {
		return errSiteNotFound
	}
	return nil
}
