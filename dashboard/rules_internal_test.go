package dashboard

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
)

// TestMayReadDashboard: the site's managers and admins (and relais
// itself); not a member, another site's manager, nor any API key.
func TestMayReadDashboard(t *testing.T) {
	for _, c := range []struct {
		name string
		p    *identity.Principal
		want string
	}{
		{"member", identitytest.Member(), "managers_only"},
		{"manager of the site", identitytest.Manager("s1"), "ok"},
		{"manager of another site", identitytest.Manager("s2"), "managers_only"},
		{"admin", identitytest.Admin(), "ok"},
		{"API key of the site", identitytest.Key("s1", identity.ScopeSitesRead, identity.ScopeReservationsRead), "managers_only"},
		{"relais", identitytest.System(), "ok"},
		{"nobody", nil, "managers_only"},
	} {
		if got := identitytest.Outcome(mayReadDashboard(c.p, "s1")); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
