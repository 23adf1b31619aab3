package identity

import (
	"context"
	"slices"
)

// Principal is who is calling: a user (through a JWT) or an integration
// (through an API key). Handlers ask it questions; they never look at roles
// directly.
type Principal struct {
	UserID    string
	SessionID string
	Role      string
	// ManagedSites are the sites this user manages (empty for plain members).
	ManagedSites []string

	// For API keys: the key, its scopes and the sites it is limited to.
	APIKeyID string
	Scopes   []string
	SiteIDs  []string
	// AllSites is true for an admin's key created without a site list.
	AllSites bool

	// system marks the principal System returns.
	system bool
}

// System is the principal of relais itself: jobs (a waiting list's
// auto-booking, expiries), the demo, the gate. It is no one's account and
// may do what an admin may, so that the domains decide every operation
// through one path whoever asks; what it does is recorded in the name of
// the member it acts for (it has no UserID).
func System() *Principal { return &Principal{Role: RoleAdmin, system: true} }

// IsSystem reports whether the principal is relais itself (see System).
func (p *Principal) IsSystem() bool { return p != nil && p.system }

// IsAdmin reports whether the principal administers the whole network.
// API keys are never admins, even when an admin created them.
func (p *Principal) IsAdmin() bool { return p != nil && p.APIKeyID == "" && p.Role == RoleAdmin }

// IsAPIKey reports whether the principal is an integration.
func (p *Principal) IsAPIKey() bool { return p != nil && p.APIKeyID != "" }

// IsManager reports whether the user manages at least one site.
func (p *Principal) IsManager() bool { return p != nil && p.APIKeyID == "" && len(p.ManagedSites) > 0 }

// ManagesSite reports whether the principal may manage siteID: an admin, a
// manager of that site, or an API key limited to it (scopes are checked
// separately with HasScope).
func (p *Principal) ManagesSite(siteID string) bool {
	switch {
	case p == nil:
		return false
	case p.IsAPIKey():
		return p.AllSites || slices.Contains(p.SiteIDs, siteID)
	case p.IsAdmin():
		return true
	default:
		return slices.Contains(p.ManagedSites, siteID)
	}
}

// HasScope reports whether an API key carries scope. Users have every scope;
// their rights come from their role instead.
func (p *Principal) HasScope(scope string) bool {
	if p == nil {
		return false
	}
	if !p.IsAPIKey() {
		return true
	}
	return slices.Contains(p.Scopes, scope)
}

// Scopes an API key may carry.
const (
	ScopeSitesRead         = "sites:read"
	ScopeSitesWrite        = "sites:write"
	ScopeUsersRead         = "users:read"
	ScopeReservationsRead  = "reservations:read"
	ScopeReservationsWrite = "reservations:write"
	ScopeCalendarRead      = "calendar:read"
	ScopeInvoicesRead      = "invoices:read"
	ScopeAccessRead        = "access-events:read"
	ScopeDevicesRead       = "devices:read"
)

// KnownScopes lists every scope, for validation and documentation.
var KnownScopes = []string{
	ScopeSitesRead, ScopeSitesWrite, ScopeUsersRead, ScopeReservationsRead, ScopeReservationsWrite,
	ScopeCalendarRead, ScopeInvoicesRead, ScopeAccessRead, ScopeDevicesRead,
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
