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

// DeskAccount is what decides whether the desk may edit a person's
// account.
type DeskAccount struct {
	// RegisteredAtDesk: the person was registered at a site's desk (a
	// walk-in), rather than signing up.
	RegisteredAtDesk bool
	// AwaitingPassword: they have not chosen a password (through their
	// invitation) yet, so have never signed in.
	AwaitingPassword bool
}

var (
	errNotWalkIn = errs.Problemf(errs.ErrForbidden, "person_edits_own_profile",
		"this person signed up themselves: they edit their own name, phone and email")
	errAccountClaimed = errs.Problemf(errs.ErrForbidden, "person_edits_own_profile",
		"this person has chosen their password: they edit their own name, phone and email")
)

// MayEditPerson: the desk (MayServePeople) corrects the name, phone and
// email of a person it registered, and gives them an email later, only
// while that person has not taken their account in hand. Once they have
// chosen a password the account is theirs: whoever sets its address can
// have its password reset link sent there, so the desk gets a 403 saying
// they edit their own profile; so does a person who signed up themselves.
// Admins are held to the same rule here (they have PATCH /v1/users).
func MayEditPerson(p *identity.Principal, siteID string, acct DeskAccount) error {
	if err := MayServePeople(p, siteID); err != nil {
		return err
	}
	if !acct.RegisteredAtDesk {
		return errNotWalkIn
	}
	if !acct.AwaitingPassword {
		return errAccountClaimed
	}
	return nil
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
