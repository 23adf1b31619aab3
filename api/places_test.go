package api_test

// --- services-places --- host places and travelling kits.

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/internal/stripetest"
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
	h.do(req{method: "GET", path: "/v1/sites?kind=tiers_lieu", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != f.site || list.Items[0].Kind != "tiers_lieu" {
		t.Fatalf("tiers lieux = %+v", list.Items)
	}

	// A site's kind changes to or from host by an admin only, never with
	// resources left, and back to a site with a whole legal identity.
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/resources", token: f.admin, body: map[string]any{"kind": "desk", "name": "Bureau 9"}}).expect(t, http.StatusCreated)
	if p := h.do(req{method: "PATCH", path: "/v1/sites/" + f.site, token: f.manager, body: map[string]any{"kind": "host", "contact_name": "Mme Girard"}}).
		expect(t, http.StatusForbidden).problem(t); p.Code != "host_place_admin_only" || !p.hasField("kind") {
		t.Errorf("a manager making their site a host place: %+v", p)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/sites/" + f.site, token: f.admin, body: map[string]any{"kind": "host", "contact_name": "Mme Girard"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != "host_place_has_no_resources" {
		t.Errorf("a site with resources made a host place: %+v", p)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/sites/" + f.host, token: f.admin, body: map[string]any{"kind": "coworking"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("legal.siren") {
		t.Errorf("a host place without legal identity made a coworking: %+v", p)
	}
	var site struct{ Kind string }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site, token: f.admin}).expect(t, http.StatusOK).decode(t, &site)
	if site.Kind != "tiers_lieu" {
		t.Errorf("after the refusals the site is a %q", site.Kind)
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

// pricedAtelier has the manager create an atelier of one session on 4
// March, 14:00–16:00, at the fixture's site, with 2 seats and a cancellation
// deadline of a day.
func (f *placesFixture) pricedAtelier(t *testing.T, pricing map[string]any) atelierOut {
	t.Helper()
	body := map[string]any{"title": "Imprimer en 3D", "category_id": initiation, "seats": 2, "cancel_before_minutes": 24 * 60,
		"sessions": []map[string]string{{"start": "2026-03-04T14:00", "end": "2026-03-04T16:00"}}}
	for k, v := range pricing {
		body[k] = v
	}
	var a atelierOut
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/ateliers", token: f.manager, body: body}).expect(t, http.StatusCreated).decode(t, &a)
	return a
}

// An atelier's pricing: free; a price owed as a charge that the desk
// settles with an invoice, voided by a cancellation in time; included in
// named plans (402 plan_required without one); paid with credit spent at
// registration (402 not_enough_credit), given back by a cancellation in
// time and by a cancelled session, and taken at promotion from the
// waiting list. Bad pricing is a 422 naming the field.
func TestAtelierPricing(t *testing.T) {
	t.Parallel()
	f := newPlacesFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	_, cleo, _ := h.member("cleo@example.fr")

	var plan struct{ ID string }
	h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Makers",
		"price_cents": 3000}}).expect(t, http.StatusCreated).decode(t, &plan)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"pricing": "gratis"}, "pricing"},
		{map[string]any{"pricing": "price"}, "price_cents"},
		{map[string]any{"pricing": "free", "price_cents": 500}, "price_cents"},
		{map[string]any{"pricing": "included"}, "plan_ids"},
		{map[string]any{"pricing": "included", "plan_ids": []string{f.site}}, "plan_ids[0]"},
		{map[string]any{"pricing": "credits"}, "credit_cents"},
		{map[string]any{"pricing": "credits", "credit_cents": 300, "plan_ids": []string{plan.ID}}, "plan_ids"},
		{map[string]any{"pricing": "credits", "credit_cents": -1}, "credit_cents"},
	} {
		body := map[string]any{"title": "X", "category_id": initiation, "seats": 2,
			"sessions": []map[string]string{{"start": "2026-03-04T14:00", "end": "2026-03-04T16:00"}}}
		for k, v := range c.body {
			body[k] = v
		}
		p := h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/ateliers", token: f.manager, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(c.field) {
			t.Errorf("%v: problem %+v does not name %s", c.body, p, c.field)
		}
	}
	// A host place issues no invoices.
	p := h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/ateliers", token: f.manager, body: map[string]any{"title": "X", "category_id": initiation,
		"seats": 2, "pricing": "price", "price_cents": 500, "sessions": []map[string]string{{"start": "2026-03-04T14:00", "end": "2026-03-04T16:00"}}}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("pricing") {
		t.Errorf("price at a host place: %+v", p)
	}
	// Nor has it members: an atelier for them would take nobody.
	p = h.do(req{method: "POST", path: "/v1/sites/" + f.host + "/ateliers", token: f.manager, body: map[string]any{"title": "X", "category_id": initiation,
		"seats": 2, "audience": "members", "sessions": []map[string]string{{"start": "2026-03-04T14:00", "end": "2026-03-04T16:00"}}}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("audience") {
		t.Errorf("members at a host place: %+v", p)
	}

	owed := func(token string) (n int, cents int64) {
		var out struct {
			Items []struct {
				AmountCents    int64   `json:"amount_cents"`
				RegistrationID *string `json:"registration_id"`
			}
		}
		h.do(req{method: "GET", path: "/v1/me/charges", token: token}).expect(t, http.StatusOK).decode(t, &out)
		for _, c := range out.Items {
			if c.RegistrationID == nil {
				t.Fatalf("a charge without its registration: %+v", out.Items)
			}
			cents += c.AmountCents
		}
		return len(out.Items), cents
	}

	// A price: a charge per confirmed seat, settled at the desk with an invoice.
	paid := f.pricedAtelier(t, map[string]any{"price_cents": 1500})
	var got struct {
		Pricing string
	}
	h.do(req{method: "GET", path: "/v1/ateliers/" + paid.ID, token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.Pricing != "price" {
		t.Fatalf("pricing = %q", got.Pricing)
	}
	f.register(t, anne, paid.ID, map[string]any{}, http.StatusCreated)
	if n, cents := owed(anne); n != 1 || cents != 1500 {
		t.Fatalf("anne owes %d charges, %d cents", n, cents)
	}
	var pay struct {
		AmountCents int64   `json:"amount_cents"`
		InvoiceID   *string `json:"invoice_id"`
	}
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/charges/settle", token: f.manager,
		body: map[string]any{"user_id": anneID, "method": "cash", "buyer": buyerBody}}).expect(t, http.StatusCreated).decode(t, &pay)
	if pay.AmountCents != 1500 || pay.InvoiceID == nil {
		t.Fatalf("settlement = %+v", pay)
	}
	var inv struct {
		ServiceFrom string `json:"service_from"`
		Lines       []struct{ Description string }
	}
	h.do(req{method: "GET", path: "/v1/invoices/" + *pay.InvoiceID, token: f.manager}).expect(t, http.StatusOK).decode(t, &inv)
	if len(inv.Lines) != 1 || inv.ServiceFrom != "2026-03-04" || !strings.Contains(inv.Lines[0].Description, "Imprimer en 3D") ||
		!strings.Contains(inv.Lines[0].Description, "4 mars 2026") {
		t.Fatalf("invoice = %+v, want the session's line and date", inv)
	}
	// Bob registers, then cancels in time: nothing owed.
	regs := f.register(t, bob, paid.ID, map[string]any{}, http.StatusCreated)
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + regs.Items[0].ID, token: bob}).expect(t, http.StatusOK)
	if n, _ := owed(bob); n != 0 {
		t.Fatalf("bob owes %d charges after cancelling in time", n)
	}

	// Included in the Makers plan.
	incl := f.pricedAtelier(t, map[string]any{"pricing": "included", "plan_ids": []string{plan.ID}})
	if p := f.h.do(req{method: "POST", path: "/v1/ateliers/" + incl.ID + "/registrations", token: bob, body: map[string]any{}}).
		expect(t, http.StatusPaymentRequired).problem(t); p.Code != "plan_required" {
		t.Fatalf("bob without the plan: %+v", p)
	}
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": bobID, "plan_id": plan.ID, "method": "cash", "amount_cents": 3000, "buyer": buyerBody}}).expect(t, http.StatusCreated)
	f.register(t, bob, incl.ID, map[string]any{}, http.StatusCreated)
	if n, _ := owed(bob); n != 0 {
		t.Fatalf("bob owes %d charges for an included atelier", n)
	}

	// Paid with credit: 400 cents a seat, 2 seats.
	cred := f.pricedAtelier(t, map[string]any{"pricing": "credits", "credit_cents": 400})
	if p := f.h.do(req{method: "POST", path: "/v1/ateliers/" + cred.ID + "/registrations", token: anne, body: map[string]any{}}).
		expect(t, http.StatusPaymentRequired).problem(t); p.Code != "not_enough_credit" {
		t.Fatalf("anne without credit: %+v", p)
	}
	grant := func(userID string, cents int) {
		h.do(req{method: "POST", path: "/v1/users/" + userID + "/credits", token: f.manager,
			body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": cents, "reason": "bénévolat"}}).expect(t, http.StatusCreated)
	}
	balance := func(token string) int64 {
		c, _ := f.credits(t, token).total("cents")
		return c
	}
	grant(anneID, 1000)
	grant(bobID, 500)
	anneReg := f.register(t, anne, cred.ID, map[string]any{}, http.StatusCreated).Items[0]
	if b := balance(anne); b != 600 {
		t.Fatalf("anne's credit after registering = %d, want 600", b)
	}
	f.register(t, bob, cred.ID, map[string]any{}, http.StatusCreated)
	// Full: Cleo waits without credit, then Anne's cancellation in time
	// gives Anne her credit back and passes Cleo over (nothing to pay with).
	cleoReg := f.register(t, cleo, cred.ID, map[string]any{}, http.StatusCreated).Items[0]
	if cleoReg.Status != "waitlisted" {
		t.Fatalf("cleo = %+v", cleoReg)
	}
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + anneReg.ID, token: anne}).expect(t, http.StatusOK)
	if b := balance(anne); b != 1000 {
		t.Fatalf("anne's credit after cancelling = %d, want 1000", b)
	}
	var list registrationsOut
	h.do(req{method: "GET", path: "/v1/ateliers/" + cred.ID + "/registrations", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	for _, r := range list.Items {
		if r.ID == cleoReg.ID && r.Status != "waitlisted" {
			t.Fatalf("cleo promoted without credit: %+v", r)
		}
	}
	// Anne comes back; a session cancelled gives every seat's credit back.
	f.register(t, anne, cred.ID, map[string]any{}, http.StatusCreated)
	if b := balance(anne); b != 600 {
		t.Fatalf("anne's credit after registering again = %d", b)
	}
	h.do(req{method: "POST", path: "/v1/ateliers/" + cred.ID + "/sessions/" + cred.Sessions[0].ID + "/cancel", token: f.manager,
		body: map[string]any{"reason": "imprimante en panne"}}).expect(t, http.StatusOK)
	if a, b := balance(anne), balance(bob); a != 1000 || b != 500 {
		t.Fatalf("after the session's cancellation anne = %d, bob = %d", a, b)
	}
	// Past the deadline the seat stays paid, even when the desk cancels it.
	late := f.pricedAtelier(t, map[string]any{"pricing": "credits", "credit_cents": 400})
	bobReg := f.register(t, bob, late.ID, map[string]any{}, http.StatusCreated).Items[0]
	h.clock.Advance(48 * time.Hour)
	f.manager, _ = h.login("manon@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + bobReg.ID, token: bob}).expect(t, http.StatusConflict)
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + bobReg.ID, token: f.manager}).expect(t, http.StatusOK)
	if b := balance(bob); b != 100 {
		t.Fatalf("bob's credit after a late cancellation = %d, want 100", b)
	}
}

