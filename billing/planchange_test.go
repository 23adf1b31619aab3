package billing

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// planChangeFixture adds a dearer (Résident) and a cheaper (Solo) plan to
// the stripe fixture, and a paid Nomade membership.
type planChangeFixture struct {
	*stripeFixture
	resident, solo *Plan
	res            *CheckoutResult
}

func newPlanChangeFixture(t *testing.T, apiURL string) *planChangeFixture {
	t.Helper()
	f := &planChangeFixture{stripeFixture: newStripeFixture(t, 1, apiURL)}
	ctx := context.Background()
	var err error
	if f.resident, err = f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanMembership, Name: "Résident", PriceCents: 50000}); err != nil {
		t.Fatal(err)
	}
	if f.solo, err = f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanMembership, Name: "Solo", PriceCents: 20000}); err != nil {
		t.Fatal(err)
	}
	f.res = f.paid(t, PlanMembership) // Nomade, 2 March → 2 April
	return f
}

// price is a Stripe price of plan p as webhooks carry it.
func price(p *Plan) map[string]any {
	return map[string]any{"id": "price_" + p.ID, "object": "price", "unit_amount": p.PriceCents, "currency": "eur",
		"metadata": map[string]any{"plan_id": p.ID}}
}

// subscriptionAt is the subscription of res billing plan p.
func subscriptionAt(res *CheckoutResult, p *Plan, status string, start, end time.Time) map[string]any {
	sub := subscription(res, status, start, end)
	sub["items"] = map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_" + res.PaymentID, "object": "subscription_item", "price": price(p)}}}
	return sub
}

// upgradeInvoice is the invoice Stripe issues for an upgrade at at: the
// unused time of from credited, the rest of the period at to's price.
func upgradeInvoice(res *CheckoutResult, id string, from, to *Plan, at, end time.Time, paid int64) map[string]any {
	line := func(p *Plan, amount int64) map[string]any {
		return map[string]any{"id": "il_" + id + p.ID, "object": "line_item", "type": "invoiceitem", "proration": true, "amount": amount,
			"price": price(p), "period": map[string]any{"start": at.Unix(), "end": end.Unix()}}
	}
	inv := invoice(res, id, "subscription_update", at, end)
	inv["amount_paid"] = paid
	inv["lines"] = map[string]any{"object": "list", "data": []any{line(from, -paid*3/2), line(to, paid*5/2)}}
	return inv
}

