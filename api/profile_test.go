package api_test

import (
	"net/http"
	"testing"
)

// The profile over HTTP: what PATCH /v1/me stores, GET /v1/me shows; bad
// input names its field and changes nothing.
func TestProfileOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, anne, _ := h.member("anne@example.fr")

	type me struct {
		Language       string  `json:"language"`
		Phone          *string `json:"phone"`
		BillingAddress *struct {
			Name    string `json:"name"`
			Address struct {
				City string `json:"city"`
			} `json:"address"`
			SIREN string `json:"siren"`
		} `json:"billing_address"`
		Notifications struct {
			Bookings              bool `json:"bookings"`
			NewSignIn             bool `json:"new_sign_in"`
			ReminderMinutesBefore int  `json:"reminder_minutes_before"`
		} `json:"notifications"`
	}
	var got me
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.Language != "fr" || got.Phone != nil || got.BillingAddress != nil || !got.Notifications.Bookings || got.Notifications.NewSignIn || got.Notifications.ReminderMinutesBefore != 60 {
		t.Fatalf("defaults: %+v", got)
	}

	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"phone without +", map[string]any{"phone": "0612345678"}, "phone"},
		{"phone too short", map[string]any{"phone": "+3361234"}, "phone"},
		{"phone too long", map[string]any{"phone": "+3361234567890123"}, "phone"},
		{"language", map[string]any{"language": "de"}, "language"},
		{"reminder negative", map[string]any{"notifications": map[string]any{"reminder_minutes_before": -1}}, "notifications.reminder_minutes_before"},
		{"reminder too far", map[string]any{"notifications": map[string]any{"reminder_minutes_before": 10081}}, "notifications.reminder_minutes_before"},
		{"address without city", map[string]any{"billing_address": map[string]any{"address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "", "country": "FR"}}}, "billing_address.address"},
		{"French postal code", map[string]any{"billing_address": map[string]any{"address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "230", "city": "Guéret", "country": "FR"}}}, "billing_address.address.postal_code"},
		{"business without SIREN", map[string]any{"billing_address": map[string]any{"is_business": true, "address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}}, "billing_address.siren"},
		{"bad SIREN key", map[string]any{"billing_address": map[string]any{"is_business": true, "siren": "552100555", "address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}}, "billing_address.siren"},
		{"SIREN of a private buyer", map[string]any{"billing_address": map[string]any{"siren": "552100554", "address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}}, "billing_address.siren"},
	} {
		p := h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: tt.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
			t.Errorf("%s: %+v, want %s", tt.name, p, tt.field)
		}
	}
	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"notifications": map[string]any{"sms": true}}}).expect(t, http.StatusBadRequest)

	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{
		"language": "en", "phone": "+33612345678",
		"billing_address": map[string]any{"name": "Atelier Lilas SARL", "is_business": true, "siren": "552100554", "vat_number": "FR96552100554",
			"address": map[string]any{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}},
		"notifications": map[string]any{"new_sign_in": true, "reminder_minutes_before": 0},
	}}).expect(t, http.StatusOK).decode(t, &got)
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.Language != "en" || got.Phone == nil || *got.Phone != "+33612345678" || got.BillingAddress == nil || got.BillingAddress.SIREN != "552100554" ||
		got.BillingAddress.Address.City != "Guéret" || !got.Notifications.Bookings || !got.Notifications.NewSignIn || got.Notifications.ReminderMinutesBefore != 0 {
		t.Fatalf("stored: %+v", got)
	}
	// null removes the phone and the address; other fields stay.
	got = me{}
	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"phone": nil, "billing_address": nil}}).expect(t, http.StatusOK).decode(t, &got)
	if got.Phone != nil || got.BillingAddress != nil || got.Language != "en" || !got.Notifications.NewSignIn {
		t.Fatalf("after removal: %+v", got)
	}
}
