package identity_test

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestRules checks who may know a site and who may act as "me".
func TestRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	for _, c := range []struct {
		name     string
		p        *identity.Principal
		readSite bool
		me       error
	}{
		{"member", identitytest.Member(), true, nil},
		{"manager of this site", identitytest.Manager(here), true, nil},
		{"manager of another site", identitytest.Manager(there), true, nil},
		{"admin", identitytest.Admin(), true, nil},
		{"key without scope", identitytest.Key(here), false, errs.ErrForbidden},
		{"key with sites:read", identitytest.Key(here, identity.ScopeSitesRead), true, errs.ErrForbidden},
		{"system", identitytest.System(), true, nil},
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
