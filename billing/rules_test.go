package billing

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The principals the rules are asked about, for site "here".
var (
	ruleMember       = &identity.Principal{UserID: "anne", Role: identity.RoleMember}
	ruleManager      = &identity.Principal{UserID: "mona", Role: identity.RoleMember, ManagedSites: []string{"here"}}
	ruleOtherManager = &identity.Principal{UserID: "otto", Role: identity.RoleMember, ManagedSites: []string{"there"}}
	ruleAdmin        = &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	ruleKeyScoped    = &identity.Principal{APIKeyID: "k1", SiteIDs: []string{"here"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeUsersRead, identity.ScopeInvoicesRead}}
	ruleKeyNoScope = &identity.Principal{APIKeyID: "k2", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeSitesRead}}
	ruleKeyElse    = &identity.Principal{APIKeyID: "k3", SiteIDs: []string{"there"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeUsersRead, identity.ScopeInvoicesRead}}
	ruleSystem = identity.System()
)

// outcome names what a rule answered: "ok", the problem code, or
// "forbidden".
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
				return outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"list members", func(p *identity.Principal) string {
			if !mayListMembers(p, here) {
				return outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"read charges", func(p *identity.Principal) string {
			if !mayReadCharges(p, here) {
				return outcome(refuseSite(p, here))
			}
			return "ok"
		}},
		{"act on a site membership", func(p *identity.Principal) string { return outcome(mayActOnMembership(p, siteMembership)) }},
		{"act on a network membership", func(p *identity.Principal) string { return outcome(mayActOnMembership(p, networkMembership)) }},
		{"refund a site payment", func(p *identity.Principal) string { return outcome(mayRefund(p, sitePayment)) }},
		{"refund a network payment", func(p *identity.Principal) string { return outcome(mayRefund(p, networkPayment)) }},
		{"pay for oneself", func(p *identity.Principal) string { return outcome(personal(p, errKeyBuysNothing)) }},
	}
	// want[rule] for each principal, in the order of rules above. Retired
	// plans are shown to the site's API keys too, as they always were.
	tests := []struct {
		name string
		p    *identity.Principal
		want []string
	}{
		{"member", ruleMember, []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "ok"}},
		{"holder", &identity.Principal{UserID: hugo, Role: identity.RoleMember}, []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"ok", "ok", "payment_not_found", "payment_not_found", "ok"}},
		{"manager of this site", ruleManager, []string{"ok", "forbidden", "ok", "ok", "ok", "ok",
			"ok", "membership_not_found", "ok", "payment_not_found", "ok"}},
		{"manager elsewhere", ruleOtherManager, []string{"forbidden", "forbidden", "forbidden", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "ok"}},
		{"admin", ruleAdmin, []string{"ok", "ok", "ok", "ok", "ok", "ok",
			"ok", "ok", "ok", "ok", "ok"}},
		{"API key with the scopes", ruleKeyScoped, []string{"forbidden", "forbidden", "ok", "forbidden", "ok", "ok",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"API key without the scopes", ruleKeyNoScope, []string{"forbidden", "forbidden", "ok", "forbidden", "forbidden", "forbidden",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"API key of another site", ruleKeyElse, []string{"forbidden", "forbidden", "forbidden", "site_not_found", "site_not_found", "site_not_found",
			"membership_not_found", "membership_not_found", "payment_not_found", "payment_not_found", "forbidden"}},
		{"system", ruleSystem, []string{"ok", "ok", "ok", "ok", "ok", "ok",
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
