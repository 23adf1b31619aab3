package access_test

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestAuditRules checks who reads a site's access events and their own,
// and that a refusal hides a site the caller may not know.
func TestAuditRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	for _, c := range []struct {
		name       string
		p          *identity.Principal
		audit, own error
	}{
		{"member", identitytest.Member(), errs.ErrForbidden, nil},
		{"manager of this site", identitytest.Manager(here), nil, nil},
		{"manager of another site", identitytest.Manager(there), errs.ErrForbidden, nil},
		{"admin", identitytest.Admin(), nil, nil},
		{"key without scope", identitytest.Key(here), errs.ErrNotFound, errs.ErrForbidden},
		{"key with sites:read", identitytest.Key(here, identity.ScopeSitesRead), errs.ErrForbidden, errs.ErrForbidden},
		{"key with access-events:read", identitytest.Key(here, identity.ScopeAccessRead), nil, errs.ErrForbidden},
		{"system", identitytest.System(), nil, nil},
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
