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

	f.h.bill.UseStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: stripetest.Start(t)})
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
