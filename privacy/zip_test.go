package privacy

import "testing"

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"UserID": "user_id", "VATRateBP": "vat_rate_bp", "TotalHTCents": "total_ht_cents", "StripeSubscriptionID": "stripe_subscription_id",
		"ID": "id", "Number": "number", "buyer_user_id": "buyer_user_id", "PDF": "pdf", "CreatedAt": "created_at",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
