package identity

// CanReadSite is who may know a site exists: every user (members choose
// where to go), and API keys of that site carrying sites:read. Domains use
// it to choose between 403 (a site you may see but not change) and 404 (a
// site that is not yours to know of).
func CanReadSite(p *Principal, siteID string) bool {
	if !p.IsAPIKey() {
		return true
	}
	return p.HasScope(ScopeSitesRead) && p.ManagesSite(siteID)
}
