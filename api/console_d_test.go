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
