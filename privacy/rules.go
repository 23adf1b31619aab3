package privacy

import (
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may do what with personal data.

// mayExport: a member exports their own data, never an API key (which
// acts for an integration) nor anyone for someone else.
func mayExport(p *identity.Principal) error { return identity.MayActAsMe(p) }

// mayEraseSelf: a member erases their own account (with their password).
func mayEraseSelf(p *identity.Principal) error { return identity.MayActAsMe(p) }

// mayEraseUser: only admins erase another's account, on request; not
// their own through this route (another admin does, or DELETE /v1/me).
func mayEraseUser(p *identity.Principal, userID string) error {
	if p == nil || p.IsAPIKey() || !p.IsAdmin() {
		return errs.ErrForbidden
	}
	if p.UserID == userID {
		return errs.Invalid("user_id", "an admin cannot erase themselves here; use DELETE /v1/me")
	}
	return nil
}
