package campaigns

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
)

// The API keys the rules are asked about, for a campaign of site "here"
// (ruleKey is the manager's own key); the other callers are identitytest's.
var (
	ruleKey        = identitytest.KeyOf("manager", "here", identity.ScopeSitesRead, identity.ScopeSitesWrite)
	ruleKeyNoScope = identitytest.Key("here")
	ruleKeyElse    = identitytest.Key("there", identity.ScopeSitesRead)
)

func TestCampaignRules(t *testing.T) {
	c := &Campaign{ID: "c", SiteID: "here"}
	tests := []struct {
		name        string
		p           *identity.Principal
		create, run string
		contribute  string
	}{
		{"member", identitytest.Member(), "forbidden", "forbidden", "ok"},
		{"manager of this site", identitytest.Manager("here"), "ok", "ok", "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "forbidden", "forbidden", "ok"},
		{"admin", identitytest.Admin(), "ok", "ok", "ok"},
		{"API key of the site", ruleKey, "forbidden", "forbidden", "forbidden"},
		{"API key without scope", ruleKeyNoScope, "site_not_found", "forbidden", "forbidden"},
		{"API key of another site", ruleKeyElse, "site_not_found", "forbidden", "forbidden"},
		{"system", identitytest.System(), "ok", "ok", "forbidden"},
		{"nobody", nil, "site_not_found", "forbidden", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := identitytest.Outcome(mayCreateCampaign(tt.p, "here")); got != tt.create {
				t.Errorf("create: got %s, want %s", got, tt.create)
			}
			if got := identitytest.Outcome(mayRunCampaign(tt.p, c)); got != tt.run {
				t.Errorf("run: got %s, want %s", got, tt.run)
			}
			if got := identitytest.Outcome(mayContribute(tt.p)); got != tt.contribute {
				t.Errorf("contribute: got %s, want %s", got, tt.contribute)
			}
		})
	}
	// A key is told why it may not contribute, as the API always told it.
	if err := mayContribute(ruleKey); err.Error() != "members contribute for themselves" {
		t.Fatalf("detail = %q", err)
	}
}

// A contribution is its contributor's (not through an API key, even
// theirs) and the campaign runners'; others are told it does not exist.
func TestMayReadContribution(t *testing.T) {
	c := &Campaign{ID: "c", SiteID: "here"}
	member, manager := "member", "manager"
	tests := []struct {
		name string
		p    *identity.Principal
		by   *string
		want string
	}{
		{"the contributor", identitytest.Member(), &member, "ok"},
		{"another member", identitytest.Member(), &manager, "contribution_not_found"},
		{"a held contribution, a member", identitytest.Member(), nil, "contribution_not_found"},
		{"manager of this site", identitytest.Manager("here"), &member, "ok"},
		{"manager elsewhere", identitytest.Manager("there"), &member, "contribution_not_found"},
		{"admin", identitytest.Admin(), nil, "ok"},
		{"the contributor's API key", ruleKey, &manager, "contribution_not_found"},
		{"API key without scope", ruleKeyNoScope, &member, "contribution_not_found"},
		{"system", identitytest.System(), &member, "ok"},
		{"nobody", nil, &member, "contribution_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Contribution{ID: "k", CampaignID: c.ID, UserID: tt.by}
			if got := identitytest.Outcome(mayReadContribution(tt.p, k, c)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}
