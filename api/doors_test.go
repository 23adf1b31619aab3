package api_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
)

type deviceOut struct {
	ID, SiteID, Kind, Name, Protocol, Address, Username string
	ResourceID                                          *string `json:"resource_id"`
	Online                                              bool
	Secret                                              *string
}

func (f *calendarFixture) device(t testing.TB, body map[string]any) deviceOut {
	t.Helper()
	var d deviceOut
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: f.manager, body: body}).expect(t, http.StatusCreated).decode(t, &d)
	return d
}

// membership sells userID a plan on site, paid in cash.
func (f *calendarFixture) membership(t testing.TB, userID string, includes map[string]any) {
	t.Helper()
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership",
		"name": "Plan " + userID[:8], "price_cents": 30000, "includes": includes}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": userID, "plan_id": plan.ID, "method": "cash", "amount_cents": 30000, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)
}

func TestDevicesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")

	// A member cannot register a device; bad input names its fields.
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: anne,
		body: map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree"}}).expect(t, http.StatusForbidden)
	p := h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: f.manager,
		body: map[string]any{"kind": "toaster", "name": "", "protocol": "zwave", "address": "a/b"}}).expect(t, http.StatusUnprocessableEntity).problem(t)
	for _, field := range []string{"kind", "protocol", "address"} {
		if !p.hasField(field) {
			t.Fatalf("problem %+v does not name %s", p, field)
		}
	}

	// The manager registers the entrance lock: its secret is shown once,
	// and a replay of the same request does not show it again.
	body := map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree"}
	first := h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: f.manager, body: body, headers: map[string]string{"Idempotency-Key": "dev-1"}}).expect(t, http.StatusCreated)
	var lock deviceOut
	first.decode(t, &lock)
	if lock.Secret == nil || len(*lock.Secret) < 32 || lock.Username == "" || lock.Protocol != "relais" {
		t.Fatalf("created device = %+v", lock)
	}
	var replay deviceOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: f.manager, body: body, headers: map[string]string{"Idempotency-Key": "dev-1"}}).
		expect(t, http.StatusCreated).decode(t, &replay)
	if replay.ID != lock.ID || replay.Secret != nil {
		t.Fatalf("replay = %+v, want the same device without its secret", replay)
	}
	if strings.Contains(string(first.Body), "secret_hash") {
		t.Fatal("the answer leaks the secret's hash")
	}

	// Members see the door (to open it from the app), not its MQTT identity.
	var list struct{ Items []deviceOut }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/devices", token: anne}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != lock.ID || list.Items[0].Username != "" || list.Items[0].Address != "" {
		t.Fatalf("member's list = %+v", list)
	}
	var got deviceOut
	h.do(req{method: "GET", path: "/v1/devices/" + lock.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &got)
	if got.Address != "entree" || got.Online {
		t.Fatalf("manager's view = %+v", got)
	}

	// Edit, rotate the secret, retire.
	h.do(req{method: "PATCH", path: "/v1/devices/" + lock.ID, token: anne, body: map[string]any{"name": "X"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "PATCH", path: "/v1/devices/" + lock.ID, token: f.manager, body: map[string]any{"name": "Porte principale"}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "Porte principale" {
		t.Fatalf("patched = %+v", got)
	}
	var rotated deviceOut
	h.do(req{method: "POST", path: "/v1/devices/" + lock.ID + "/secret", token: f.manager}).expect(t, http.StatusOK).decode(t, &rotated)
	if rotated.Secret == nil || *rotated.Secret == *lock.Secret {
		t.Fatalf("rotated = %+v", rotated)
	}
	h.do(req{method: "DELETE", path: "/v1/devices/" + lock.ID, token: f.manager}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/devices", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("a retired device is still listed: %+v", list)
	}
	h.do(req{method: "GET", path: "/v1/devices/nope", token: f.manager}).expect(t, http.StatusNotFound)
}

func TestDoorsOverHTTPWithoutABroker(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	f.membership(t, anneID, map[string]any{"door_access": "24_7", "resource_kinds": []string{"room"}})
	entrance := f.device(t, map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree"})
	roomLock := f.device(t, map[string]any{"kind": "lock", "name": "Salle", "protocol": "shelly", "address": "shelly-salle", "resource_id": f.room})

	h.clock.t = time.Date(2026, 3, 3, 21, 0, 0, 0, f.paris).UTC()
	// Tokens of the day before have expired.
	anne, _ = h.login("anne@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	f.manager, _ = h.login("manon@example.fr", password)
	// Bob has no membership: 403 naming why.
	p := h.do(req{method: "POST", path: "/v1/doors/" + entrance.ID + "/unlock", token: bob}).expect(t, http.StatusForbidden).problem(t)
	if p.Code != "no_membership" {
		t.Fatalf("problem = %+v", p)
	}
	// Anne may enter, but no broker runs: 503, nothing sent.
	p = h.do(req{method: "POST", path: "/v1/doors/" + entrance.ID + "/unlock", token: anne}).expect(t, http.StatusServiceUnavailable).problem(t)
	if p.Code != "device_offline" {
		t.Fatalf("problem = %+v", p)
	}
	// The room's lock needs a reservation of the room.
	p = h.do(req{method: "POST", path: "/v1/doors/" + roomLock.ID + "/unlock", token: anne}).expect(t, http.StatusForbidden).problem(t)
	if p.Code != "no_reservation" {
		t.Fatalf("problem = %+v", p)
	}
	h.do(req{method: "POST", path: "/v1/doors/" + entrance.ID + "/unlock", token: anne, body: map[string]any{"reason": strings.Repeat("x", 501)}}).
		expect(t, http.StatusUnprocessableEntity)

	// The manager reads the audit: three decisions, newest first; filters
	// by member and device; and a CSV export.
	type eventOut struct {
		Kind, Decision, Reason, Outcome string
		UserID                          *string `json:"user_id"`
		DeviceID                        *string `json:"device_id"`
	}
	var evs struct {
		Items      []eventOut
		NextCursor string `json:"next_cursor"`
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events", token: f.manager}).expect(t, http.StatusOK).decode(t, &evs)
	if len(evs.Items) != 3 || evs.Items[0].Reason != "no_reservation" || evs.Items[1].Outcome != "offline" || evs.Items[2].Reason != "no_membership" {
		t.Fatalf("events = %+v", evs)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events?member=" + anneID + "&device=" + entrance.ID + "&limit=1", token: f.manager}).
		expect(t, http.StatusOK).decode(t, &evs)
	if len(evs.Items) != 1 || evs.Items[0].Decision != "granted" || evs.NextCursor != "" {
		t.Fatalf("filtered events = %+v", evs)
	}
	r := h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events.csv?from=2026-03-01T00:00:00Z", token: f.manager}).expect(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if err != nil || len(rows) != 4 || rows[1][3] != "no_membership" || len(rows[0]) != 15 {
		t.Fatalf("CSV = %v, %v", rows, err)
	}

	// Members see their own decisions only, never the site's.
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events", token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/me/access-events", token: bob}).expect(t, http.StatusOK).decode(t, &evs)
	if len(evs.Items) != 1 || evs.Items[0].Reason != "no_membership" {
		t.Fatalf("bob's events = %+v", evs)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events?from=yesterday", token: f.manager}).expect(t, http.StatusBadRequest)
}

// TestDoorsAndMachinesWithDevicesOverHTTP: the whole path, HTTP → decision
// → MQTT → simulated device → confirmation → HTTP, on the test broker.
func TestDoorsAndMachinesWithDevicesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	ctx := context.Background()
	anneID, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	f.membership(t, anneID, map[string]any{"door_access": "24_7", "resource_kinds": []string{"machine"}})
	h.do(req{method: "POST", path: "/v1/qualifications/" + f.qual + "/grants", token: f.manager, body: map[string]any{"user_id": anneID}}).expect(t, http.StatusCreated)
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 10) // unique topics on a shared broker
	entrance := f.device(t, map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree-" + suffix})
	relay := f.device(t, map[string]any{"kind": "relay", "name": "Prise laser", "protocol": "tasmota", "address": "laser-" + suffix, "channel": 1, "resource_id": f.las})

	env := mqtttest.Start(t, h.dev)
	sims := map[string]*devicesim.Sim{}
	for _, d := range []deviceOut{entrance, relay} {
		dev, err := h.dev.Get(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		cfg := devicesim.ForDevice(dev, *d.Secret, env.DeviceURL)
		cfg.Logger = mqtttest.Quiet()
		s, err := devicesim.Start(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		sims[d.ID] = s
		deadline := time.Now().Add(15 * time.Second)
		for on, known := h.dev.Online(dev); !known || !on; on, known = h.dev.Online(dev) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never came online", d.Name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	f.book(anne, f.las, f.at(3, 10, 0), f.at(3, 11, 0)).expect(t, http.StatusCreated)
	// Sessions schedule their power-off as durable jobs, through the
	// harness's queue.

	h.clock.t = time.Date(2026, 3, 3, 10, 10, 0, 0, f.paris).UTC()
	anne, _ = h.login("anne@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)

	// The member's list offers the entrance once its lock is heard online
	// (the presence is written just after it is heard).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d := f.myDoors(t, anne)["Entrée"]
		if d.MayOpen && d.Online && d.Reason == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the entrance never offered: %+v", d)
		}
	}
	var out struct {
		Granted, Confirmed bool
		EventID            string `json:"event_id"`
	}
	h.do(req{method: "POST", path: "/v1/doors/" + entrance.ID + "/unlock", token: anne}).expect(t, http.StatusOK).decode(t, &out)
	if !out.Granted || !out.Confirmed || out.EventID == "" || !sims[entrance.ID].State().On {
		t.Fatalf("unlock = %+v, lock %+v", out, sims[entrance.ID].State())
	}
	// The member hears the door opened at once; the lock's answer reaches
	// the decision's record just after.
	manager, _ := h.login("manon@example.fr", password)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var evs struct {
			Items []struct{ ID, Outcome string }
		}
		h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events?device=" + entrance.ID + "&limit=1", token: manager}).
			expect(t, http.StatusOK).decode(t, &evs)
		if len(evs.Items) == 1 && evs.Items[0].ID == out.EventID && evs.Items[0].Outcome == "confirmed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the unlock's record never read confirmed: %+v", evs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	sims[entrance.ID].SetMode(devicesim.Silent, 0)
	if p := h.do(req{method: "POST", path: "/v1/doors/" + entrance.ID + "/unlock", token: anne}).expect(t, http.StatusGatewayTimeout).problem(t); p.Code != "device_timeout" {
		t.Fatalf("silent lock: %+v", p)
	}

	// The laser: Bob has no reservation; Anne starts, reads and stops it.
	if p := h.do(req{method: "POST", path: "/v1/machines/" + f.las + "/session", token: bob}).expect(t, http.StatusForbidden).problem(t); p.Code != "no_reservation" {
		t.Fatalf("bob's start: %+v", p)
	}
	var sess struct {
		ID        string
		UserID    string     `json:"user_id"`
		StoppedAt *time.Time `json:"stopped_at"`
	}
	h.do(req{method: "POST", path: "/v1/machines/" + f.las + "/session", token: anne}).expect(t, http.StatusCreated).decode(t, &sess)
	if !sims[relay.ID].State().On || sess.UserID != anneID {
		t.Fatalf("session %+v, relay %+v", sess, sims[relay.ID].State())
	}
	h.do(req{method: "GET", path: "/v1/machines/" + f.las + "/session", token: bob}).expect(t, http.StatusOK).decode(t, &sess)
	if sess.UserID != "" {
		t.Fatalf("bob sees who holds the machine: %+v", sess)
	}
	// The site's running sessions, in one call, for its managers only.
	var running struct {
		Items []struct {
			ID         string
			ResourceID string `json:"resource_id"`
			UserID     string `json:"user_id"`
		}
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/machine-sessions", token: manager}).expect(t, http.StatusOK).decode(t, &running)
	if len(running.Items) != 1 || running.Items[0].ID != sess.ID || running.Items[0].ResourceID != f.las || running.Items[0].UserID != anneID {
		t.Fatalf("the site's running sessions %+v, want Anne's on the laser", running.Items)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/machine-sessions", token: bob}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: "/v1/machines/" + f.las + "/session", token: bob}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: "/v1/machines/" + f.las + "/session", token: anne}).expect(t, http.StatusOK).decode(t, &sess)
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/machine-sessions", token: manager}).expect(t, http.StatusOK).decode(t, &running)
	if len(running.Items) != 0 {
		t.Fatalf("a stopped session is still running: %+v", running.Items)
	}
	if sess.StoppedAt == nil || sims[relay.ID].State().On {
		t.Fatalf("stopped session %+v, relay %+v", sess, sims[relay.ID].State())
	}
	h.do(req{method: "GET", path: "/v1/machines/" + f.las + "/session", token: anne}).expect(t, http.StatusNotFound)
}
