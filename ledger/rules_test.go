package ledger

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The principals the rules are asked about, for credit of site "here".
var (
	ruleMember       = &identity.Principal{UserID: "anne", Role: identity.RoleMember}
	ruleManager      = &identity.Principal{UserID: "mona", Role: identity.RoleMember, ManagedSites: []string{"here"}}
	ruleOtherManager = &identity.Principal{UserID: "otto", Role: identity.RoleMember, ManagedSites: []string{"there"}}
	ruleAdmin        = &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	ruleKey          = &identity.Principal{APIKeyID: "k1", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeSitesRead, identity.ScopeSitesWrite}}
	ruleKeyNoScope   = &identity.Principal{APIKeyID: "k2", SiteIDs: []string{"here"}}
	ruleSystem       = identity.System()
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

func TestMayHoldCredit(t *testing.T) {
	tests := []struct {
		name string
		p    *identity.Principal
		want string
	}{
		{"member", ruleMember, "ok"},
		{"manager of this site", ruleManager, "ok"},
		{"manager elsewhere", ruleOtherManager, "ok"},
		{"admin", ruleAdmin, "ok"},
		{"API key with scopes", ruleKey, "forbidden"},
		{"API key without scope", ruleKeyNoScope, "forbidden"},
		{"system", ruleSystem, "forbidden"},
		{"nobody", nil, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MayHoldCredit(tt.p)
			if got := outcome(err); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			// A key is told why, as the API always told it.
			if tt.p.IsAPIKey() && err.Error() != "an API key holds no credit" {
				t.Fatalf("detail = %q", err)
			}
		})
	}
}

func TestMayAdjustCredit(t *testing.T) {
	tests := []struct {
		name string
		p    *identity.Principal
		want string
	}{
		{"member", ruleMember, "forbidden"},
		{"manager of this site", ruleManager, "ok"},
		{"manager elsewhere", ruleOtherManager, "forbidden"},
		{"admin", ruleAdmin, "ok"},
		{"API key with scopes", ruleKey, "forbidden"},
		{"API key without scope", ruleKeyNoScope, "forbidden"},
		{"system", ruleSystem, "ok"},
		{"nobody", nil, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mayAdjustCredit(tt.p, "here")
			if got := outcome(err); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if err != nil && !errors.Is(err, errs.ErrForbidden) {
				t.Fatalf("%v is not a 403", err)
			}
		})
	}
}

func TestActorOf(t *testing.T) {
	tests := []struct {
		name  string
		p     *identity.Principal
		named string
		want  string
	}{
		{"a manager is the actor", ruleManager, "", "mona"},
		{"a manager cannot name another", ruleManager, "ada", "mona"},
		{"the system names whom it acts for", ruleSystem, "ada", "ada"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actorOf(tt.p, tt.named); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
