package api_test

import (
	"net/http"
	"testing"
)

// --- services-app ---

// The public agenda says, signed out, its site's name, zone and address:
// the page a town's website links to shows the sessions in that zone.
func TestServicesAppAgendaSite(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.newAtelier(t, nil, [2]string{"2026-03-03T14:00", "2026-03-03T16:00"})
	var out struct {
		Items []atelierOut
		Site  struct {
			ID, Name, Timezone string
			Address            struct{ City string }
		}
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/ateliers"}).expect(t, http.StatusOK).decode(t, &out)
	if len(out.Items) != 1 || out.Site.ID != f.site || out.Site.Name != "La Fabrique" || out.Site.Timezone != "Europe/Paris" || out.Site.Address.City == "" {
		t.Fatalf("agenda %+v", out)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/0193a000-0000-7000-8000-0000000000ff/ateliers"}).expect(t, http.StatusNotFound)
}

// An agent finds the partners they act for; anyone else an empty list; an
// API key is refused.
func TestServicesAppMyAgencies(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	var out struct{ Items []partnerOut }
	h.do(req{method: "GET", path: "/v1/me/partners", token: f.agent}).expect(t, http.StatusOK).decode(t, &out)
	if len(out.Items) != 1 || out.Items[0].ID != f.caf || len(out.Items[0].Purposes) != 2 {
		t.Fatalf("agent's partners %+v", out)
	}
	_, anne, _ := h.member("anne@example.fr")
	out.Items = nil
	h.do(req{method: "GET", path: "/v1/me/partners", token: anne}).expect(t, http.StatusOK).decode(t, &out)
	if len(out.Items) != 0 {
		t.Fatalf("a member's partners %+v", out)
	}
	h.do(req{method: "GET", path: "/v1/me/partners"}).expect(t, http.StatusUnauthorized)
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: f.admin, body: map[string]any{"name": "kiosk", "scopes": []string{"users:read"}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	h.do(req{method: "GET", path: "/v1/me/partners", token: key.Secret}).expect(t, http.StatusForbidden)
}

// A member's own list says their place on a session's waiting list, and
// it moves up when someone ahead of them leaves.
func TestServicesAppWaitlistPosition(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	a := f.newAtelier(t, nil, [2]string{"2026-03-03T14:00", "2026-03-03T16:00"}) // 2 seats
	var tokens []string
	for _, e := range []string{"a@example.fr", "b@example.fr", "c@example.fr", "d@example.fr"} {
		_, tok, _ := h.member(e)
		tokens = append(tokens, tok)
		f.register(t, tok, a.ID, map[string]any{}, http.StatusCreated)
	}
	mine := func(tok string) map[string]any {
		var out struct{ Items []map[string]any }
		h.do(req{method: "GET", path: "/v1/me/atelier-registrations", token: tok}).expect(t, http.StatusOK).decode(t, &out)
		if len(out.Items) != 1 {
			t.Fatalf("my registrations %+v", out)
		}
		return out.Items[0]
	}
	if r := mine(tokens[0]); r["status"] != "confirmed" || r["waitlist_position"] != nil {
		t.Fatalf("first %+v", r)
	}
	if r := mine(tokens[2]); r["status"] != "waitlisted" || r["waitlist_position"] != float64(1) {
		t.Fatalf("third %+v", r)
	}
	d := mine(tokens[3])
	if d["waitlist_position"] != float64(2) {
		t.Fatalf("fourth %+v", d)
	}
	third := mine(tokens[2])
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + third["id"].(string), token: tokens[2]}).expect(t, http.StatusOK)
	if r := mine(tokens[3]); r["waitlist_position"] != float64(1) {
		t.Fatalf("fourth after the third left %+v", r)
	}
}
