package campaigns

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The principals the rules are asked about, for a campaign of site "here".
var (
	ruleMember       = &identity.Principal{UserID: "anne", Role: identity.RoleMember}
	ruleManager      = &identity.Principal{UserID: "mona", Role: identity.RoleMember, ManagedSites: []string{"here"}}
	ruleOtherManager = &identity.Principal{UserID: "otto", Role: identity.RoleMember, ManagedSites: []string{"there"}}
	ruleAdmin        = &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	ruleKey          = &identity.Principal{APIKeyID: "k1", UserID: "mona", SiteIDs: []string{"here"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeSitesWrite}}
	ruleKeyNoScope = &identity.Principal{APIKeyID: "k2", SiteIDs: []string{"here"}}
	ruleKeyElse    = &identity.Principal{APIKeyID: "k3", SiteIDs: []string{"there"}, Scopes: []string{identity.ScopeSitesRead}}
	ruleSystem     = identity.System()
)

// outcome names what a rule answered: "ok", the problem code, or
// "forbidden" for a bare refusal.
func outcome(err error) string {
	var p *errs.Problem
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &p):
		return p.Code
	case errors.Is(err, errs.ErrForbidden):
		return "forbidden"
	}
	return err.Error()
}

func TestCampaignRules(t *testing.T) {
	c := &Campaign{ID: "c", SiteID: "here"}
	tests := []struct {
		name        string
		p           *identity.Principal
		create, run string
		contribute  string
	}{
		{"member", ruleMember, "forbidden", "forbidden", "ok"},
		{"manager of this site", ruleManager, "ok", "ok", "ok"},
		{"manager elsewhere", ruleOtherManager, "forbidden", "forbidden", "ok"},
		{"admin", ruleAdmin, "ok", "ok", "ok"},
		{"API key of the site", ruleKey, "forbidden", "forbidden", "forbidden"},
		{"API key without scope", ruleKeyNoScope, "site_not_found", "forbidden", "forbidden"},
		{"API key of another site", ruleKeyElse, "site_not_found", "forbidden", "forbidden"},
		{"system", ruleSystem, "ok", "ok", "forbidden"},
		{"nobody", nil, "site_not_found", "forbidden", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcome(mayCreateCampaign(tt.p, "here")); got != tt.create {
				t.Errorf("create: got %s, want %s", got, tt.create)
			}
			if got := outcome(mayRunCampaign(tt.p, c)); got != tt.run {
				t.Errorf("run: got %s, want %s", got, tt.run)
			}
			if got := outcome(mayContribute(tt.p)); got != tt.contribute {
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
	anne, mona := "anne", "mona"
	tests := []struct {
		name string
		p    *identity.Principal
		by   *string
		want string
	}{
		{"the contributor", ruleMember, &anne, "ok"},
		{"another member", ruleMember, &mona, "contribution_not_found"},
		{"a held contribution, a member", ruleMember, nil, "contribution_not_found"},
		{"manager of this site", ruleManager, &anne, "ok"},
		{"manager elsewhere", ruleOtherManager, &anne, "contribution_not_found"},
		{"admin", ruleAdmin, nil, "ok"},
		{"the contributor's API key", ruleKey, &mona, "contribution_not_found"},
		{"API key without scope", ruleKeyNoScope, &anne, "contribution_not_found"},
		{"system", ruleSystem, &anne, "ok"},
		{"nobody", nil, &anne, "contribution_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &Contribution{ID: "k", CampaignID: c.ID, UserID: tt.by}
			if got := outcome(mayReadContribution(tt.p, k, c)); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}
