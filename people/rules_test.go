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

// TestMayEditPerson: the desk edits a walk-in until they choose their
// password; the account is theirs afterwards, as it is for people who
// signed up themselves (403 person_edits_own_profile, whoever asks).
func TestMayEditPerson(t *testing.T) {
	walkIn := DeskAccount{RegisteredAtDesk: true, AwaitingPassword: true}
	claimed := DeskAccount{RegisteredAtDesk: true}
	signedUp := DeskAccount{}
	tests := []struct {
		name string
		p    *identity.Principal
		acct DeskAccount
		want string
	}{
		{"manager, walk-in awaiting their password", identitytest.Manager("here"), walkIn, "ok"},
		{"admin, walk-in awaiting their password", identitytest.Admin(), walkIn, "ok"},
		{"manager, walk-in who chose a password", identitytest.Manager("here"), claimed, "person_edits_own_profile"},
		{"admin, walk-in who chose a password", identitytest.Admin(), claimed, "person_edits_own_profile"},
		{"manager, person who signed up", identitytest.Manager("here"), signedUp, "person_edits_own_profile"},
		{"manager of another site", identitytest.Manager("there"), walkIn, "forbidden"},
		{"member", identitytest.Member(), walkIn, "forbidden"},
		{"API key with users:read", identitytest.Key("here", identity.ScopeUsersRead, identity.ScopeSitesRead), walkIn, "forbidden"},
		{"nobody", nil, walkIn, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identitytest.Outcome(MayEditPerson(tt.p, "here", tt.acct)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// --- services-mail ---

// TestMayMergeGuest: the managers of the guest's site and the admins
// merge; anyone else, an API key included, is told there is no such guest.
func TestMayMergeGuest(t *testing.T) {
	tests := []struct {
		name string
		p    *identity.Principal
		want string
	}{
		{"manager of the guest's site", identitytest.Manager("here"), "ok"},
		{"admin", identitytest.Admin(), "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "guest_not_found"},
		{"member", identitytest.Member(), "guest_not_found"},
		{"API key of the site with users:read", identitytest.Key("here", identity.ScopeUsersRead, identity.ScopeSitesRead), "guest_not_found"},
		{"nobody", nil, "guest_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identitytest.Outcome(MayMergeGuest(tt.p, "here")); got != tt.want {
				t.Errorf("merge: %s, want %s", got, tt.want)
			}
		})
	}
}
