package api_test

// --- services-places --- host places and travelling kits.

import (
	"net/http"
	"sync"
	"testing"
)

// hostPlaceBody is an EHPAD: an address, a person to call, no legal
// identity.
func hostPlaceBody() map[string]any {
	return map[string]any{"name": "EHPAD Les Tilleuls", "kind": "host", "timezone": "Europe/Paris",
		"address":      map[string]any{"line1": "5 rue des Tilleuls", "postal_code": "23200", "city": "Aubusson", "country": "FR"},
		"contact_name": "Mme Girard (animatrice)", "contact_phone": "05 55 00 11 22"}
}

// placesFixture: the calendar fixture's site with a tablet kit, a host
// place that manon (the site's manager) also manages, and hugo, who
// manages the host place only.
type placesFixture struct {
	*calendarFixture
	host, kit string
	hugo      string
}

func newPlacesFixture(t *testing.T) *placesFixture {
	t.Helper()
	f := &placesFixture{calendarFixture: newCalendarFixture(t)}
	h := f.h
	var s struct{ ID, Kind string }
	h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: hostPlaceBody()}).expect(t, http.StatusCreated).decode(t, &s)
	if s.Kind != "host" {
		t.Fatalf("host place kind = %q", s.Kind)
	}
	f.host = s.ID
	f.kit = f.resource(t, map[string]any{"kind": "kit", "name": "Valise de 8 tablettes"})
	hugoID, _, _ := h.member("hugo@example.fr")
	managerID := h.userID(t, f.manager)
	for _, uid := range []string{hugoID, managerID} {
		h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/managers", token: f.admin, body: map[string]string{"user_id": uid}}).expect(t, http.StatusCreated)
	}
	f.manager, _ = h.login("manon@example.fr", password)
	f.hugo, _ = h.login("hugo@example.fr", password)
	return f
}

func (h *harness) userID(t testing.TB, token string) string {
	t.Helper()
	var me struct{ ID string }
	h.do(req{method: "GET", path: "/v1/me", token: token}).expect(t, http.StatusOK).decode(t, &me)
	return me.ID
}

func (f *placesFixture) hostAtelier(token string, resources []string, start, end string) *response {
	return f.h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/ateliers", token: token, body: map[string]any{
		"title": "Tablettes aux Tilleuls", "category_id": initiation, "seats": 8, "resource_ids": resources,
		"sessions": []map[string]string{{"start": start, "end": end}}}})
}

