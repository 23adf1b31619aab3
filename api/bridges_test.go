package api_test

import (
	"net/http"
	"strings"
	"testing"
)

type bridgeOut struct {
	ID, SiteID, Name, Protocol, Address, Username string
	Secret                                        *string
}

// TestBridgesOverHTTP: managers register a Zigbee2MQTT bridge and the locks
// behind it; members never see bridges; the topic rules hold over HTTP.
func TestBridgesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	sites := "/v1/sites/" + f.site

	body := map[string]any{"name": "Zigbee2MQTT", "protocol": "zigbee2mqtt"}
	h.do(req{method: "POST", path: sites + "/bridges", token: anne, body: body}).expect(t, http.StatusForbidden)
	first := h.do(req{method: "POST", path: sites + "/bridges", token: f.manager, body: body, headers: map[string]string{"Idempotency-Key": "br-1"}}).expect(t, http.StatusCreated)
	var b bridgeOut
	first.decode(t, &b)
	if b.Secret == nil || b.Address != "zigbee2mqtt" || !strings.HasPrefix(b.Username, "brg-") {
		t.Fatalf("bridge = %+v", b)
	}
	var replay bridgeOut
	h.do(req{method: "POST", path: sites + "/bridges", token: f.manager, body: body, headers: map[string]string{"Idempotency-Key": "br-1"}}).
		expect(t, http.StatusCreated).decode(t, &replay)
	if replay.ID != b.ID || replay.Secret != nil {
		t.Fatalf("replay = %+v, want the same bridge without its secret", replay)
	}
	h.do(req{method: "GET", path: sites + "/bridges", token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/bridges/" + b.ID, token: anne}).expect(t, http.StatusNotFound)
	var list struct{ Items []bridgeOut }
	h.do(req{method: "GET", path: sites + "/bridges", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != b.ID {
		t.Fatalf("bridges = %+v", list)
	}

	// A lock behind it: no credentials of its own, its topics shown.
	var lock struct {
		ID       string
		BridgeID *string `json:"bridge_id"`
		Username string
		Secret   *string
		Topics   struct{ Command, Presence string }
	}
	h.do(req{method: "POST", path: sites + "/devices", token: f.manager,
		body: map[string]any{"kind": "lock", "name": "Entrée", "bridge_id": b.ID, "address": "entrée/serrure"}}).
		expect(t, http.StatusCreated).decode(t, &lock)
	if lock.Secret != nil || lock.Username != "" || lock.BridgeID == nil || *lock.BridgeID != b.ID ||
		lock.Topics.Command != "zigbee2mqtt/entrée/serrure/set" || lock.Topics.Presence != "zigbee2mqtt/bridge/state" {
		t.Fatalf("lock behind the bridge = %+v", lock)
	}
	p := h.do(req{method: "POST", path: "/v1/devices/" + lock.ID + "/secret", token: f.manager}).expect(t, http.StatusConflict).problem(t)
	if p.Code != "device_behind_bridge" {
		t.Fatalf("rotate a bridged device's secret: %+v", p)
	}

	// The rules, over HTTP.
	for _, tt := range []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"a Zigbee2MQTT lock without its bridge", map[string]any{"kind": "lock", "name": "x", "protocol": "zigbee2mqtt", "address": "door"}, http.StatusUnprocessableEntity, "bridge_id"},
		{"a Shelly called cmnd", map[string]any{"kind": "lock", "name": "x", "protocol": "shelly", "address": "cmnd"}, http.StatusUnprocessableEntity, "address"},
		{"a Shelly under the bridge's base topic", map[string]any{"kind": "lock", "name": "x", "protocol": "shelly", "address": "zigbee2mqtt/x"}, http.StatusUnprocessableEntity, "address"},
		{"a friendly name Zigbee2MQTT reads as a command", map[string]any{"kind": "lock", "name": "x", "bridge_id": b.ID, "address": "porte/set"}, http.StatusUnprocessableEntity, "address"},
	} {
		p := h.do(req{method: "POST", path: sites + "/devices", token: f.manager, body: tt.body}).expect(t, tt.status).problem(t)
		if !p.hasField(tt.field) {
			t.Fatalf("%s: %+v does not name %s", tt.name, p, tt.field)
		}
	}
	h.do(req{method: "POST", path: sites + "/bridges", token: f.manager, body: map[string]any{"name": "x", "protocol": "zigbee2mqtt", "address": "cmnd/x"}}).
		expect(t, http.StatusUnprocessableEntity)

	// Moving the bridge moves its lock; retiring it retires the lock.
	h.do(req{method: "PATCH", path: "/v1/bridges/" + b.ID, token: f.manager, body: map[string]any{"address": "zigbee2mqtt/fabrique"}}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/devices/" + lock.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &lock)
	if lock.Topics.Command != "zigbee2mqtt/fabrique/entrée/serrure/set" {
		t.Fatalf("lock after its bridge moved: %+v", lock.Topics)
	}
	h.do(req{method: "POST", path: "/v1/bridges/" + b.ID + "/secret", token: f.manager}).expect(t, http.StatusOK)
	h.do(req{method: "DELETE", path: "/v1/bridges/" + b.ID, token: f.manager}).expect(t, http.StatusNoContent)
	var devs struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: sites + "/devices", token: f.manager}).expect(t, http.StatusOK).decode(t, &devs)
	if len(devs.Items) != 0 {
		t.Fatalf("devices behind a retired bridge still listed: %+v", devs)
	}
}

// TestNoDoorOfAnotherSite: issue 11's attack. A manager of one site
// registers a Tasmota with the topic of another site's door (on another
// channel) to open it as "their" device: refused, because a Tasmota topic
// is one device on the broker, whatever the site and channel.
func TestNoDoorOfAnotherSite(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/devices", token: f.manager,
		body: map[string]any{"kind": "lock", "name": "Porte B", "protocol": "tasmota", "address": "tasmota_B", "channel": 1}}).expect(t, http.StatusCreated)
	var other struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: siteBody("Autre lieu")}).expect(t, http.StatusCreated).decode(t, &other)
	otherManagerID, _, _ := h.member("otto@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + other.ID + "/managers", token: f.admin, body: map[string]string{"user_id": otherManagerID}}).expect(t, http.StatusCreated)
	otto, _ := h.login("otto@example.fr", password)
	for _, ch := range []int{1, 2, 0} {
		p := h.do(req{method: "POST", path: "/v1/sites/" + other.ID + "/devices", token: otto,
			body: map[string]any{"kind": "lock", "name": "Mine", "protocol": "tasmota", "address": "tasmota_B", "channel": ch}}).expect(t, http.StatusConflict).problem(t)
		if p.Code != "device_address_taken" || !p.hasField("address") {
			t.Fatalf("channel %d: %+v", ch, p)
		}
	}
}
