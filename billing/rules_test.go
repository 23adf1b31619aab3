package billing

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The API keys the rules are asked about, for site "here"; the other
// callers are identitytest's.
var (
	ruleKeyScoped = identitytest.Key("here",
		identity.ScopeSitesRead, identity.ScopeUsersRead, identity.ScopeInvoicesRead)
	ruleKeyNoScope = identitytest.Key("here", identity.ScopeSitesRead)
	ruleKeyElse    = identitytest.Key("there",
		identity.ScopeSitesRead, identity.ScopeUsersRead, identity.ScopeInvoicesRead)
)

func yes(ok bool) string {
	if ok {
		return "ok"
	}
	return "forbidden"
}

func TestBillingRules(t *testing.T) {
	here, hugo := "here", "hugo"
	sitePlan, networkPlan := &here, (*string)(nil)
	// hugo's membership of a site plan, and of a network plan.
	siteMembership := &Membership{UserID: hugo, SiteID: sitePlan}
	networkMembership := &Membership{UserID: hugo}
	sitePayment := &Payment{UserID: hugo, SiteID: sitePlan}
	networkPayment := &Payment{UserID: hugo}
	rules := []struct {
		name string
		ask  func(p *identity.Principal) string
	}{
		{"sell a site's plan", func(p *identity.Principal) string { return yes(maySell(p, sitePlan)) }},
		{"sell a network plan", func(p *identity.Principal) string { return yes(maySell(p, networkPlan)) }},
		{"see retired plans", func(p *identity.Principal) string { return yes(maySeeRetiredPlans(p, here)) }},
		{"take payments", func(p *identity.Principal) string {
			if !mayTakePayments(p, here) {
				return identitytest.Outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"list members", func(p *identity.Principal) string {
			if !mayListMembers(p, here) {
				return identitytest.Outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"read charges", func(p *identity.Principal) string {
			if !mayReadCharges(p, here) {
				return identitytest.Outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"act on a site membership", func(p *identity.Principal) string { return identitytest.Outcome(mayActOnMembership(p, siteMembership)) }},
		{"act on a network membership", func(p *identity.Principal) string {
			return identitytest.Outcome(mayActOnMembership(p, networkMembership))
		}},
		{"refund a site payment", func(p *identity.Principal) string { return identitytest.Outcome(mayRefund(p, sitePayment)) }},
		{"refund a network payment", func(p *identity.Principal) string { return identitytest.Outcome(mayRefund(p, networkPayment)) }},
		{"pay for oneself", func(p *identity.Principal) string { return identitytest.Outcome(personal(p, errKeyBuysNothing)) }},
	}
	// want[rule] for each principal, in the order of rules above. Retired
	// plans are shown to the site's API keys too, as they always were.
	tests := []struct {
		name string
		p    *identity.Principal
		want []string
	}{
		{"member", identitytest.Member(), []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "ok"}},
		{"holder", &identity.Principal{UserID: hugo, Role: identity.RoleMember}, []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"ok", "ok", "payment_not_found", "payment_not_found", "ok"}},
		{"manager of this site", identitytest.Manager("here"), []string{"ok", "forbidden", "ok", "ok", "ok", "ok",
			"ok", "membership_not_found", "ok", "payment_not_found", "ok"}},
		{"manager elsewhere", identitytest.Manager("there"), []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "ok"}},
		{"admin", identitytest.Admin(), []string{"ok", "ok", "ok", "ok", "ok", "ok",
			"ok", "ok", "ok", "ok", "ok"}},
		{"API key with the scopes", ruleKeyScoped, []string{"forbidden", "forbidden", "ok", "forbidden", "ok", "ok",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"API key without the scopes", ruleKeyNoScope, []string{"forbidden", "forbidden", "ok", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"API key of another site", ruleKeyElse, []string{"forbidden", "forbidden", "forbidden", "site_not_found", "site_not_found", "site_not_found",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"system", identitytest.System(), []string{"ok", "ok", "ok", "ok", "ok", "ok",
			"ok", "ok", "ok", "ok", "ok"}},
		{"nobody", nil, []string{"forbidden", "forbidden", "forbidden", "site_not_found", "site_not_found", "site_not_found",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, rule := range rules {
				if got := rule.ask(tt.p); got != tt.want[i] {
					t.Errorf("%s: got %s, want %s", rule.name, got, tt.want[i])
				}
			}
		})
	}
}

// TestKeyRefusalsRenderAsForbidden: the refusals of an API key are 403s
// with their own detail, as the API answered before they moved here.
func TestKeyRefusalsRenderAsForbidden(t *testing.T) {
	for _, r := range []errs.Refusal{errKeyHoldsNothing, errKeyPaysNothing, errKeyOwesNothing, errKeyBuysNothing} {
		if !errors.Is(r, errs.ErrForbidden) || errors.Is(r, errs.ErrNotFound) {
			t.Errorf("%q is not a plain forbidden", r)
		}
	}
}
