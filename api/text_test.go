package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
)

// connectLock starts the test broker and a simulated lock for d, and
// waits until relais sees it online.
func (f *calendarFixture) connectLock(t *testing.T, d deviceOut) *devicesim.Sim {
	t.Helper()
	ctx := context.Background()
	env := mqtttest.Start(t, f.h.dev)
	dev, err := f.h.dev.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := devicesim.ForDevice(dev, *d.Secret, env.DeviceURL)
	cfg.Logger = mqtttest.Quiet()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	deadline := time.Now().Add(15 * time.Second)
	for on, known := f.h.dev.Online(dev); !known || !on; on, known = f.h.dev.Online(dev) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never came online", d.Name)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sim
}

// TestUnlockRefusesBadReason: a manager's reason to open a door that holds
// a control character (PostgreSQL cannot store a NUL: the door used to open
// and the audit to fail with a 500), a direction override or too many
// characters is a 422 naming reason; nothing is sent to the lock and
// nothing is recorded. A good reason then opens the door, once.
func TestUnlockRefusesBadReason(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10) // unique topics on a shared broker
	lock := f.device(t, map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree-" + suffix})
	sim := f.connectLock(t, lock)
	path := "/v1/doors/" + lock.ID + "/unlock"

	for _, tt := range []struct{ name, body string }{
		{"NUL", `{"reason":"\u0000"}`},
		{"NUL inside", `{"reason":"livraison\u0000 du matin"}`},
		{"C1 control", `{"reason":"livraison\u0085"}`},
		{"DEL", `{"reason":"\u007f"}`},
		{"escape sequence", `{"reason":"\u001b[2J"}`},
		{"line feed", `{"reason":"livraison\nmatin"}`},
		{"right-to-left override", `{"reason":"livraison \u202eelliv"}`},
		{"line separator", `{"reason":"a\u2028b"}`},
		{"over 500 characters", `{"reason":"` + strings.Repeat("é", 501) + `"}`},
		{"over the default bound", `{"reason":"` + strings.Repeat("x", 2001) + `"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := h.do(req{method: "POST", path: path, token: f.manager, body: tt.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
			if !p.hasField("reason") || len(p.Errors) != 1 {
				t.Fatalf("problem %+v does not name reason alone", p)
			}
		})
	}

	var out struct {
		Confirmed bool
		EventID   string `json:"event_id"`
		CommandID string `json:"command_id"`
	}
	h.do(req{method: "POST", path: path, token: f.manager, body: `{"reason":"livraison du matin — « Colissimo »"}`}).
		expect(t, http.StatusOK).decode(t, &out)
	// The simulator records a command after answering it; MQTT keeps order,
	// so had a refused request sent anything, it would come first.
	deadline := time.Now().Add(15 * time.Second)
	for len(sim.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := sim.Received(); len(got) != 1 || !strings.Contains(got[0].Payload, out.CommandID) || !out.Confirmed {
		t.Fatalf("the lock received %+v; want only the good unlock %+v", got, out)
	}
	var evs struct {
		Items []struct {
			ID, Kind, Detail, Outcome string
		}
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events", token: f.manager}).expect(t, http.StatusOK).decode(t, &evs)
	var doors []string
	for _, e := range evs.Items {
		if e.Kind == "door_unlock" {
			doors = append(doors, e.ID+" "+e.Outcome+" "+e.Detail)
		}
	}
	if len(doors) != 1 || doors[0] != out.EventID+" confirmed livraison du matin — « Colissimo »" {
		t.Fatalf("door events %q; want only the good unlock", doors)
	}
}

// TestFreeTextRefusedEverywhere: a few routes that store free text, a bad
// string at any depth of the body is a 422 naming it by its path, and
// nothing changes; multi-line fields take line breaks; query parameters
// and path values holding such bytes are refused before any handler
// reads them (on PostgreSQL they used to reach the database: a 500).
func TestFreeTextRefusedEverywhere(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	plan := struct{ ID string }{}
	h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass",
		"name": "Journée", "price_cents": 2500}}).expect(t, http.StatusCreated).decode(t, &plan)

	badBuyer := map[string]any{"address": map[string]string{"line1": "3 rue des Lilas\u0085", "postal_code": "23000", "city": "Guéret", "country": "FR"}}
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		field                     string
	}{
		{"a site's name", "PATCH", "/v1/sites/" + f.site, f.admin, map[string]any{"name": "La Fabrique\u0000"}, "name"},
		{"a resource's name", "POST", "/v1/sites/" + f.site + "/resources", f.manager, map[string]any{"kind": "desk", "name": "Desk \u202e2"}, "name"},
		{"a reservation's note", "POST", "/v1/reservations", anne, map[string]any{"resource_id": f.desk,
			"start": f.at(3, 9, 0), "end": f.at(3, 10, 0), "note": "au calme\u0000"}, "note"},
		{"a buyer's address", "POST", "/v1/sites/" + f.site + "/payments", f.manager, map[string]any{"user_id": anneID, "plan_id": plan.ID,
			"date": "2026-03-03", "method": "cash", "amount_cents": 2500, "buyer": badBuyer}, "buyer.address.line1"},
		{"a closure's reason", "POST", "/v1/sites/" + f.site + "/closures", f.manager, map[string]any{"starts_at": f.at(4, 0, 0),
			"ends_at": f.at(5, 0, 0), "reason": "travaux\u007f"}, "reason"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := h.do(req{method: tt.method, path: tt.path, token: tt.token, body: tt.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
			if !p.hasField(tt.field) {
				t.Fatalf("problem %+v does not name %s", p, tt.field)
			}
		})
	}

	// Nothing changed.
	var site struct{ Name string }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site, token: f.admin}).expect(t, http.StatusOK).decode(t, &site)
	var list struct{ Items []map[string]any }
	counts := map[string]int{}
	for what, path := range map[string]string{
		"resources":    "/v1/sites/" + f.site + "/resources",
		"reservations": "/v1/reservations",
		"payments":     "/v1/me/payments",
		"closures":     "/v1/sites/" + f.site + "/closures",
	} {
		token := f.manager
		if what == "reservations" || what == "payments" {
			token = anne
		}
		list.Items = nil
		h.do(req{method: "GET", path: path, token: token}).expect(t, http.StatusOK).decode(t, &list)
		counts[what] = len(list.Items)
	}
	if site.Name != "La Fabrique" || counts["resources"] != 4 || counts["reservations"] != 0 || counts["payments"] != 0 || counts["closures"] != 0 {
		t.Fatalf("after the refusals: site %q, %v", site.Name, counts)
	}

	// A note is multi-line: line feeds, CR LF and tabs are kept.
	var rv struct {
		ID   string
		Note string
	}
	note := "Ligne 1\nLigne 2\r\n\tfin"
	h.do(req{method: "POST", path: "/v1/reservations", token: anne, body: map[string]any{"resource_id": f.desk,
		"start": f.at(3, 9, 0), "end": f.at(3, 10, 0), "note": note}}).expect(t, http.StatusCreated).decode(t, &rv)
	if rv.Note != note {
		t.Fatalf("note read back %q, want %q", rv.Note, note)
	}

	// Query parameters: a 400 naming the parameter, and nothing done.
	for _, tt := range []struct{ path, param string }{
		{"/v1/sites/" + f.site + "/access-events?member=%00", "member"},
		{"/v1/sites/" + f.site + "/access-events?device=%C3%28", "device"}, // not UTF-8
		{"/v1/reservations?user_id=%1B", "user_id"},
		{"/v1/users?email=a%00%40b.fr", "email"},
		{"/v1/reservations/" + rv.ID + "?reason=%E2%80%AE", "reason"},
	} {
		method := "GET"
		if strings.Contains(tt.path, "reason=") {
			method = "DELETE"
		}
		p := h.do(req{method: method, path: tt.path, token: f.manager}).expect(t, http.StatusBadRequest).problem(t)
		if !p.hasField(tt.param) {
			t.Fatalf("%s %s: problem %+v does not name %s", method, tt.path, p, tt.param)
		}
	}
	var still struct{ Status string }
	h.do(req{method: "GET", path: "/v1/reservations/" + rv.ID, token: anne}).expect(t, http.StatusOK).decode(t, &still)
	if still.Status != "confirmed" {
		t.Fatalf("a refused cancellation cancelled: %+v", still)
	}

	// Path values: nothing is named so.
	for _, path := range []string{"/v1/reservations/%00", "/v1/reservations/%C3%28", "/v1/resources/a%0Ab", "/v1/calendar/%00.ics"} {
		token := anne
		if strings.HasPrefix(path, "/v1/calendar/") {
			token = ""
		}
		h.do(req{method: "GET", path: path, token: token}).expect(t, http.StatusNotFound).problem(t)
	}

	// Headers that are stored: an Idempotency-Key that is not text is a 400;
	// a User-Agent that is not UTF-8 is kept cleaned, and the login works.
	p := h.do(req{method: "POST", path: "/v1/reservations", token: anne, headers: map[string]string{"Idempotency-Key": "clé-\xff"},
		body: map[string]any{"resource_id": f.desk, "start": f.at(3, 11, 0), "end": f.at(3, 12, 0)}}).expect(t, http.StatusBadRequest).problem(t)
	if !p.hasField("Idempotency-Key") {
		t.Fatalf("problem %+v does not name Idempotency-Key", p)
	}
	h.do(req{method: "POST", path: "/v1/auth/login", headers: map[string]string{"User-Agent": "navigateur \xff\xfe"},
		body: map[string]string{"email": "anne@example.fr", "password": password}}).expect(t, http.StatusOK)
	var agents []string
	if err := h.db.NewSelect().Table("sessions").Column("user_agent").Where("user_id = ?", anneID).Scan(context.Background(), &agents); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(agents, "|"), "navigateur \uFFFD") {
		t.Fatalf("sessions' user agents %q", agents)
	}
}
