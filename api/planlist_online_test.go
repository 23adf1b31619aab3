package api_test

import (
	"net/http"
	"testing"

	"github.com/relais-tierslieux/relais/billing"
)

// TestPlanListSaysWhetherOnlinePaymentWorks: the plans' list tells an app
// whether they can be bought online, so that it says "pay at the desk"
// before the member tries.
func TestPlanListSaysWhetherOnlinePaymentWorks(t *testing.T) {
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée",
		"price_cents": 2500, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated)
	online := func() bool {
		t.Helper()
		var out struct {
			Items         []struct{ Name string }
			OnlinePayment *bool `json:"online_payment"`
		}
		f.h.do(req{method: "GET", path: "/v1/plans?site_id=" + f.site, token: anne}).expect(t, http.StatusOK).decode(t, &out)
		if len(out.Items) != 1 || out.Items[0].Name != "Journée" || out.OnlinePayment == nil {
			t.Fatalf("plans = %+v", out)
		}
		return *out.OnlinePayment
	}
	if online() {
		t.Error("online_payment is true without Stripe configured")
	}
	// No Stripe call is made to list plans: the key alone says it is set up.
	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: "http://127.0.0.1:9"})
	anne, _ = f.h.login("anne@example.fr", password)
	if !online() {
		t.Error("online_payment is false with Stripe configured")
	}
}
