package identity_test

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestRules checks who may know a site and who may act as "me".
func TestRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	key := func(scopes ...string) *identity.Principal {
		return &identity.Principal{APIKeyID: "k", SiteIDs: []string{here}, Scopes: scopes}
	}
	for _, c := range []struct {
		name     string
		p        *identity.Principal
		readSite bool
		me       error
	}{
		{"member", &identity.Principal{UserID: "u", Role: identity.RoleMember}, true, nil},
		{"manager of this site", &identity.Principal{UserID: "u", ManagedSites: []string{here}}, true, nil},
		{"manager of another site", &identity.Principal{UserID: "u", ManagedSites: []string{there}}, true, nil},
		{"admin", &identity.Principal{UserID: "u", Role: identity.RoleAdmin}, true, nil},
		{"key without scope", key(), false, errs.ErrForbidden},
		{"key with sites:read", key(identity.ScopeSitesRead), true, errs.ErrForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := identity.CanReadSite(c.p, here); got != c.readSite {
				t.Errorf("CanReadSite = %v, want %v", got, c.readSite)
			}
			if err := identity.MayActAsMe(c.p); !errors.Is(err, c.me) || (c.me == nil && err != nil) {
				t.Errorf("MayActAsMe = %v, want %v", err, c.me)
			}
		})
	}
}
