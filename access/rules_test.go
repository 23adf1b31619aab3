package access_test

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestAuditRules checks who reads a site's access events and their own,
// and that a refusal hides a site the caller may not know.
func TestAuditRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	key := func(scopes ...string) *identity.Principal {
		return &identity.Principal{APIKeyID: "k", SiteIDs: []string{here}, Scopes: scopes}
	}
	for _, c := range []struct {
		name       string
		p          *identity.Principal
		audit, own error
	}{
		{"member", &identity.Principal{UserID: "u", Role: identity.RoleMember}, errs.ErrForbidden, nil},
		{"manager of this site", &identity.Principal{UserID: "u", ManagedSites: []string{here}}, nil, nil},
		{"manager of another site", &identity.Principal{UserID: "u", ManagedSites: []string{there}}, errs.ErrForbidden, nil},
		{"admin", &identity.Principal{UserID: "u", Role: identity.RoleAdmin}, nil, nil},
		{"key without scope", key(), errs.ErrNotFound, errs.ErrForbidden},
		{"key with sites:read", key(identity.ScopeSitesRead), errs.ErrForbidden, errs.ErrForbidden},
		{"key with access-events:read", key(identity.ScopeAccessRead), nil, errs.ErrForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := access.MayAudit(c.p, here); !errors.Is(err, c.audit) || (c.audit == nil && err != nil) {
				t.Errorf("MayAudit = %v, want %v", err, c.audit)
			}
			if err := access.MayReadOwnEvents(c.p); !errors.Is(err, c.own) || (c.own == nil && err != nil) {
				t.Errorf("MayReadOwnEvents = %v, want %v", err, c.own)
			}
		})
	}
}