func renewalInvoice(res *CheckoutResult, id string, p *Plan, start, end time.Time) map[string]any {
	inv := invoice(res, id, "subscription_cycle", start, end)
	inv["amount_paid"] = p.PriceCents
	inv["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)["price"] = price(p)
	return inv
}

// TestStripePlanChangeRequests: what ChangePlan asks of Stripe; the
// membership itself waits for the webhooks.
func TestStripePlanChangeRequests(t *testing.T) {
	t.Parallel()
	apiURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f := newPlanChangeFixture(t, apiURL)
	ctx := context.Background()
	sub := "/v1/subscriptions/" + subID(f.res)

	for _, tc := range []struct {
		name      string
		to        *Plan
		proration string
		behavior  string
	}{
		{"upgrade", f.resident, "always_invoice", "pending_if_incomplete"},
		{"downgrade", f.solo, "none", ""},
	} {
		before := len(rec.Posts(sub))
		m, err := f.bill.ChangePlan(ctx, f.res.TargetID, tc.to.ID)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if m.PlanID != f.membership.ID || m.NextPlanID != nil {
			t.Fatalf("%s changed the membership before Stripe confirmed: %+v", tc.name, m)
		}
		p, _ := f.bill.GetPlan(ctx, tc.to.ID)
		calls := rec.Posts(sub)
		if len(calls) != before+1 || p.StripePriceID == nil {
			t.Fatalf("%s: %d updates of the subscription, plan price %v", tc.name, len(calls)-before, p.StripePriceID)
		}
		sent := calls[len(calls)-1]
		for key, want := range map[string]string{
			"items[0][price]":    *p.StripePriceID,
			"proration_behavior": tc.proration,
			"payment_behavior":   tc.behavior,
		} {
			if got := sent.Form.Get(key); got != want {
				t.Errorf("%s: %s = %q, want %q", tc.name, key, got, want)
			}
		}
		if !strings.HasPrefix(sent.Form.Get("items[0][id]"), "si_") || !strings.HasPrefix(sent.IdempotencyKey, "relais-plan-"+f.res.TargetID) {
			t.Errorf("%s: item %q, idempotency key %q", tc.name, sent.Form.Get("items[0][id]"), sent.IdempotencyKey)
		}
	}
	// The subscription's item is read first, every time.
	if gets := len(rec.Requests(http.MethodGet, sub)); gets != 2 {
		t.Fatalf("%d reads of the subscription, want 2", gets)
	}

	// Refusals before Stripe is asked anything.
	retired, _ := f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanMembership, Name: "Ancien", PriceCents: 40000})
	f.bill.UpdatePlan(ctx, retired.ID, PlanUpdate{Active: new(bool)}) // retired
	before := len(rec.Posts(sub))
	for _, planID := range []string{f.pack.ID, retired.ID, "01a20000-0000-7000-8000-000000000000"} {
		var ve *errs.ValidationError
		if _, err := f.bill.ChangePlan(ctx, f.res.TargetID, planID); !errors.As(err, &ve) || ve.Fields[0].Field != "plan_id" {
			t.Errorf("change to %s: %v, want a validation error", planID, err)
		}
	}
	if _, err := f.bill.ChangePlan(ctx, f.res.TargetID, f.membership.ID); err != nil {
		t.Fatalf("change to the current plan: %v", err)
	}
	if n := len(rec.Posts(sub)) - before; n != 0 {
		t.Fatalf("%d calls to Stripe for refused or empty changes", n)
	}

	// A pending downgrade must be undone before an upgrade.
	f.mustDeliver(t, stripetest.Event("customer.subscription.updated", f.clock.Add(time.Hour), subscriptionAt(f.res, f.solo, "active", *f.clock, f.clock.AddDate(0, 1, 0))))
	if _, err := f.bill.ChangePlan(ctx, f.res.TargetID, f.resident.ID); problemCode(err) != "plan_change_pending" {
		t.Fatalf("upgrade over a pending downgrade: %v", err)
	}
	if _, err := f.bill.ChangePlan(ctx, f.res.TargetID, f.membership.ID); err != nil {
		t.Fatal(err)
	}
	if sent := rec.Posts(sub); sent[len(sent)-1].Form.Get("proration_behavior") != "none" {
		t.Fatalf("undoing a downgrade prorates: %+v", sent[len(sent)-1].Form)
	}

	// A declined card is the member's to fix: 402.
	declining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusPaymentRequired)
		io.WriteString(w, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`)
	}))
	t.Cleanup(declining.Close)
	f.withStripe(StripeConfig{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret, APIURL: declining.URL})
	if _, err := f.bill.ChangePlan(ctx, f.res.TargetID, f.solo.ID); !errors.Is(err, errs.ErrPaymentRequired) || problemCode(err) != "payment_declined" {
		t.Fatalf("change with a declined card: %v", err)
	}

	// Stripe down: nothing changes, 503.
	g := newPlanChangeFixture(t, stripetest.Start(t))
	g.withStripe(StripeConfig{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret, APIURL: closedURL(t)})
	if _, err := g.bill.ChangePlan(ctx, g.res.TargetID, g.resident.ID); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("change with Stripe down: %v", err)
	}
}

// TestStripePlanChangeWebhooks: the membership follows the subscription's
// price in the webhooks, delivered twice and in any order; an upgrade's
// prorated invoice yields our invoice for exactly that amount.
func TestStripePlanChangeWebhooks(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	ctx := context.Background()
	day := func(month, d, hour int) time.Time { return time.Date(2026, time.Month(month), d, hour, 0, 0, 0, paris) }
	march, april, may := day(3, 2, 7), day(4, 2, 7), day(5, 2, 7)

	t.Run("upgrade, invoice first", func(t *testing.T) {
		t.Parallel()
		f := newPlanChangeFixture(t, mock)
		f.withInvoicer()
		at := day(3, 15, 10)
		*f.clock = at
		inv := stripetest.Event("invoice.paid", at, upgradeInvoice(f.res, "in_up", f.membership, f.resident, at, april, 11290))
		upd := stripetest.Event("customer.subscription.updated", at, subscriptionAt(f.res, f.resident, "active", march, april))
		for _, ev := range []map[string]any{inv, upd, inv, upd} {
			f.mustDeliver(t, ev)
		}
		m := f.membershipRow(t, f.res.TargetID)
		if m.PlanID != f.resident.ID || m.NextPlanID != nil || !m.CurrentPeriodStart.Equal(march) || !m.CurrentPeriodEnd.Equal(april) || m.Status != StatusActive {
			t.Fatalf("membership after the upgrade: %+v", m.Membership)
		}
		var pays []stripePayment
		if err := f.db.NewSelect().Model(&pays).Where("stripe_invoice_id = ?", "in_up").Scan(ctx); err != nil || len(pays) != 1 {
			t.Fatalf("upgrade payments: %d, %v", len(pays), err)
		}
		pay := pays[0]
		if pay.AmountCents != 11290 || *pay.PlanID != f.resident.ID || pay.InvoiceID == nil || pay.Buyer == nil {
			t.Fatalf("upgrade payment = %+v", pay.Payment)
		}
		doc, err := invoicing.NewInvoicer(f.db, nil).Get(ctx, *pay.InvoiceID)
		if err != nil {
			t.Fatal(err)
		}
		if doc.TotalTTCCents != 11290 || doc.TotalHTCents != 9408 || doc.TotalVATCents != 1882 || doc.ServiceFrom != "2026-03-15" || doc.ServiceTo != "2026-04-01" ||
			len(doc.Lines) != 1 || doc.Lines[0].Description != "Changement de formule Nomade → Résident — prorata du 15/03/2026 au 01/04/2026" {
			t.Fatalf("upgrade invoice: %d TTC %d HT, %s–%s, %+v", doc.TotalTTCCents, doc.TotalHTCents, doc.ServiceFrom, doc.ServiceTo, doc.Lines)
		}
		// The subscription as it was before the upgrade, delivered late: stale.
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", at.Add(-time.Hour), subscriptionAt(f.res, f.membership, "active", march, april)))
		if m := f.membershipRow(t, f.res.TargetID); m.PlanID != f.resident.ID || m.NextPlanID != nil {
			t.Fatalf("a stale subscription undid the upgrade: %+v", m.Membership)
		}
		// The renewal bills the new plan in full.
		f.mustDeliver(t, stripetest.Event("invoice.paid", april, renewalInvoice(f.res, "in_april", f.resident, april, may)))
		if n := f.count(t, "payments", "stripe_invoice_id = ? AND amount_cents = 50000 AND plan_id = ?", "in_april", f.resident.ID); n != 1 {
			t.Fatalf("%d renewal payments at the new price", n)
		}
	})

	t.Run("upgrade, subscription first", func(t *testing.T) {
		t.Parallel()
		f := newPlanChangeFixture(t, mock)
		at := day(3, 15, 10)
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", at, subscriptionAt(f.res, f.resident, "active", march, april)))
		if m := f.membershipRow(t, f.res.TargetID); m.PlanID != f.resident.ID {
			t.Fatalf("plan after the subscription update: %s", m.PlanID)
		}
		f.mustDeliver(t, stripetest.Event("invoice.paid", at, upgradeInvoice(f.res, "in_up", f.membership, f.resident, at, april, 11290)))
		invoices := f.issued.invoices()
		last := invoices[len(invoices)-1]
		if len(invoices) != 2 || last.ServiceFrom != "2026-03-15" || last.ServiceTo != "2026-04-01" ||
			last.Lines[0].Description != "Changement de formule Nomade → Résident — prorata du 15/03/2026 au 01/04/2026" || last.Lines[0].UnitPriceCents != 11290 {
			t.Fatalf("invoiced %+v", last)
		}
	})

	t.Run("upgrade payment failed", func(t *testing.T) {
		t.Parallel()
		f := newPlanChangeFixture(t, mock)
		at := day(3, 15, 10)
		// pending_if_incomplete: the subscription keeps its price; the
		// membership stays as it was, and not past due.
		f.mustDeliver(t, stripetest.Event("invoice.payment_failed", at, upgradeInvoice(f.res, "in_up", f.membership, f.resident, at, april, 11290)))
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", at, subscriptionAt(f.res, f.membership, "active", march, april)))
		if m := f.membershipRow(t, f.res.TargetID); m.PlanID != f.membership.ID || m.Status != StatusActive {
			t.Fatalf("membership after a failed upgrade: %+v", m.Membership)
		}
		if n := f.count(t, "payments", "stripe_invoice_id = ?", "in_up"); n != 0 {
			t.Fatalf("%d payments for an unpaid upgrade", n)
		}
	})

	downgrade := func(f *planChangeFixture) (sub, renewal, next map[string]any) {
		at := day(3, 20, 10)
		return stripetest.Event("customer.subscription.updated", at, subscriptionAt(f.res, f.solo, "active", march, april)),
			stripetest.Event("invoice.paid", april, renewalInvoice(f.res, "in_april", f.solo, april, may)),
			stripetest.Event("customer.subscription.updated", april, subscriptionAt(f.res, f.solo, "active", april, may))
	}
	check := func(t *testing.T, f *planChangeFixture) {
		t.Helper()
		m := f.membershipRow(t, f.res.TargetID)
		if m.PlanID != f.solo.ID || m.NextPlanID != nil || !m.CurrentPeriodStart.Equal(april) || !m.CurrentPeriodEnd.Equal(may) {
			t.Fatalf("membership after the downgraded renewal: %+v", m.Membership)
		}
		if n := f.count(t, "payments", "stripe_invoice_id = ? AND amount_cents = 20000 AND plan_id = ?", "in_april", f.solo.ID); n != 1 {
			t.Fatalf("%d renewal payments at the cheaper plan", n)
		}
	}
	t.Run("downgrade in order", func(t *testing.T) {
		t.Parallel()
		f := newPlanChangeFixture(t, mock)
		sub, renewal, next := downgrade(f)
		f.mustDeliver(t, sub)
		f.mustDeliver(t, sub)
		m := f.membershipRow(t, f.res.TargetID)
		if m.PlanID != f.membership.ID || m.NextPlanID == nil || *m.NextPlanID != f.solo.ID || !m.CurrentPeriodEnd.Equal(april) {
			t.Fatalf("membership after the downgrade request: %+v", m.Membership)
		}
		if n := f.count(t, "payments", "TRUE"); n != 1 {
			t.Fatalf("a downgrade charged something: %d payments", n)
		}
		f.mustDeliver(t, renewal)
		f.mustDeliver(t, next)
		f.mustDeliver(t, renewal)
		check(t, f)
	})
	for name, order := range map[string][]int{
		"downgrade: renewal before its subscription events": {1, 2, 0},
		"downgrade: new period's subscription first":        {2, 0, 1},
		"downgrade: request event lost":                     {2, 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newPlanChangeFixture(t, mock)
			sub, renewal, next := downgrade(f)
			evs := []map[string]any{sub, renewal, next}
			for _, i := range order {
				f.mustDeliver(t, evs[i])
			}
			check(t, f)
		})
	}
}