// A host place is created by an admin with its contact and no legal
// identity, listed with ?kind=host, and holds no resource of its own; a
// kit lives at a space and is not bookable by members by default.
func TestHostPlaces(t *testing.T) {
	t.Parallel()
	f := newPlacesFixture(t)
	h := f.h

	for _, c := range []struct {
		name  string
		patch map[string]any
		field string
	}{
		{"no contact", map[string]any{"contact_name": ""}, "contact_name"},
		{"bad phone", map[string]any{"contact_phone": "appelez-moi"}, "contact_phone"},
		{"unknown kind", map[string]any{"kind": "castle"}, "kind"},
		{"no address", map[string]any{"address": map[string]any{"country": "FR"}}, "address.line1"},
	} {
		body := hostPlaceBody()
		for k, v := range c.patch {
			body[k] = v
		}
		p := h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(c.field) {
			t.Errorf("%s: problem %+v does not name %s", c.name, p, c.field)
		}
	}
	// A space still needs its legal identity.
	space := hostPlaceBody()
	delete(space, "kind")
	if p := h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: space}).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("legal.siren") {
		t.Errorf("a space without legal identity: %+v", p)
	}
	// Only admins open one.
	h.do(req{method: "POST", path: "/v1/sites", token: f.manager, body: hostPlaceBody()}).expect(t, http.StatusForbidden)

	var list struct {
		Items []struct {
			ID, Kind    string
			ContactName *string `json:"contact_name"`
		}
	}
	h.do(req{method: "GET", path: "/v1/sites?kind=host", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != f.host || list.Items[0].ContactName == nil {
		t.Fatalf("host places = %+v", list.Items)
	}
	h.do(req{method: "GET", path: "/v1/sites?kind=space", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != f.site || list.Items[0].Kind != "space" {
		t.Fatalf("spaces = %+v", list.Items)
	}
	if p := h.do(req{method: "GET", path: "/v1/sites?kind=castle", token: f.manager}).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("kind") {
		t.Errorf("kind=castle: %+v", p)
	}

	// Nothing bookable at a host place, not even a kit; no device either.
	for _, kind := range []string{"desk", "room", "machine", "kit"} {
		p := h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/resources", token: f.admin, body: map[string]any{"kind": kind, "name": "X", "capacity": 1}}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if p.Code != "host_place_has_no_resources" || !p.hasField("kind") {
			t.Errorf("%s at a host place: %+v", kind, p)
		}
	}
	h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/devices", token: f.admin, body: map[string]any{"kind": "lock", "name": "Porte", "protocol": "relais"}}).
		expect(t, http.StatusUnprocessableEntity)

	// The kit: a resource of its home site, lent by the team.
	var kit struct {
		Kind           string
		MemberBookable bool `json:"member_bookable"`
	}
	h.do(req{method: "GET", path: "/v1/resources/" + f.kit, token: f.manager}).expect(t, http.StatusOK).decode(t, &kit)
	if kit.Kind != "kit" || kit.MemberBookable {
		t.Fatalf("kit = %+v", kit)
	}
	var kits struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/resources?kind=kit", token: f.manager}).expect(t, http.StatusOK).decode(t, &kits)
	if len(kits.Items) != 1 || kits.Items[0].ID != f.kit {
		t.Fatalf("kits = %+v", kits.Items)
	}
	_, bob, _ := h.member("bob@example.fr")
	h.do(req{method: "POST", path: "/v1/reservations", token: bob, body: map[string]any{"resource_id": f.kit, "start": f.at(3, 10, 0), "end": f.at(3, 11, 0)}}).
		expect(t, http.StatusForbidden)

	// The contact changes; the kind does not.
	var patched struct {
		Kind         string
		ContactPhone *string `json:"contact_phone"`
	}
	h.do(req{method: "PATCH", path: "/v1/sites/" + f.host, token: f.hugo, body: map[string]any{"contact_phone": nil}}).expect(t, http.StatusOK).decode(t, &patched)
	if patched.Kind != "host" || patched.ContactPhone != nil {
		t.Fatalf("patched = %+v", patched)
	}
	h.do(req{method: "PATCH", path: "/v1/sites/" + f.host, token: f.hugo, body: map[string]any{"contact_name": ""}}).expect(t, http.StatusUnprocessableEntity)
}

// An atelier at a host place reserves a kit of another site through the
// calendar: only a manager of the kit's home site takes it; a kit taken is
// 409 naming it, whether by another atelier, a block at home, or a partner's
// window; two ateliers racing for one kit make exactly one.
func TestKitsTravel(t *testing.T) {
	t.Parallel()
	f := newPlacesFixture(t)
	h := f.h

	// Hugo manages the host place, not the kit's home.
	p := f.hostAtelier(f.hugo, []string{f.kit}, "2026-03-04T14:00", "2026-03-04T16:00").expect(t, http.StatusForbidden).problem(t)
	if p.Code != "kit_home_managers_only" || !p.hasField("resource_ids") {
		t.Fatalf("hugo takes the kit: %+v", p)
	}
	// Nor may anyone take a site's room away: only kits travel.
	f.hostAtelier(f.manager, []string{f.room}, "2026-03-04T14:00", "2026-03-04T16:00").expect(t, http.StatusUnprocessableEntity)
	// Hugo may run an atelier there with nothing.
	f.hostAtelier(f.hugo, []string{}, "2026-03-04T14:00", "2026-03-04T16:00").expect(t, http.StatusCreated)

	// Manon takes it.
	var a struct {
		SiteID      string   `json:"site_id"`
		ResourceIDs []string `json:"resource_ids"`
	}
	f.hostAtelier(f.manager, []string{f.kit}, "2026-03-04T14:00", "2026-03-04T16:00").expect(t, http.StatusCreated).decode(t, &a)
	if a.SiteID != f.host || len(a.ResourceIDs) != 1 || a.ResourceIDs[0] != f.kit {
		t.Fatalf("atelier at the host place = %+v", a)
	}
	// Never promised twice: another atelier (at the home site), a block.
	p = f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/ateliers", token: f.manager, body: map[string]any{
		"title": "Tablettes à la Fabrique", "category_id": initiation, "seats": 8, "resource_ids": []string{f.kit},
		"sessions": []map[string]string{{"start": "2026-03-04T15:00", "end": "2026-03-04T17:00"}}}}).expect(t, http.StatusConflict).problem(t)
	if p.Code != "slot_taken" {
		t.Fatalf("second atelier: %+v", p)
	}
	h.do(req{method: "POST", path: "/v1/reservations", token: f.manager, body: map[string]any{"resource_id": f.kit, "kind": "block",
		"start": f.at(4, 15, 30), "end": f.at(4, 16, 30)}}).expect(t, http.StatusConflict)
	// Just after is free.
	f.hostAtelier(f.manager, []string{f.kit}, "2026-03-04T16:00", "2026-03-04T17:00").expect(t, http.StatusCreated)

	// A partner's window at the host place with the kit: its slots skip
	// the atelier, and an appointment holds the kit.
	var caf struct {
		ID       string
		Purposes []struct{ ID string }
	}
	h.do(req{method: "POST", path: "/v1/partners", token: f.admin, body: map[string]any{"name": "CAF de la Creuse", "kind": "caf", "video_mode": "none",
		"purposes": []map[string]any{{"name": "Prime d’activité", "documents": []string{}}}}}).expect(t, http.StatusCreated).decode(t, &caf)
	window := map[string]any{"site_id": f.host, "resource_id": f.kit, "weekday": "wed", "from": "2026-03-01", "until": "2026-03-31",
		"start": "13:00", "end": "15:00", "slot_minutes": 30}
	if p := h.do(req{method: "POST", path: "/v1/partners/" + caf.ID + "/windows", token: f.hugo, body: window}).expect(t, http.StatusForbidden).problem(t); p.Code != "kit_home_managers_only" {
		t.Fatalf("hugo's window: %+v", p)
	}
	var w struct{ ID string }
	h.do(req{method: "POST", path: "/v1/partners/" + caf.ID + "/windows", token: f.manager, body: window}).expect(t, http.StatusCreated).decode(t, &w)
	var slots struct{ Items []slotOut }
	h.do(req{method: "GET", path: "/v1/partners/" + caf.ID + "/slots?site_id=" + f.host + "&from=2026-03-04&to=2026-03-04", token: f.hugo}).
		expect(t, http.StatusOK).decode(t, &slots)
	if len(slots.Items) != 2 { // 13:00 and 13:30; from 14:00 the kit is at the atelier
		t.Fatalf("slots at the host place = %+v", slots.Items)
	}
	_, bob, _ := h.member("bob@example.fr")
	h.do(req{method: "POST", path: "/v1/appointments", token: bob, body: map[string]any{"window_id": w.ID, "purpose_id": caf.Purposes[0].ID,
		"start": slots.Items[0].Start}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/reservations", token: f.manager, body: map[string]any{"resource_id": f.kit, "kind": "block",
		"start": f.at(4, 13, 0), "end": f.at(4, 13, 30)}}).expect(t, http.StatusConflict)

	// Two ateliers for the kit at once: exactly one.
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = f.hostAtelier(f.manager, []string{f.kit}, "2026-03-05T10:00", "2026-03-05T12:00").Status
		}()
	}
	wg.Wait()
	if !(codes[0] == http.StatusCreated && codes[1] == http.StatusConflict) && !(codes[1] == http.StatusCreated && codes[0] == http.StatusConflict) {
		t.Fatalf("two ateliers for one kit: %v, want one 201 and one 409", codes)
	}
}
