package api_test

import (
	"net/http"
	"testing"
)

// --- console-d ---

// TestSiteKind: a site opened without a kind is a tiers-lieu; one opened
// as a fablab says so; an unknown kind is refused naming kind, whether
// opening or changing, and changes nothing; an admin changes the kind.
func TestSiteKind(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	type site struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	}
	var plain, lab site
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: siteBody("La Fabrique")}).expect(t, http.StatusCreated).decode(t, &plain)
	if plain.Kind != "tiers_lieu" {
		t.Fatalf("a site opened without a kind is %q, want tiers_lieu", plain.Kind)
	}
	body := siteBody("Le Labo")
	body["kind"] = "fablab"
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusCreated).decode(t, &lab)
	if lab.Kind != "fablab" {
		t.Fatalf("kind %q, want fablab", lab.Kind)
	}

	body = siteBody("Le Bazar")
	body["kind"] = "bazar"
	if p := h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("kind") {
		t.Fatalf("an unknown kind: %+v", p)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/sites/" + lab.ID, token: admin, body: map[string]any{"kind": "bazar"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("kind") {
		t.Fatalf("an unknown kind: %+v", p)
	}
	var list struct{ Items []site }
	h.do(req{method: "GET", path: "/v1/sites", token: admin}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 || list.Items[1].Kind != "fablab" {
		t.Fatalf("the sites after the refusals: %+v", list.Items)
	}

	h.do(req{method: "PATCH", path: "/v1/sites/" + lab.ID, token: admin, body: map[string]any{"kind": "epn"}}).expect(t, http.StatusOK).decode(t, &lab)
	var again site
	h.do(req{method: "GET", path: "/v1/sites/" + lab.ID, token: admin}).expect(t, http.StatusOK).decode(t, &again)
	if lab.Kind != "epn" || again.Kind != "epn" {
		t.Fatalf("after PATCH: %q, read back %q", lab.Kind, again.Kind)
	}
}

// TestSiteLegalRegistrationSentBack: the registration fields of a legal
// identity (registry, its town, the capital) are read back as written and
// may be sent back whole in a PATCH, as the network's console does when an
// admin corrects the company name; a registry without its town is refused
// naming the field.
func TestSiteLegalRegistrationSentBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	body := siteBody("La Fabrique")
	legal := body["legal"].(map[string]any)
	legal["registry"], legal["registry_city"], legal["share_capital_cents"] = "RCS", "Guéret", 1_000_000
	var site struct {
		ID    string         `json:"id"`
		Legal map[string]any `json:"legal"`
	}
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusCreated).decode(t, &site)
	if site.Legal["registry"] != "RCS" || site.Legal["registry_city"] != "Guéret" {
		t.Fatalf("legal %+v", site.Legal)
	}
	back := site.Legal
	back["company_name"] = "SCIC La Grande Fabrique"
	delete(back, "siren")
	h.do(req{method: "PATCH", path: "/v1/sites/" + site.ID, token: admin, body: map[string]any{"legal": back}}).expect(t, http.StatusOK).decode(t, &site)
	if site.Legal["company_name"] != "SCIC La Grande Fabrique" || site.Legal["registry_city"] != "Guéret" || site.Legal["share_capital_cents"] != float64(1_000_000) {
		t.Fatalf("after PATCH: %+v", site.Legal)
	}
	bad := map[string]any{}
	for k, v := range site.Legal {
		bad[k] = v
	}
	delete(bad, "siren")
	delete(bad, "registry_city")
	if p := h.do(req{method: "PATCH", path: "/v1/sites/" + site.ID, token: admin, body: map[string]any{"legal": bad}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("legal.registry_city") {
		t.Fatalf("a registry without its town: %+v", p)
	}
}
