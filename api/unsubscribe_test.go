package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
)

// notificationsOf reads the caller's notification choices.
func (h *harness) notificationsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	var me struct {
		Notifications map[string]any `json:"notifications"`
	}
	h.do(req{method: "GET", path: "/v1/me", token: token}).expect(t, http.StatusOK).decode(t, &me)
	return me.Notifications
}

// oneClick POSTs an unsubscribe link as a mail client does (RFC 8058).
func (h *harness) oneClick(token, body string) *response {
	return h.do(req{method: "POST", path: "/v1/unsubscribe?token=" + url.QueryEscape(token), body: body,
		headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
}

// One-click unsubscribe: a GET changes nothing; the POST turns off that
// category of that account alone; a replay answers 200 and changes
// nothing; a forged, garbled or cross-account token changes nothing.
func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	before := h.notificationsOf(t, anne)
	link := h.access.UnsubscribeToken(anneID, identity.CategoryWaitingList)

	var got struct {
		Category string `json:"category"`
		Enabled  *bool  `json:"enabled"`
	}
	h.do(req{method: "GET", path: "/v1/unsubscribe?token=" + url.QueryEscape(link)}).expect(t, http.StatusOK).decode(t, &got)
	if got.Category != "waiting_list" || got.Enabled != nil {
		t.Fatalf("GET answered %+v", got)
	}
	if n := h.notificationsOf(t, anne); n["waiting_list"] != true {
		t.Fatalf("a GET unsubscribed: %v", n)
	}

	for i := 0; i < 2; i++ { // the second is a replay
		h.oneClick(link, "List-Unsubscribe=One-Click").expect(t, http.StatusOK).decode(t, &got)
		if got.Category != "waiting_list" || got.Enabled == nil || *got.Enabled {
			t.Fatalf("POST %d answered %+v", i, got)
		}
		n := h.notificationsOf(t, anne)
		for k, v := range before {
			if want := v; k == "waiting_list" {
				if n[k] != false {
					t.Errorf("POST %d: waiting_list still %v", i, n[k])
				}
			} else if n[k] != want {
				t.Errorf("POST %d: %s changed from %v to %v", i, k, want, n[k])
			}
		}
	}
	if n := h.notificationsOf(t, bob); n["waiting_list"] != true {
		t.Errorf("Bob's waiting_list turned off by Anne's link: %v", n)
	}

	mac := link[strings.LastIndexByte(link, '.')+1:]
	flipped := "A"
	if mac[0] == 'A' {
		flipped = "B"
	}
	for name, bad := range map[string]string{
		"forged MAC":          anneID + ".bookings." + flipped + mac[1:],
		"another's MAC":       bobID + ".bookings." + h.access.UnsubscribeToken(anneID, identity.CategoryBookings)[len(anneID)+len(".bookings."):],
		"another category":    anneID + ".bookings." + mac,
		"unknown category":    anneID + ".sms." + mac,
		"garbled":             "not-a-token",
		"empty":               "",
		"MAC not base64":      anneID + ".bookings.***",
		"too many parts":      link + ".x",
		"secret of no server": identity.CategoryBookings,
	} {
		p := h.oneClick(bad, "List-Unsubscribe=One-Click").expect(t, http.StatusNotFound).problem(t)
		if p.Code != "invalid_unsubscribe_token" {
			t.Errorf("%s: code %q", name, p.Code)
		}
		h.do(req{method: "GET", path: "/v1/unsubscribe?token=" + url.QueryEscape(bad)}).expect(t, http.StatusNotFound)
	}
	for _, who := range []string{anne, bob} {
		if n := h.notificationsOf(t, who); n["bookings"] != true {
			t.Errorf("a bad token turned bookings off: %v", n)
		}
	}

	// The body a mail client sends, and nothing else.
	bookings := h.access.UnsubscribeToken(bobID, identity.CategoryBookings)
	h.oneClick(bookings, "List-Unsubscribe=Other").expect(t, http.StatusBadRequest)
	h.oneClick(bookings, "").expect(t, http.StatusBadRequest)
	h.do(req{method: "POST", path: "/v1/unsubscribe?token=" + bookings, body: map[string]string{"List-Unsubscribe": "One-Click"}}).
		expect(t, http.StatusUnsupportedMediaType)
	if n := h.notificationsOf(t, bob); n["bookings"] != true {
		t.Errorf("a refused body turned bookings off: %v", n)
	}
}

// The one-click POST is limited per client address, as logins are.
func TestUnsubscribeIsRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRateLimits(identity.RateLimits{PerIP: identity.Limit{Max: 2, Window: time.Hour}}))
	for i := 0; i < 2; i++ {
		h.oneClick("garbled", "List-Unsubscribe=One-Click").expect(t, http.StatusNotFound)
	}
	h.oneClick("garbled", "List-Unsubscribe=One-Click").expect(t, http.StatusTooManyRequests)
}

// A site's contact address: set at creation, changed and removed by PATCH,
// refused when it is not one bare address.
func TestSiteContactEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	body := siteBody("La Fabrique")
	body["contact_email"] = "accueil@fabrique.example"
	var site struct {
		ID           string  `json:"id"`
		ContactEmail *string `json:"contact_email"`
	}
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusCreated).decode(t, &site)
	if site.ContactEmail == nil || *site.ContactEmail != "accueil@fabrique.example" {
		t.Fatalf("contact_email %v", site.ContactEmail)
	}
	for _, bad := range []string{"accueil", "Accueil <accueil@fabrique.example>", "a@b.fr, c@d.fr"} {
		p := h.do(req{method: "PATCH", path: "/v1/sites/" + site.ID, token: admin, body: map[string]any{"contact_email": bad}}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField("contact_email") {
			t.Errorf("%q: %+v", bad, p)
		}
	}
	h.do(req{method: "PATCH", path: "/v1/sites/" + site.ID, token: admin, body: map[string]any{"contact_email": " equipe@fabrique.example "}}).
		expect(t, http.StatusOK).decode(t, &site)
	if site.ContactEmail == nil || *site.ContactEmail != "equipe@fabrique.example" {
		t.Fatalf("after PATCH: %v", site.ContactEmail)
	}
	h.do(req{method: "PATCH", path: "/v1/sites/" + site.ID, token: admin, body: map[string]any{"contact_email": nil}}).
		expect(t, http.StatusOK).decode(t, &site)
	if site.ContactEmail != nil {
		t.Fatalf("after null: %v", *site.ContactEmail)
	}
}
