package ledger

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The API keys the rules are asked about, for credit of site "here"; the
// other callers are identitytest's.
var (
	ruleKey        = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeSitesWrite)
	ruleKeyNoScope = identitytest.Key("here")
)

func TestMayHoldCredit(t *testing.T) {
	tests := []struct {
		name string
		p    *identity.Principal
		want string
	}{
		{"member", identitytest.Member(), "ok"},
		{"manager of this site", identitytest.Manager("here"), "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "ok"},
		{"admin", identitytest.Admin(), "ok"},
		{"API key with scopes", ruleKey, "forbidden"},
		{"API key without scope", ruleKeyNoScope, "forbidden"},
		{"system", identitytest.System(), "forbidden"},
		{"nobody", nil, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MayHoldCredit(tt.p)
			if got := identitytest.Outcome(err); got != tt.want {
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
		{"member", identitytest.Member(), "forbidden"},
		{"manager of this site", identitytest.Manager("here"), "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "forbidden"},
		{"admin", identitytest.Admin(), "ok"},
		{"API key with scopes", ruleKey, "forbidden"},
		{"API key without scope", ruleKeyNoScope, "forbidden"},
		{"system", identitytest.System(), "ok"},
		{"nobody", nil, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mayAdjustCredit(tt.p, "here")
			if got := identitytest.Outcome(err); got != tt.want {
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
		{"a manager is the actor", identitytest.Manager("here"), "", "manager"},
		{"a manager cannot name another", identitytest.Manager("here"), "ada", "manager"},
		{"the system names whom it acts for", identitytest.System(), "ada", "ada"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actorOf(tt.p, tt.named); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
