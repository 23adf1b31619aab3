package api_test

import (
	"net/http"
	"testing"
)

func TestBillingOverHTTP(t *testing.T) {
	f := newCalendarFixture(t)
	f.h.cal.SetGuard(f.h.bill)
	anneID, anne, _ := f.h.member("anne@example.fr")

	// A manager sells plans on their site; a member cannot.
	f.h.do(req{method: "POST", path: "/v1/plans", token: anne, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "X", "price_cents": 100}}).
		expect(t, http.StatusForbidden)
	var plan struct {
		ID       string
		PriceHT  int64 `json:"price_ht_cents"`
		VATCents int64 `json:"vat_cents"`
	}
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	if plan.PriceHT != 2083 || plan.VATCents != 417 {
		t.Fatalf("25 € TTC day pass = %d HT + %d VAT, want 2083 + 417", plan.PriceHT, plan.VATCents)
	}
	p := f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "X", "price_cents": -1}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("price_cents") {
		t.Fatalf("problem %+v", p)
	}
	var plans struct{ Items []any }
	f.h.do(req{method: "GET", path: "/v1/plans?site_id=" + f.site, token: anne}).expect(t, http.StatusOK).decode(t, &plans)
	if len(plans.Items) != 1 {
		t.Fatalf("plans = %+v", plans)
	}

	// Without a pass, booking is 402 naming why.
	p = f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusPaymentRequired).problem(t)
	if p.Code != "membership_required" {
		t.Fatalf("problem = %+v", p)
	}
	// The manager takes 25 € in cash for 3 March.
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-03", "method": "cash", "amount_cents": 2400}}).
		expect(t, http.StatusUnprocessableEntity)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: anne,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-03", "method": "cash", "amount_cents": 2500}}).
		expect(t, http.StatusForbidden)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-03", "method": "cash", "amount_cents": 2500}}).
		expect(t, http.StatusCreated)
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	// The pass does not include rooms.
	f.book(anne, f.room, f.at(3, 11, 0), f.at(3, 12, 0)).expect(t, http.StatusForbidden)

	var mine struct {
		DayPasses []struct{ Date, Status string } `json:"day_passes"`
	}
	f.h.do(req{method: "GET", path: "/v1/me/memberships", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.DayPasses) != 1 || mine.DayPasses[0].Date != "2026-03-03" || mine.DayPasses[0].Status != "active" {
		t.Fatalf("day passes = %+v", mine)
	}
	var pays struct {
		Items []struct {
			AmountCents int64 `json:"amount_cents"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/me/payments", token: anne}).expect(t, http.StatusOK).decode(t, &pays)
	if len(pays.Items) != 1 || pays.Items[0].AmountCents != 2500 {
		t.Fatalf("payments = %+v", pays)
	}
}

func TestMembershipOverHTTP(t *testing.T) {
	f := newCalendarFixture(t)
	f.h.cal.SetGuard(f.h.bill)
	anneID, anne, _ := f.h.member("anne@example.fr")
	_, bob, _ := f.h.member("bob@example.fr")
	var nomade, resident struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Nomade", "price_cents": 30000,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &nomade)
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Résident", "price_cents": 50000,
		"includes": map[string]any{"resource_kinds": []string{"desk", "room"}}}}).expect(t, http.StatusCreated).decode(t, &resident)
	var out struct {
		Membership struct{ ID, Status string }
	}
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": nomade.ID, "method": "cheque", "amount_cents": 30000, "reference": "chèque n°1234567"}}).
		expect(t, http.StatusCreated).decode(t, &out)
	if out.Membership.Status != "active" {
		t.Fatalf("membership = %+v", out)
	}
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	// Bob neither sees nor cancels Anne's membership.
	f.h.do(req{method: "POST", path: "/v1/memberships/" + out.Membership.ID + "/cancel", token: bob, body: map[string]any{}}).expect(t, http.StatusNotFound)
	var members struct {
		Items []struct {
			UserID string `json:"user_id"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/members", token: f.manager}).expect(t, http.StatusOK).decode(t, &members)
	if len(members.Items) != 1 || members.Items[0].UserID != anneID {
		t.Fatalf("members = %+v", members)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/members", token: anne}).expect(t, http.StatusForbidden)
	var m struct {
		CancelAtPeriodEnd bool `json:"cancel_at_period_end"`
	}
	f.h.do(req{method: "POST", path: "/v1/memberships/" + out.Membership.ID + "/cancel", token: anne, body: map[string]any{}}).expect(t, http.StatusOK).decode(t, &m)
	if !m.CancelAtPeriodEnd {
		t.Fatal("cancel did not default to the period's end")
	}
}
