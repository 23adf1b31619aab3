package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/internal/stripetest"
)

const whsec = "whsec_relais_api_test"

func postWebhook(t *testing.T, h *harness, payload []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/webhooks/stripe", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	req.Body = io.NopCloser(bytes.NewReader(payload))
	checkAgainstSpec(t, req, payload, resp, body)
	return resp.StatusCode
}

func TestCheckoutAndWebhookOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	var pass struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &pass)
	body := map[string]any{"day_pass": map[string]string{"site_id": f.site, "date": "2026-03-05"}, "buyer": buyerBody,
		"success_url": "https://app.example.fr/ok", "cancel_url": "https://app.example.fr/annule"}

	// Without Stripe configured: 503 with Retry-After, on-site payments unaffected.
	r := f.h.do(req{method: "POST", path: "/v1/checkout", token: anne, body: body}).expect(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}

	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: stripetest.Start(t)})
	var out struct {
		SessionID string `json:"session_id"`
		URL       string `json:"url"`
		PaymentID string `json:"payment_id"`
	}
	f.h.do(req{method: "POST", path: "/v1/checkout", token: anne, body: body}).expect(t, http.StatusCreated).decode(t, &out)
	if out.URL == "" || out.SessionID == "" {
		t.Fatalf("checkout = %+v", out)
	}
	p := f.h.do(req{method: "POST", path: "/v1/checkout", token: anne,
		body: map[string]any{"day_pass": map[string]string{"site_id": f.site, "date": "2026-03-01"}, "buyer": buyerBody,
			"success_url": "https://app.example.fr/ok", "cancel_url": "https://app.example.fr/annule"}}).expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("day_pass.date") {
		t.Fatalf("problem = %+v", p)
	}

	// Stripe says the session was paid: the pass is active and invoiced.
	ev, _ := json.Marshal(map[string]any{"id": "evt_api_1", "object": "event", "api_version": "2024-06-20", "created": time.Now().Unix(),
		"type": "checkout.session.completed", "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": map[string]any{"id": out.SessionID, "object": "checkout.session", "client_reference_id": out.PaymentID,
			"payment_status": "paid", "status": "complete", "customer": "cus_test", "mode": "payment", "payment_intent": "pi_api_1",
			"metadata": map[string]string{"payment_id": out.PaymentID}}}})
	if st := postWebhook(t, f.h, ev, "t=1,v1=deadbeef"); st != http.StatusBadRequest {
		t.Fatalf("forged signature: %d", st)
	}
	if st := postWebhook(t, f.h, ev, ""); st != http.StatusBadRequest {
		t.Fatalf("missing signature: %d", st)
	}
	// Genuinely signed, but dated 10 minutes ahead or behind: refused.
	for _, d := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev, Secret: whsec, Timestamp: time.Now().Add(d)})
		if st := postWebhook(t, f.h, signed.Payload, signed.Header); st != http.StatusBadRequest {
			t.Fatalf("signed %s from now: %d", d, st)
		}
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev, Secret: whsec})
	for range 2 { // delivered twice, applied once
		if st := postWebhook(t, f.h, signed.Payload, signed.Header); st != http.StatusOK {
			t.Fatalf("signed event: %d", st)
		}
	}
	var mine struct {
		DayPasses []struct{ Status string } `json:"day_passes"`
	}
	f.h.do(req{method: "GET", path: "/v1/me/memberships", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.DayPasses) != 1 || mine.DayPasses[0].Status != "active" {
		t.Fatalf("day passes after the webhook = %+v", mine)
	}
	var invs struct{ Items []any }
	f.h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &invs)
	if len(invs.Items) != 1 {
		t.Fatalf("%d invoices after a paid checkout delivered twice, want 1", len(invs.Items))
	}
}

// sendEvent signs a Stripe event and posts it to the webhook twice (Stripe
// delivers at least once).
func sendEvent(t *testing.T, h *harness, id, typ string, created time.Time, object map[string]any) {
	t.Helper()
	ev, _ := json.Marshal(map[string]any{"id": id, "object": "event", "api_version": "2024-06-20", "created": created.Unix(),
		"type": typ, "livemode": false, "pending_webhooks": 1, "data": map[string]any{"object": object}})
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: ev, Secret: whsec})
	for range 2 {
		if st := postWebhook(t, h, signed.Payload, signed.Header); st != http.StatusOK {
			t.Fatalf("%s: %d", typ, st)
		}
	}
}

func TestOnlinePlanChangeOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: stripetest.Start(t)})
	plan := func(name string, cents int) string {
		var p struct{ ID string }
		f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": name,
			"price_cents": cents, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &p)
		return p.ID
	}
	nomade, resident := plan("Nomade", 30000), plan("Résident", 50000)
	var out struct {
		SessionID string `json:"session_id"`
		PaymentID string `json:"payment_id"`
		TargetID  string `json:"target_id"`
	}
	f.h.do(req{method: "POST", path: "/v1/checkout", token: anne, body: map[string]any{"plan_id": nomade, "buyer": buyerBody,
		"success_url": "https://app.example.fr/ok", "cancel_url": "https://app.example.fr/annule"}}).expect(t, http.StatusCreated).decode(t, &out)
	meta := map[string]string{"payment_id": out.PaymentID, "target_id": out.TargetID, "purpose": "membership"}
	start := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	end := start.AddDate(0, 1, 0)
	sendEvent(t, f.h, "evt_pc_1", "checkout.session.completed", start, map[string]any{"id": out.SessionID, "object": "checkout.session",
		"client_reference_id": out.PaymentID, "payment_status": "paid", "status": "complete", "customer": "cus_test", "mode": "subscription",
		"subscription": "sub_api", "invoice": "in_first", "metadata": meta})

	membership := func() (planID string, next *string) {
		var mine struct {
			Memberships []struct {
				PlanID     string  `json:"plan_id"`
				NextPlanID *string `json:"next_plan_id"`
			} `json:"memberships"`
		}
		f.h.do(req{method: "GET", path: "/v1/me/memberships", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
		if len(mine.Memberships) != 1 {
			t.Fatalf("memberships = %+v", mine)
		}
		return mine.Memberships[0].PlanID, mine.Memberships[0].NextPlanID
	}
	// Asked of Stripe: 202, the membership unchanged until Stripe confirms.
	var m struct {
		PlanID string `json:"plan_id"`
	}
	f.h.do(req{method: "POST", path: "/v1/memberships/" + out.TargetID + "/change-plan", token: anne, body: map[string]any{"plan_id": resident}}).
		expect(t, http.StatusAccepted).decode(t, &m)
	if m.PlanID != nomade {
		t.Fatalf("membership changed before Stripe confirmed: %+v", m)
	}
	price := func(planID string) map[string]any {
		return map[string]any{"id": "price_" + planID, "object": "price", "metadata": map[string]string{"plan_id": planID}}
	}
	at := time.Now().Truncate(time.Second)
	sendEvent(t, f.h, "evt_pc_2", "customer.subscription.updated", at, map[string]any{"id": "sub_api", "object": "subscription", "status": "active",
		"customer": "cus_test", "current_period_start": start.Unix(), "current_period_end": end.Unix(), "metadata": meta,
		"items": map[string]any{"object": "list", "data": []any{map[string]any{"id": "si_api", "object": "subscription_item", "price": price(resident)}}}})
	if got, next := membership(); got != resident || next != nil {
		t.Fatalf("plan after Stripe's update = %s (next %v), want Résident", got, next)
	}
	line := func(planID string, amount int64) map[string]any {
		return map[string]any{"id": "il_" + planID, "object": "line_item", "type": "invoiceitem", "proration": true, "amount": amount,
			"price": price(planID), "period": map[string]any{"start": at.Unix(), "end": end.Unix()}}
	}
	sendEvent(t, f.h, "evt_pc_3", "invoice.paid", at, map[string]any{"id": "in_up", "object": "invoice", "subscription": "sub_api",
		"billing_reason": "subscription_update", "status": "paid", "amount_paid": 19355, "payment_intent": "pi_up", "customer": "cus_test",
		"subscription_details": map[string]any{"metadata": meta},
		"lines":                map[string]any{"object": "list", "data": []any{line(nomade, -29032), line(resident, 48387)}}})
	var invs struct {
		Items []struct {
			TotalTTCCents int64 `json:"total_ttc_cents"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &invs)
	if len(invs.Items) != 2 || invs.Items[1].TotalTTCCents != 19355 {
		t.Fatalf("invoices after the upgrade = %+v, want the checkout's and the prorated 193,55 €", invs.Items)
	}

	// Stripe unreachable: 503 with Retry-After, nothing changed.
	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: "http://127.0.0.1:1"})
	r := f.h.do(req{method: "POST", path: "/v1/memberships/" + out.TargetID + "/change-plan", token: anne, body: map[string]any{"plan_id": nomade}}).
		expect(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if got, next := membership(); got != resident || next != nil {
		t.Fatalf("plan after a failed change = %s (next %v)", got, next)
	}
}

func TestChargesCheckoutOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.h.checkEntitlements(true)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Résident",
		"price_cents": 50000, "includes": map[string]any{"resource_kinds": []string{"desk"}, "pay_per_use": true}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "method": "transfer", "amount_cents": 50000, "buyer": buyerBody}}).expect(t, http.StatusCreated)
	f.h.do(req{method: "PATCH", path: "/v1/resources/" + f.room, token: f.manager, body: map[string]any{"price_per_hour_cents": 2400}}).expect(t, http.StatusOK) // TTC
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	f.book(anne, f.room, f.at(4, 9, 0), f.at(4, 11, 0)).expect(t, http.StatusCreated)
	body := map[string]any{"site_id": f.site, "buyer": buyerBody, "success_url": "https://app.example.fr/ok", "cancel_url": "https://app.example.fr/annule"}

	r := f.h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: body}).expect(t, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: stripetest.Start(t)})
	var out struct {
		SessionID   string `json:"session_id"`
		URL         string `json:"url"`
		PaymentID   string `json:"payment_id"`
		AmountCents int64  `json:"amount_cents"`
		Charges     int    `json:"charges"`
	}
	key := map[string]string{"Idempotency-Key": "pay-my-charges"}
	f.h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: body, headers: key}).expect(t, http.StatusCreated).decode(t, &out)
	if out.AmountCents != 7200 || out.Charges != 2 || out.URL == "" {
		t.Fatalf("checkout = %+v", out)
	}
	// The same request again (a retry): the same session, nothing held twice.
	var again struct {
		PaymentID string `json:"payment_id"`
	}
	f.h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: body, headers: key}).expect(t, http.StatusCreated).decode(t, &again)
	if again.PaymentID != out.PaymentID {
		t.Fatalf("retried checkout opened payment %s, want %s", again.PaymentID, out.PaymentID)
	}
	f.h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: body}).expect(t, http.StatusConflict)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/charges/settle", token: f.manager,
		body: map[string]any{"user_id": anneID, "method": "cash", "buyer": buyerBody}}).expect(t, http.StatusUnprocessableEntity)

	sendEvent(t, f.h, "evt_charges_1", "checkout.session.completed", time.Now(), map[string]any{"id": out.SessionID, "object": "checkout.session",
		"client_reference_id": out.PaymentID, "payment_status": "paid", "status": "complete", "customer": "cus_test", "mode": "payment",
		"payment_intent": "pi_charges", "metadata": map[string]string{"payment_id": out.PaymentID, "purpose": "usage"}})
	var owed struct{ Items []any }
	f.h.do(req{method: "GET", path: "/v1/me/charges", token: anne}).expect(t, http.StatusOK).decode(t, &owed)
	if len(owed.Items) != 0 {
		t.Fatalf("charges after paying online = %+v", owed)
	}
	var invs struct {
		Items []struct {
			TotalTTCCents int64 `json:"total_ttc_cents"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &invs)
	if len(invs.Items) != 2 || invs.Items[1].TotalTTCCents != 7200 {
		t.Fatalf("invoices = %+v, want the membership's and the charges' 72 €", invs.Items)
	}
	p := f.h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "nothing_to_pay" {
		t.Fatalf("problem = %+v", p)
	}
}