// A paid atelier's seat is a charge the member may also pay online, with
// Stripe Checkout, when the site takes online payments: the invoice then
// comes from the webhook, as for any charge.
func TestPaidAtelierOnline(t *testing.T) {
	t.Parallel()
	f := newPlacesFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	a := f.pricedAtelier(t, map[string]any{"price_cents": 1800})
	f.register(t, anne, a.ID, map[string]any{}, http.StatusCreated)
	h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: stripetest.Start(t)})
	var out struct {
		SessionID   string `json:"session_id"`
		PaymentID   string `json:"payment_id"`
		AmountCents int64  `json:"amount_cents"`
		Charges     int    `json:"charges"`
	}
	h.do(req{method: "POST", path: "/v1/me/charges/checkout", token: anne, body: map[string]any{"site_id": f.site, "buyer": buyerBody,
		"success_url": "https://app.example.fr/ok", "cancel_url": "https://app.example.fr/annule"}}).expect(t, http.StatusCreated).decode(t, &out)
	if out.AmountCents != 1800 || out.Charges != 1 {
		t.Fatalf("checkout = %+v", out)
	}
	sendEvent(t, h, "evt_atelier_1", "checkout.session.completed", time.Now(), map[string]any{"id": out.SessionID, "object": "checkout.session",
		"client_reference_id": out.PaymentID, "payment_status": "paid", "status": "complete", "customer": "cus_test", "mode": "payment",
		"payment_intent": "pi_atelier", "metadata": map[string]string{"payment_id": out.PaymentID, "purpose": "usage"}})
	var invs struct {
		Items []struct {
			TotalTTCCents int64 `json:"total_ttc_cents"`
		}
	}
	h.do(req{method: "GET", path: "/v1/me/invoices", token: anne}).expect(t, http.StatusOK).decode(t, &invs)
	if len(invs.Items) != 1 || invs.Items[0].TotalTTCCents != 1800 {
		t.Fatalf("invoices = %+v, want the atelier's 18 €", invs.Items)
	}
}
