package ledger

import (
	"context"
	"fmt"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may do what with credit. Every operation takes the caller's
// principal and asks these functions, so that a rule is written once.

const errKeyHoldsNoCredit = errs.Refusal("an API key holds no credit")

// MayHoldCredit is the rule of a member's own credit (balances, movements,
// statements, gifts): a user's, never an API key's, even one a member made.
// Handlers ask it before reading their input, so a key learns the rule
// before any mistake in it.
func MayHoldCredit(p *identity.Principal) error {
	switch {
	case p.IsAPIKey():
		return errKeyHoldsNoCredit
	case p == nil || p.UserID == "":
		return errs.ErrForbidden // nobody, or the system: no credit of their own
	}
	return nil
}

var (
	errManagersOnly = errs.Refused("site_id", "only managers of the site grant or withdraw its credit")
	errSiteNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
)

// mayAdjustCredit: the site's managers and admins (and the system) grant
// and withdraw credit usable at the site; never an API key.
func mayAdjustCredit(p *identity.Principal, siteID string) error {
	if p.IsAPIKey() || !p.ManagesSite(siteID) {
		return errManagersOnly
	}
	return nil
}

// mayAdjust is mayAdjustCredit, then whether the site exists: who may
// not adjust its credit is refused before being told.
func (s *Service) mayAdjust(ctx context.Context, p *identity.Principal, siteID string) error {
	if err := mayAdjustCredit(p, siteID); err != nil {
		return err
	}
	ok, err := s.sites.SiteExists(ctx, s.db, siteID)
	if err != nil {
		return fmt.Errorf("check site: %w", err)
	}
	if !ok {
		return errSiteNotFound
	}
	return nil
}

// actorOf is who a grant or withdrawal is recorded as made by: the
// manager, or for the system, whom it names.
func actorOf(p *identity.Principal, named string) string {
	if p.IsSystem() && named != "" {
		return named
	}
	return p.UserID
}
