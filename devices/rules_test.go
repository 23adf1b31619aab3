package devices

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestRules checks who may read and change a site's registry, and that a
// refusal is a 404 to whoever may not know the site and a 403 otherwise.
func TestRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	for _, c := range []struct {
		name                       string
		p                          *identity.Principal
		read, bridges, manage, cfg bool
		refused                    error
	}{
		{"member", identitytest.Member(), true, false, false, false, errs.ErrForbidden},
		{"manager of this site", identitytest.Manager(here), true, true, true, true, nil},
		{"manager of another site", identitytest.Manager(there), true, false, false, false, errs.ErrForbidden},
		{"admin", identitytest.Admin(), true, true, true, true, nil},
		{"key without scope", identitytest.Key(here), false, false, false, true, errs.ErrNotFound},
		{"key with devices:read", identitytest.Key(here, identity.ScopeDevicesRead), true, true, false, true, errs.ErrNotFound},
		{"key with sites:read", identitytest.Key(here, identity.ScopeSitesRead), false, false, false, true, errs.ErrForbidden},
		{"key with sites:write", identitytest.Key(here, identity.ScopeSitesWrite), false, false, true, true, nil},
		{"system", identitytest.System(), true, true, true, true, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := mayRead(c.p, here); got != c.read {
				t.Errorf("mayRead = %v, want %v", got, c.read)
			}
			if got := mayReadBridges(c.p, here); got != c.bridges {
				t.Errorf("mayReadBridges = %v, want %v", got, c.bridges)
			}
			if got := mayManage(c.p, here); got != c.manage {
				t.Errorf("mayManage = %v, want %v", got, c.manage)
			}
			if got := SeesSetup(c.p, here); got != c.cfg {
				t.Errorf("SeesSetup = %v, want %v", got, c.cfg)
			}
			if c.refused != nil {
				if err := refuseSite(c.p, here); !errors.Is(err, c.refused) {
					t.Errorf("refuseSite = %v, want %v", err, c.refused)
				}
			}
		})
	}
}
