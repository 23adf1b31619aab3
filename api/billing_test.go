package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

var buyerBody = map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}

func TestBillingOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.h.checkEntitlements(true)
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
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-03", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
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
			AmountCents int64   `json:"amount_cents"`
			InvoiceID   *string `json:"invoice_id"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/me/payments", token: anne}).expect(t, http.StatusOK).decode(t, &pays)
	if len(pays.Items) != 1 || pays.Items[0].AmountCents != 2500 || pays.Items[0].InvoiceID == nil {
		t.Fatalf("payments = %+v", pays)
	}

	// The payment's invoice: Anne reads it and its PDF, Bob does not; the
	// manager exports the site's invoices and its accounting journal.
	invID := *pays.Items[0].InvoiceID
	var inv struct {
		Number        string
		TotalHTCents  int64 `json:"total_ht_cents"`
		TotalVATCents int64 `json:"total_vat_cents"`
		Mentions      []string
	}
	f.h.do(req{method: "GET", path: "/v1/invoices/" + invID, token: anne}).expect(t, http.StatusOK).decode(t, &inv)
	if inv.Number != "2026-000001" || inv.TotalHTCents != 2083 || inv.TotalVATCents != 417 {
		t.Fatalf("invoice = %+v", inv)
	}
	r := f.h.do(req{method: "GET", path: "/v1/invoices/" + invID + "/pdf", token: anne}).expect(t, http.StatusOK)
	if !bytes.HasPrefix(r.Body, []byte("%PDF")) {
		t.Fatal("the PDF is not a PDF")
	}
	_, bob, _ := f.h.member("bob@example.fr")
	f.h.do(req{method: "GET", path: "/v1/invoices/" + invID, token: bob}).expect(t, http.StatusNotFound)
	var mineInv struct{ Items []any }
	f.h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &mineInv)
	if len(mineInv.Items) != 1 {
		t.Fatalf("anne's invoices = %+v", mineInv)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/invoices", token: f.manager}).expect(t, http.StatusOK)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/invoices", token: anne}).expect(t, http.StatusForbidden)
	window := "?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
	csv := f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/invoices.csv" + window, token: f.manager}).expect(t, http.StatusOK)
	if !strings.Contains(string(csv.Body), "2026-000001") {
		t.Fatalf("CSV export lacks the invoice:\n%s", csv.Body)
	}
	fec := f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/fec" + window, token: f.manager}).expect(t, http.StatusOK)
	if lines := strings.Split(strings.TrimSpace(string(fec.Body)), "\n"); len(lines) < 4 || strings.Count(lines[0], "\t") != 17 {
		t.Fatalf("FEC export:\n%s", fec.Body)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/fec", token: f.manager}).expect(t, http.StatusBadRequest)
	// A second site of the same entity that this manager does not run: the
	// entity-wide journal is no longer theirs to export.
	_, adminToken := f.h.admin()
	f.h.site(adminToken, "L'Annexe")
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/fec" + window, token: f.manager}).expect(t, http.StatusForbidden)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/fec" + window, token: adminToken}).expect(t, http.StatusOK)
	var rep struct{ OK bool }
	_, admin := f.h.admin()
	f.h.do(req{method: "GET", path: "/v1/admin/invoices/verify", token: admin}).expect(t, http.StatusOK).decode(t, &rep)
	if !rep.OK {
		t.Fatal("a fresh chain does not verify")
	}
	f.h.do(req{method: "GET", path: "/v1/admin/invoices/verify", token: f.manager}).expect(t, http.StatusForbidden)
}

func TestMembershipOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.h.checkEntitlements(true)
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
		body: map[string]any{"user_id": anneID, "plan_id": nomade.ID, "method": "cheque", "amount_cents": 30000, "reference": "chèque n°1234567", "buyer": buyerBody}}).
		expect(t, http.StatusCreated).decode(t, &out)
	if out.Membership.Status != "active" {
		t.Fatalf("membership = %+v", out)
	}
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	// Bob neither sees nor cancels Anne's membership.
	f.h.do(req{method: "POST", path: "/v1/memberships/" + out.Membership.ID + "/cancel", token: bob, body: map[string]any{}}).expect(t, http.StatusNotFound)
	var members struct {
		Items []struct {
			UserID    string `json:"user_id"`
			UserEmail string `json:"user_email"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/members", token: f.manager}).expect(t, http.StatusOK).decode(t, &members)
	if len(members.Items) != 1 || members.Items[0].UserID != anneID || members.Items[0].UserEmail != "anne@example.fr" {
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

func TestPayPerUseOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.h.checkEntitlements(true)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Résident",
		"price_cents": 50000, "includes": map[string]any{"resource_kinds": []string{"desk"}, "pay_per_use": true}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "method": "transfer", "amount_cents": 50000, "buyer": buyerBody}}).expect(t, http.StatusCreated)
	// The room is not included: with pay-per-use it is charged (its price is 0 in the fixture, so give it one).
	f.h.do(req{method: "PATCH", path: "/v1/resources/" + f.room, token: f.manager, body: map[string]any{"price_per_hour_cents": 2400}}).expect(t, http.StatusOK) // TTC
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	var owed struct {
		Items []struct {
			AmountCents int64 `json:"amount_cents"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/me/charges", token: anne}).expect(t, http.StatusOK).decode(t, &owed)
	if len(owed.Items) != 1 || owed.Items[0].AmountCents != 2400 {
		t.Fatalf("charges = %+v", owed)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/charges?user_id=" + anneID, token: f.manager}).expect(t, http.StatusOK)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/charges/settle", token: anne,
		body: map[string]any{"user_id": anneID, "method": "cash", "buyer": buyerBody}}).expect(t, http.StatusForbidden)
	var pay struct {
		AmountCents int64   `json:"amount_cents"`
		InvoiceID   *string `json:"invoice_id"`
	}
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/charges/settle", token: f.manager,
		body: map[string]any{"user_id": anneID, "method": "card", "buyer": buyerBody}}).expect(t, http.StatusCreated).decode(t, &pay)
	if pay.AmountCents != 2400 || pay.InvoiceID == nil {
		t.Fatalf("settlement = %+v", pay)
	}
	f.h.do(req{method: "GET", path: "/v1/me/charges", token: anne}).expect(t, http.StatusOK).decode(t, &owed)
	if len(owed.Items) != 0 {
		t.Fatalf("charges after settling = %+v", owed)
	}
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/charges/settle", token: f.manager,
		body: map[string]any{"user_id": anneID, "method": "card", "buyer": buyerBody}}).expect(t, http.StatusUnprocessableEntity)
}

func TestRefundOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500}}).
		expect(t, http.StatusCreated).decode(t, &plan)
	var out struct{ Payment struct{ ID string } }
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-05", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated).decode(t, &out)
	refund := func(token string, body map[string]any) *response {
		return f.h.do(req{method: "POST", path: "/v1/payments/" + out.Payment.ID + "/refund", token: token, body: body})
	}
	refund(anne, map[string]any{"amount_cents": 2500, "reason": "Erreur"}).expect(t, http.StatusNotFound)
	refund(f.manager, map[string]any{"amount_cents": 9999, "reason": "Erreur"}).expect(t, http.StatusUnprocessableEntity)
	for _, reason := range []any{nil, "", strings.Repeat("é", 501)} {
		body := map[string]any{"amount_cents": 1000}
		if reason != nil {
			body["reason"] = reason
		}
		if p := refund(f.manager, body).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("reason") {
			t.Fatalf("refund with reason %v: %+v", reason, p)
		}
	}
	var pay struct {
		Status     string
		CreditNote *struct {
			ID, Number, Reason string
			PDFURL             string `json:"pdf_url"`
		} `json:"credit_note"`
		DiscountCents int64 `json:"discount_cents"`
	}
	refund(f.manager, map[string]any{"amount_cents": 1000, "reason": "Arrivée à midi"}).expect(t, http.StatusOK).decode(t, &pay)
	if pay.Status != "succeeded" || pay.CreditNote == nil || pay.CreditNote.Reason != "Arrivée à midi" || pay.CreditNote.Number == "" {
		t.Fatalf("partial refund = %+v", pay)
	}
	var note struct{ Reason, Kind string }
	f.h.do(req{method: "GET", path: "/v1/invoices/" + pay.CreditNote.ID, token: anne}).expect(t, http.StatusOK).decode(t, &note)
	if note.Kind != "credit_note" || note.Reason != "Arrivée à midi" {
		t.Fatalf("credit note = %+v", note)
	}
	f.h.do(req{method: "GET", path: pay.CreditNote.PDFURL, token: anne}).expect(t, http.StatusOK)
	refund(f.manager, map[string]any{"amount_cents": 1500, "reason": "Annulation"}).expect(t, http.StatusOK).decode(t, &pay)
	if pay.Status != "refunded" {
		t.Fatalf("payment after a full refund = %+v", pay)
	}
	var invs struct {
		Items []struct{ Kind string }
	}
	f.h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &invs)
	if len(invs.Items) != 3 || invs.Items[1].Kind != "credit_note" || invs.Items[2].Kind != "credit_note" {
		t.Fatalf("anne's documents = %+v, want the invoice and its two credit notes", invs)
	}
}

// The desk sells with a discount and counts its drawer: the totals per
// method are recomputed here from what was sold.
func TestCashDrawerOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500}}).
		expect(t, http.StatusCreated).decode(t, &plan)
	sell := func(method string, amount int64, discount map[string]any) *response {
		body := map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-05", "method": method, "amount_cents": amount, "buyer": buyerBody}
		if discount != nil {
			body["discount"] = discount
		}
		return f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager, body: body})
	}
	for _, c := range []struct {
		amount   int64
		discount map[string]any
		field    string
	}{
		{0, map[string]any{"amount_cents": 2600, "reason": "Erreur"}, "discount.amount_cents"},
		{2000, map[string]any{"amount_cents": 500}, "discount.reason"},
		{2000, map[string]any{"amount_cents": 500, "reason": strings.Repeat("a", 501)}, "discount.reason"},
		{2000, nil, "amount_cents"},
	} {
		if p := sell("cash", c.amount, c.discount).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField(c.field) {
			t.Fatalf("sale %v: %+v, want %s named", c.discount, p, c.field)
		}
	}
	var sold struct {
		Payment struct {
			ID             string
			AmountCents    int64  `json:"amount_cents"`
			DiscountCents  int64  `json:"discount_cents"`
			DiscountReason string `json:"discount_reason"`
			InvoiceID      string `json:"invoice_id"`
		}
	}
	sell("cash", 2000, map[string]any{"percent": 20, "reason": "Bénévole"}).expect(t, http.StatusCreated).decode(t, &sold)
	if sold.Payment.AmountCents != 2000 || sold.Payment.DiscountCents != 500 || sold.Payment.DiscountReason != "Bénévole" {
		t.Fatalf("discounted sale = %+v", sold.Payment)
	}
	var inv struct {
		TotalHTCents  int64 `json:"total_ht_cents"`
		TotalVATCents int64 `json:"total_vat_cents"`
		Lines         []struct {
			UnitPriceTTCCents int64  `json:"unit_price_ttc_cents"`
			DiscountCents     int64  `json:"discount_cents"`
			DiscountReason    string `json:"discount_reason"`
			TotalTTCCents     int64  `json:"total_ttc_cents"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/invoices/" + sold.Payment.InvoiceID, token: anne}).expect(t, http.StatusOK).decode(t, &inv)
	if l := inv.Lines[0]; l.UnitPriceTTCCents != 2500 || l.DiscountCents != 500 || l.DiscountReason != "Bénévole" || l.TotalTTCCents != 2000 ||
		inv.TotalHTCents != 1667 || inv.TotalVATCents != 333 {
		t.Fatalf("invoice = %+v", inv)
	}
	sell("cheque", 2500, nil).expect(t, http.StatusCreated).decode(t, &sold)
	f.h.do(req{method: "POST", path: "/v1/payments/" + sold.Payment.ID + "/refund", token: f.manager,
		body: map[string]any{"amount_cents": 700, "reason": "Geste"}}).expect(t, http.StatusOK)
	sell("cash", 2500, nil).expect(t, http.StatusCreated)
	want := map[string][3]int64{"cash": {2, 4500, 0}, "cheque": {1, 2500, 700}}

	type drawer struct {
		Items []struct {
			ID            string
			UserName      string `json:"user_name"`
			PlanName      string `json:"plan_name"`
			InvoiceNumber string `json:"invoice_number"`
			RefundedCents int64  `json:"refunded_cents"`
		}
		NextCursor string `json:"next_cursor"`
		Totals     []struct {
			Method        string
			Count         int64
			AmountCents   int64 `json:"amount_cents"`
			RefundedCents int64 `json:"refunded_cents"`
			NetCents      int64 `json:"net_cents"`
		}
	}
	var d drawer
	path := "/v1/sites/" + f.site + "/payments?limit=1"
	f.h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusOK).decode(t, &d)
	if len(d.Items) != 1 || d.NextCursor == "" || d.Items[0].UserName == "" || d.Items[0].PlanName != "Journée" || d.Items[0].InvoiceNumber == "" {
		t.Fatalf("first page = %+v", d)
	}
	if len(d.Totals) != len(want) {
		t.Fatalf("totals = %+v, want %v", d.Totals, want)
	}
	for _, tot := range d.Totals {
		w := want[tot.Method]
		if tot.Count != w[0] || tot.AmountCents != w[1] || tot.RefundedCents != w[2] || tot.NetCents != w[1]-w[2] {
			t.Errorf("total %+v, want %v", tot, w)
		}
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/payments?method=cheque", token: f.manager}).expect(t, http.StatusOK).decode(t, &d)
	if len(d.Items) != 1 || d.Items[0].RefundedCents != 700 {
		t.Fatalf("cheques = %+v", d)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/payments?method=bitcoin", token: f.manager}).expect(t, http.StatusUnprocessableEntity)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/payments?from=yesterday", token: f.manager}).expect(t, http.StatusBadRequest)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/payments", token: anne}).expect(t, http.StatusForbidden)
}
