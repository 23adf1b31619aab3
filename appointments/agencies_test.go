package appointments

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// --- services-app ---

func TestMayListAgencies(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *identity.Principal
		ok   bool
	}{
		{"nobody", nil, false},
		{"api key", &identity.Principal{APIKeyID: "k"}, false},
		{"member", &identity.Principal{UserID: "u", Role: identity.RoleMember}, true},
		{"admin", &identity.Principal{UserID: "a", Role: identity.RoleAdmin}, true},
	} {
		err := mayListAgencies(c.p)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, errs.ErrForbidden)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
