package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestWebhooksOverHTTP: a manager registers an endpoint for their site and
// sees its secret once; others are refused or not told it exists; bad
// URLs and event lists are 422 naming the field; the delivery log, the
// rotation and the deletion.
func TestWebhooksOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	managerID, manager, _ := h.member("manon@example.fr")
	_, member, _ := h.member("anne@example.fr")
	site := h.site(admin, "La Fabrique")
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: admin, body: map[string]string{"user_id": managerID}}).expect(t, http.StatusCreated)

	body := map[string]any{"url": "http://127.0.0.1:9/relais", "events": []string{"reservation.*"}, "description": "l'écran de l'accueil"}
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/webhooks", token: member, body: body}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: "/v1/webhooks", token: manager, body: body}).expect(t, http.StatusForbidden)

	for field, bad := range map[string]map[string]any{
		"url":    {"url": "http://user:pw@127.0.0.1/", "events": []string{"*"}},
		"events": {"url": "http://127.0.0.1/", "events": []string{"reservation.deleted"}},
	} {
		p := h.do(req{method: "POST", path: "/v1/sites/" + site + "/webhooks", token: manager, body: bad}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(field) {
			t.Fatalf("problem %+v does not name %s", p, field)
		}
	}

	type endpoint struct {
		ID      string
		Secret  string
		Enabled bool
		Events  []string
		SiteID  *string `json:"site_id"`
	}
	var ep endpoint
	key := map[string]string{"Idempotency-Key": "ecran-1"}
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/webhooks", token: manager, headers: key, body: body}).
		expect(t, http.StatusCreated).decode(t, &ep)
	if !strings.HasPrefix(ep.Secret, "whsec_") || !ep.Enabled || ep.SiteID == nil || *ep.SiteID != site {
		t.Fatalf("created %+v", ep)
	}
	var replay endpoint
	r := h.do(req{method: "POST", path: "/v1/sites/" + site + "/webhooks", token: manager, headers: key, body: body}).expect(t, http.StatusCreated)
	r.decode(t, &replay)
	if replay.ID != ep.ID || replay.Secret != "" || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %+v", replay)
	}
	var got endpoint
	h.do(req{method: "GET", path: "/v1/webhooks/" + ep.ID, token: manager}).expect(t, http.StatusOK).decode(t, &got)
	if got.Secret != "" {
		t.Fatal("the secret is shown again")
	}
	h.do(req{method: "GET", path: "/v1/webhooks/" + ep.ID, token: member}).expect(t, http.StatusNotFound)
	var list struct{ Items []endpoint }
	h.do(req{method: "GET", path: "/v1/sites/" + site + "/webhooks", token: manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("site list = %+v", list)
	}
	h.do(req{method: "GET", path: "/v1/webhooks", token: admin}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("admin list = %+v", list)
	}
	h.do(req{method: "GET", path: "/v1/webhooks", token: member}).expect(t, http.StatusForbidden)

	h.do(req{method: "PATCH", path: "/v1/webhooks/" + ep.ID, token: manager, body: map[string]any{"events": []string{"*"}, "enabled": false}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.Enabled || len(got.Events) != 1 || got.Events[0] != "*" {
		t.Fatalf("patched %+v", got)
	}
	var deliveries struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/webhooks/" + ep.ID + "/deliveries?limit=10", token: manager}).expect(t, http.StatusOK).decode(t, &deliveries)
	h.do(req{method: "POST", path: "/v1/webhooks/" + ep.ID + "/deliveries/01937c2e-5b19-7c4e-9a51-3f0d2b6c8e10/redeliver", token: manager}).
		expect(t, http.StatusUnprocessableEntity)
	var rotated endpoint
	h.do(req{method: "POST", path: "/v1/webhooks/" + ep.ID + "/rotate-secret", token: manager}).expect(t, http.StatusOK).decode(t, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == ep.Secret {
		t.Fatalf("rotated secret %q", rotated.Secret)
	}
	h.do(req{method: "DELETE", path: "/v1/webhooks/" + ep.ID, token: member}).expect(t, http.StatusNotFound)
	h.do(req{method: "DELETE", path: "/v1/webhooks/" + ep.ID, token: manager}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/webhooks/" + ep.ID, token: admin}).expect(t, http.StatusNotFound)
}
