package dashboard

import (
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// errManagersOnly: the dashboard is for the site's managers.
var errManagersOnly = &errs.Problem{Kind: errs.ErrForbidden, Code: "managers_only", Detail: "only the site's managers read its dashboard"}

// mayReadDashboard: the site's managers and the network's admins, in
// person. Not API keys: the figures span revenue, members and presence,
// which no single scope covers; not members, nor another site's managers.
func mayReadDashboard(p *identity.Principal, siteID string) error {
	if p == nil || p.IsAPIKey() || !p.ManagesSite(siteID) {
		return errManagersOnly
	}
	return nil
}
