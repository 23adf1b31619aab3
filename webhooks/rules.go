package webhooks

import "github.com/relais-tierslieux/relais/identity"

// Who may do what with webhooks. An endpoint receives every event of its
// site (reservations with member ids, payments, door openings): a site's
// endpoints are its managers' and admins' to manage; network-wide ones
// (SiteID nil) are admins' only. API keys never manage endpoints: a key is
// given for one integration, and no scope lets it open a copy of every
// event to an address of its choosing. Members never.

// mayManage reports whether p may create, see and change endpoints of
// siteID ("" for network-wide ones).
func mayManage(p *identity.Principal, siteID string) bool {
	if p == nil || p.IsAPIKey() {
		return false
	}
	if siteID == "" {
		return p.IsAdmin() || p.IsSystem()
	}
	return p.ManagesSite(siteID)
}

// mayManageEndpoint is mayManage for an existing endpoint.
func mayManageEndpoint(p *identity.Principal, e *Endpoint) bool {
	site := ""
	if e.SiteID != nil {
		site = *e.SiteID
	}
	return mayManage(p, site)
}
