package people

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
)

func TestRules(t *testing.T) {
	tests := []struct {
		name        string
		p           *identity.Principal
		read, serve string
	}{
		{"member", identitytest.Member(), "forbidden", "forbidden"},
		{"manager of this site", identitytest.Manager("here"), "ok", "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "forbidden", "forbidden"},
		{"admin", identitytest.Admin(), "ok", "ok"},
		{"API key of the site with users:read", identitytest.Key("here", identity.ScopeUsersRead, identity.ScopeSitesRead), "ok", "forbidden"},
		{"API key of the site without users:read", identitytest.Key("here", identity.ScopeSitesRead), "forbidden", "forbidden"},
		{"API key of another site", identitytest.Key("there", identity.ScopeUsersRead, identity.ScopeSitesRead), "site_not_found", "site_not_found"},
		{"system", identitytest.System(), "ok", "ok"},
		{"nobody", nil, "forbidden", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identitytest.Outcome(MayReadPeople(tt.p, "here")); got != tt.read {
				t.Errorf("read: %s, want %s", got, tt.read)
			}
			if got := identitytest.Outcome(MayServePeople(tt.p, "here")); got != tt.serve {
				t.Errorf("serve: %s, want %s", got, tt.serve)
			}
		})
	}
}
