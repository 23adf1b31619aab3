package invoicing

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
)

// The buyer of the invoice and the API keys the rules are asked about, for
// documents of site "here"; the other callers are identitytest's.
var (
	ruleBuyer      = identitytest.MemberNamed("hugo")
	ruleKeyScoped  = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeInvoicesRead)
	ruleKeyNoScope = identitytest.Key("here", identity.ScopeSitesRead)
	ruleKeyElse    = identitytest.Key("there", identity.ScopeSitesRead, identity.ScopeInvoicesRead)
)

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
		{"member", identitytest.Member(), "not_found", "forbidden", "ok", "forbidden"},
		{"buyer", ruleBuyer, "ok", "forbidden", "ok", "forbidden"},
		{"manager of this site", identitytest.Manager("here"), "ok", "ok", "ok", "forbidden"},
		{"manager elsewhere", identitytest.Manager("there"), "not_found", "forbidden", "ok", "forbidden"},
		{"admin", identitytest.Admin(), "ok", "ok", "ok", "ok"},
		{"API key with invoices:read", ruleKeyScoped, "ok", "ok", "forbidden", "forbidden"},
		{"API key without it", ruleKeyNoScope, "not_found", "forbidden", "forbidden", "forbidden"},
		{"API key of another site", ruleKeyElse, "not_found", "site_not_found", "forbidden", "forbidden"},
		{"system", identitytest.System(), "ok", "ok", "ok", "ok"},
		{"nobody", nil, "not_found", "site_not_found", "forbidden", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := yes(mayReadInvoice(tt.p, inv)); got != tt.read {
				t.Errorf("read the invoice: got %s, want %s", got, tt.read)
			}
			_, err := iv.SiteBooks(tt.p, "here")
			if got := identitytest.Outcome(err); got != tt.site {
				t.Errorf("site's books: got %s, want %s", got, tt.site)
			}
			_, err = iv.OwnBooks(tt.p)
			if got := identitytest.Outcome(err); got != tt.own {
				t.Errorf("own books: got %s, want %s", got, tt.own)
			}
			if got := map[bool]string{true: "ok", false: "forbidden"}[mayVerify(tt.p)]; got != tt.verify {
				t.Errorf("verify: got %s, want %s", got, tt.verify)
			}
		})
	}
}
