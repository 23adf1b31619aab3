package invoicing

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The principals the rules are asked about, for documents of site "here".
var (
	ruleMember       = &identity.Principal{UserID: "anne", Role: identity.RoleMember}
	ruleBuyer        = &identity.Principal{UserID: "hugo", Role: identity.RoleMember}
	ruleManager      = &identity.Principal{UserID: "mona", Role: identity.RoleMember, ManagedSites: []string{"here"}}
	ruleOtherManager = &identity.Principal{UserID: "otto", Role: identity.RoleMember, ManagedSites: []string{"there"}}
	ruleAdmin        = &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	ruleKeyScoped    = &identity.Principal{APIKeyID: "k1", SiteIDs: []string{"here"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeInvoicesRead}}
	ruleKeyNoScope = &identity.Principal{APIKeyID: "k2", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeSitesRead}}
	ruleKeyElse    = &identity.Principal{APIKeyID: "k3", SiteIDs: []string{"there"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeInvoicesRead}}
	ruleSystem = identity.System()
)

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

func yes(ok bool) string {
	if ok {
		return "ok"
	}
	return "not_found"
}

func TestInvoiceRules(t *testing.T) {
	iv := &Invoicer{}
	inv := &Invoice{SiteID: "here", BuyerUserID: "hugo"}
	tests := []struct {
		name string
		p    *identity.Principal
		// read the invoice, read the site's books, read one's own books,
		// verify the chains
		read, site, own, verify string
	}{
		{"member", ruleMember, "not_found", "forbidden", "ok", "forbidden"},
		{"buyer", ruleBuyer, "ok", "forbidden", "ok", "forbidden"},
		{"manager of this site", ruleManager, "ok", "ok", "ok", "forbidden"},
		{"manager elsewhere", ruleOtherManager, "not_found", "forbidden", "ok", "forbidden"},
		{"admin", ruleAdmin, "ok", "ok", "ok", "ok"},
		{"API key with invoices:read", ruleKeyScoped, "ok", "ok", "forbidden", "forbidden"},
		{"API key without it", ruleKeyNoScope, "not_found", "forbidden", "forbidden", "forbidden"},
		{"API key of another site", ruleKeyElse, "not_found", "site_not_found", "forbidden", "forbidden"},
		{"system", ruleSystem, "ok", "ok", "ok", "ok"},
		{"nobody", nil, "not_found", "site_not_found", "forbidden", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := yes(mayReadInvoice(tt.p, inv)); got != tt.read {
				t.Errorf("read the invoice: got %s, want %s", got, tt.read)
			}
			_, err := iv.SiteBooks(tt.p, "here")
			if got := outcome(err); got != tt.site {
				t.Errorf("site's books: got %s, want %s", got, tt.site)
			}
			_, err = iv.OwnBooks(tt.p)
			if got := outcome(err); got != tt.own {
				t.Errorf("own books: got %s, want %s", got, tt.own)
			}
			if got := map[bool]string{true: "ok", false: "forbidden"}[mayVerify(tt.p)]; got != tt.verify {
				t.Errorf("verify: got %s, want %s", got, tt.verify)
			}
		})
	}
}
