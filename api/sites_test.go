package api_test

import (
	"net/http"
	"reflect"
	"testing"
)

func TestSitesLifecycleAndRights(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	managerID, manager, _ := h.member("manon@example.fr")
	_, member, _ := h.member("marc@example.fr")

	// Only admins create sites.
	h.do(req{method: "POST", path: "/v1/sites", token: manager, body: siteBody("Nope")}).expect(t, http.StatusForbidden).problem(t)
	site := h.site(admin, "La Fabrique")
	other := h.site(admin, "L'Atelier")

	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: manager, body: map[string]string{"user_id": managerID}}).
		expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: admin, body: map[string]string{"user_id": managerID}}).
		expect(t, http.StatusCreated)
	var me struct {
		ManagedSiteIDs []string `json:"managed_site_ids"`
	}
	h.do(req{method: "GET", path: "/v1/me", token: manager}).expect(t, http.StatusOK).decode(t, &me)
	if len(me.ManagedSiteIDs) != 1 || me.ManagedSiteIDs[0] != site {
		t.Fatalf("managed sites = %v, want [%s]", me.ManagedSiteIDs, site)
	}

	// Members read sites.
	var got struct {
		Name         string
		OpeningHours map[string][][]string `json:"opening_hours"`
	}
	h.do(req{method: "GET", path: "/v1/sites/" + site, token: member}).expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "La Fabrique" || len(got.OpeningHours["mon"]) != 2 {
		t.Fatalf("site = %+v", got)
	}
	var sites struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/sites", token: member}).expect(t, http.StatusOK).decode(t, &sites)
	if len(sites.Items) != 2 {
		t.Fatalf("sites = %+v", sites)
	}

	// A manager edits their own site, not another; a member edits none.
	rename := map[string]any{"name": "La Fabrique du Bourg"}
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: rename}).expect(t, http.StatusOK)
	h.do(req{method: "PATCH", path: "/v1/sites/" + other, token: manager, body: rename}).expect(t, http.StatusForbidden)
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: member, body: rename}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/sites/" + other, token: member}).expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "L'Atelier" {
		t.Fatalf("refused PATCH changed the other site: %q", got.Name)
	}

	// opening_hours: null means open around the clock.
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: `{"opening_hours": null}`}).expect(t, http.StatusOK).decode(t, &got)
	if got.OpeningHours != nil {
		t.Fatalf("opening_hours after null = %v", got.OpeningHours)
	}

	// An unknown zone is a 422 naming the field, and changes nothing.
	p := h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: map[string]any{"timezone": "Europe/Lutece", "name": "X"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("timezone") {
		t.Fatalf("problem %+v does not name timezone", p)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + site, token: member}).expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "La Fabrique du Bourg" {
		t.Fatalf("refused PATCH changed the name to %q", got.Name)
	}

	// Closures: managers add and remove, members read.
	var c struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/closures", token: manager,
		body: map[string]string{"starts_at": "2026-12-24T18:00:00+01:00", "ends_at": "2026-12-27T00:00:00+01:00", "reason": "Noël"}}).
		expect(t, http.StatusCreated).decode(t, &c)
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/closures", token: member,
		body: map[string]string{"starts_at": "2026-12-24T18:00:00+01:00", "ends_at": "2026-12-27T00:00:00+01:00"}}).
		expect(t, http.StatusForbidden)
	p = h.do(req{method: "POST", path: "/v1/sites/" + site + "/closures", token: manager,
		body: map[string]string{"starts_at": "24/12/2026", "ends_at": "2026-12-27T00:00:00+01:00"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("starts_at") {
		t.Fatalf("problem %+v does not name starts_at", p)
	}
	var closures struct{ Items []struct{ ID, Reason string } }
	h.do(req{method: "GET", path: "/v1/sites/" + site + "/closures?from=2026-12-01T00:00:00Z", token: member}).expect(t, http.StatusOK).decode(t, &closures)
	if len(closures.Items) != 1 || closures.Items[0].Reason != "Noël" {
		t.Fatalf("closures = %+v", closures)
	}
	h.do(req{method: "DELETE", path: "/v1/sites/" + site + "/closures/" + c.ID, token: manager}).expect(t, http.StatusNoContent)

	// Removing the manager takes the right away at once.
	h.do(req{method: "DELETE", path: "/v1/sites/" + site + "/managers/" + managerID, token: admin}).expect(t, http.StatusNoContent)
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: rename}).expect(t, http.StatusForbidden)
}

func TestMembersCannotSeeOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	h.do(req{method: "GET", path: "/v1/users/" + anneID, token: anne}).expect(t, http.StatusOK)
	// Another member's account is not found, not forbidden: ids reveal nothing.
	h.do(req{method: "GET", path: "/v1/users/" + bobID, token: anne}).expect(t, http.StatusNotFound).problem(t)
	h.do(req{method: "PATCH", path: "/v1/users/" + bobID, token: anne, body: map[string]any{"name": "pwned"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: "/v1/users/" + bobID, token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/users", token: anne}).expect(t, http.StatusForbidden)
	var b struct{ Name string }
	h.do(req{method: "GET", path: "/v1/me", token: bob}).expect(t, http.StatusOK).decode(t, &b)
	if b.Name != "bob" {
		t.Fatalf("bob's name = %q", b.Name)
	}
}

func TestAdminManagesUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	anneID, anne, _ := h.member("anne@example.fr")
	h.do(req{method: "PATCH", path: "/v1/users/" + anneID, token: admin, body: map[string]any{"disabled": true}}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password}}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "PATCH", path: "/v1/users/" + anneID, token: admin, body: map[string]any{"disabled": false, "role": "admin"}}).expect(t, http.StatusOK)
	anne, _ = h.login("anne@example.fr", password)
	h.do(req{method: "GET", path: "/v1/users", token: anne}).expect(t, http.StatusOK)
	p := h.do(req{method: "PATCH", path: "/v1/users/" + anneID, token: admin, body: map[string]any{"role": "owner"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("role") {
		t.Fatalf("problem %+v does not name role", p)
	}
	h.do(req{method: "DELETE", path: "/v1/users/" + anneID, token: admin}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/users/" + anneID, token: admin}).expect(t, http.StatusNotFound)
	// The email is free again.
	h.member("anne@example.fr")
}

func TestAPIKeysOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	managerID, manager, _ := h.member("manon@example.fr")
	site := h.site(admin, "La Fabrique")
	other := h.site(admin, "L'Atelier")
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: admin, body: map[string]string{"user_id": managerID}}).expect(t, http.StatusCreated)

	// A manager cannot create a key for a site they do not manage.
	p := h.do(req{method: "POST", path: "/v1/api-keys", token: manager,
		body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read"}, "site_ids": []string{other}}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("site_ids[0]") {
		t.Fatalf("problem %+v", p)
	}
	var key struct {
		ID     string
		Secret string
	}
	h.do(req{method: "POST", path: "/v1/api-keys", token: manager, headers: map[string]string{"Idempotency-Key": "kiosk-1"},
		body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read"}, "site_ids": []string{site}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	if len(key.Secret) < 40 || key.Secret[:4] != "rlk_" {
		t.Fatalf("secret = %q", key.Secret)
	}
	// The key reads its site, not the other, and edits nothing.
	h.do(req{method: "GET", path: "/v1/sites/" + site, token: key.Secret}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/sites/" + other, token: key.Secret}).expect(t, http.StatusNotFound)
	var sites struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/sites", token: key.Secret}).expect(t, http.StatusOK).decode(t, &sites)
	if len(sites.Items) != 1 || sites.Items[0].ID != site {
		t.Fatalf("key lists %+v, want only %s", sites.Items, site)
	}
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: key.Secret, body: map[string]any{"name": "x"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/me", token: key.Secret}).expect(t, http.StatusForbidden)

	// A replay of the creation returns the key without its secret.
	var replay struct {
		ID     string
		Secret string
	}
	r := h.do(req{method: "POST", path: "/v1/api-keys", token: manager, headers: map[string]string{"Idempotency-Key": "kiosk-1"},
		body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read"}, "site_ids": []string{site}}}).expect(t, http.StatusCreated)
	r.decode(t, &replay)
	if replay.ID != key.ID || replay.Secret != "" || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %+v (replayed=%q)", replay, r.Header.Get("Idempotent-Replayed"))
	}

	// Losing the site takes it from the key too.
	h.do(req{method: "DELETE", path: "/v1/sites/" + site + "/managers/" + managerID, token: admin}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/sites/" + site, token: key.Secret}).expect(t, http.StatusNotFound)

	h.do(req{method: "DELETE", path: "/v1/api-keys/" + key.ID, token: admin}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/sites", token: key.Secret}).expect(t, http.StatusUnauthorized)
	var keys struct {
		Items []struct {
			RevokedAt *string `json:"revoked_at"`
		}
	}
	h.do(req{method: "GET", path: "/v1/api-keys", token: admin}).expect(t, http.StatusOK).decode(t, &keys)
	if len(keys.Items) != 1 || keys.Items[0].RevokedAt == nil {
		t.Fatalf("keys = %+v", keys.Items)
	}
}

func TestFollowUpsOfCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	site := h.site(admin, "La Fabrique")
	// Locations point at readable resources.
	r := h.do(req{method: "POST", path: "/v1/sites/" + site + "/closures", token: admin,
		body: map[string]string{"starts_at": "2026-08-01T00:00:00+02:00", "ends_at": "2026-08-16T00:00:00+02:00", "reason": "Août"}}).
		expect(t, http.StatusCreated)
	h.do(req{method: "GET", path: r.Header.Get("Location"), token: admin}).expect(t, http.StatusOK)
	r = h.do(req{method: "POST", path: "/v1/api-keys", token: admin, body: map[string]any{"name": "compta", "scopes": []string{"invoices:read"}}}).
		expect(t, http.StatusCreated)
	var k struct{ Secret string }
	h.do(req{method: "GET", path: r.Header.Get("Location"), token: admin}).expect(t, http.StatusOK).decode(t, &k)
	if k.Secret != "" {
		t.Fatal("GET of an API key shows its secret")
	}
	// An admin's key must name real sites.
	p := h.do(req{method: "POST", path: "/v1/api-keys", token: admin,
		body: map[string]any{"name": "x", "scopes": []string{"sites:read"}, "site_ids": []string{site, "01a21af7-eedd-72a1-95ac-9c5fa649d0e2"}}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("site_ids[1]") || p.hasField("site_ids[0]") {
		t.Fatalf("problem %+v", p)
	}
	// Managers of an unknown site: 404, not an empty list.
	h.do(req{method: "GET", path: "/v1/sites/01a21af7-eedd-72a1-95ac-9c5fa649d0e2/managers", token: admin}).expect(t, http.StatusNotFound)
}

func TestAPIKeyListedSitesPaginate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	var ids []string
	for _, n := range []string{"A", "B", "C"} {
		ids = append(ids, h.site(admin, n))
	}
	h.site(admin, "not the key's")
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: admin, body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read"}, "site_ids": ids}}).
		expect(t, http.StatusCreated).decode(t, &key)
	seen := 0
	path := "/v1/sites?limit=2"
	for path != "" {
		var pg struct {
			Items      []struct{ ID string }
			NextCursor string `json:"next_cursor"`
		}
		h.do(req{method: "GET", path: path, token: key.Secret}).expect(t, http.StatusOK).decode(t, &pg)
		seen += len(pg.Items)
		path = ""
		if pg.NextCursor != "" {
			path = "/v1/sites?limit=2&cursor=" + pg.NextCursor
		}
	}
	if seen != 3 {
		t.Fatalf("key saw %d sites over its pages, want 3", seen)
	}
	h.do(req{method: "POST", path: "/v1/auth/logout", token: key.Secret}).expect(t, http.StatusForbidden)
}

// otherLegal is the legal identity of another entity than siteBody's.
func otherLegal() map[string]any {
	return map[string]any{"company_name": "Association Le Bourg Numérique", "legal_form": "Association loi 1901",
		"siren": "443061841", "siret": "44306184100005", "vat_number": "FR64443061841"}
}

// A site's legal identity decides whose invoice series its invoices take a
// number in, and whose accounting journal (FEC) they land in. It is the
// admin's to set: a manager who could point their site at another entity's
// SIREN would issue invoices in that entity's series and lock the entity's
// own managers out of its journal.
func TestSiteLegalIdentityIsTheAdmins(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	site := h.site(admin, "La Fabrique")
	other := h.site(admin, "Le Bourg")
	h.do(req{method: "PATCH", path: "/v1/sites/" + other, token: admin, body: map[string]any{"legal": otherLegal()}}).expect(t, http.StatusOK)
	managerID, _, _ := h.member("manon@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: admin, body: map[string]string{"user_id": managerID}}).expect(t, http.StatusCreated)
	manager, _ := h.login("manon@example.fr", password)
	otherManagerID, _, _ := h.member("olga@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + other + "/managers", token: admin, body: map[string]string{"user_id": otherManagerID}}).expect(t, http.StatusCreated)
	otherManager, _ := h.login("olga@example.fr", password)

	type legal struct {
		CompanyName string `json:"company_name"`
		SIREN       string `json:"siren"`
	}
	var got struct {
		Name  string
		Legal legal
	}
	read := func(id string) {
		t.Helper()
		h.do(req{method: "GET", path: "/v1/sites/" + id, token: admin}).expect(t, http.StatusOK).decode(t, &got)
	}
	window := "?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z"
	h.do(req{method: "GET", path: "/v1/sites/" + other + "/fec" + window, token: otherManager}).expect(t, http.StatusOK)

	// The attack: the manager points their site at the other entity (with
	// another change beside it). Refused naming legal; nothing changes.
	for _, body := range []map[string]any{
		{"legal": otherLegal()},
		{"name": "La Fabrique du Bourg", "legal": otherLegal()},
		{"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_exempt": true}},
	} {
		p := h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: body}).expect(t, http.StatusForbidden).problem(t)
		if p.Code != "legal_identity_admin_only" || !p.hasField("legal") {
			t.Fatalf("problem %+v does not name legal", p)
		}
		read(site)
		if got.Name != "La Fabrique" || got.Legal.SIREN != "732829320" || got.Legal.CompanyName != "SCIC La Fabrique" {
			t.Fatalf("a refused PATCH changed the site: %+v", got)
		}
	}
	// The other entity's managers keep their journal.
	h.do(req{method: "GET", path: "/v1/sites/" + other + "/fec" + window, token: otherManager}).expect(t, http.StatusOK)

	// The manager still edits everything else, and may send the legal
	// identity back unchanged (a form that sends the whole site).
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: map[string]any{"name": "La Fabrique du Bourg"}}).expect(t, http.StatusOK)
	same := siteBody("")["legal"].(map[string]any)
	same["siret"] = "732 829 320 00074" // the same number, written otherwise
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: manager, body: map[string]any{"legal": same}}).expect(t, http.StatusOK)
	read(site)
	if got.Name != "La Fabrique du Bourg" || got.Legal.SIREN != "732829320" {
		t.Fatalf("site after the manager's edits: %+v", got)
	}
	// An API key of the site with sites:write is no admin either.
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: manager, body: map[string]any{"name": "console", "scopes": []string{"sites:read", "sites:write"}, "site_ids": []string{site}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: key.Secret, body: map[string]any{"legal": otherLegal()}}).expect(t, http.StatusForbidden)

	// The admin changes it: the site joins the other entity, whose series
	// and journal now hold its future invoices.
	h.do(req{method: "PATCH", path: "/v1/sites/" + site, token: admin, body: map[string]any{"legal": otherLegal()}}).expect(t, http.StatusOK)
	read(site)
	if got.Legal.SIREN != "443061841" {
		t.Fatalf("the admin's change did not apply: %+v", got)
	}
}

// TestCalendarRefusalsKeepTheirWords: the refusals calendar now decides
// are answered with the same problem documents the api wrote itself
// before, field for field.
func TestCalendarRefusalsKeepTheirWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	site := h.site(admin, "La Fabrique")
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: admin,
		body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read", "sites:write", "reservations:read"}, "site_ids": []string{site}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	var qual struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/qualifications", token: admin, body: map[string]any{"name": "Laser"}}).
		expect(t, http.StatusCreated).decode(t, &qual)
	memberID, _, _ := h.member("anne@example.fr")

	same := func(r *response, want map[string]any) {
		t.Helper()
		var got map[string]any
		r.decode(t, &got)
		delete(got, "request_id")
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("problem %v, want %v", got, want)
		}
	}
	forbidden := func(detail string) map[string]any {
		return map[string]any{"type": "urn:relais:problem:forbidden", "title": "Forbidden", "status": float64(403), "detail": detail}
	}
	same(h.do(req{method: "POST", path: "/v1/me/calendar-token", token: key.Secret}).expect(t, http.StatusForbidden),
		forbidden("an API key has no calendar of its own"))
	same(h.do(req{method: "DELETE", path: "/v1/me/calendar-token", token: key.Secret}).expect(t, http.StatusForbidden),
		forbidden("an API key has no calendar of its own"))
	same(h.do(req{method: "POST", path: "/v1/qualifications/" + qual.ID + "/grants", token: key.Secret, body: map[string]any{"user_id": memberID}}).
		expect(t, http.StatusForbidden), forbidden("a training is granted by a person, not an API key"))
	same(h.do(req{method: "GET", path: "/v1/sites/" + site + "/calendar.ics", token: key.Secret}).expect(t, http.StatusForbidden),
		forbidden("forbidden"))
	same(h.do(req{method: "GET", path: "/v1/reservations", token: key.Secret}).expect(t, http.StatusBadRequest),
		map[string]any{"type": "urn:relais:problem:invalid_parameter", "title": "Bad Request", "status": float64(400),
			"detail": "an API key lists the reservations of one of its sites: give site_id",
			"errors": []any{map[string]any{"field": "site_id", "reason": "an API key lists the reservations of one of its sites: give site_id"}}})
	same(h.do(req{method: "POST", path: "/v1/sites", token: key.Secret, body: siteBody("L'Atelier")}).expect(t, http.StatusForbidden),
		forbidden("forbidden"))
}
