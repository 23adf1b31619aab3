package devices_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/id"
)

// family is one topic of a client, with what the client itself may do
// there. Every other client may do nothing there: that is the matrix.
type family struct {
	name   string
	topic  string
	read   bool // the client may subscribe to it (its command topics)
	write  bool // the client may publish on it (replies, status, presence)
	retain bool // the embedded broker keeps its retained message there
}

// matrixClient is a device or bridge with its credentials, its families
// and a topic it may read and one it may write, for the markers.
type matrixClient struct {
	name, username, secret string
	families               []family
	readMarker             string
	writeMarker            string
}

// registerMatrix registers, on two sites, one client of each protocol and
// layout: a relais door on each site with the same address, a Tasmota and
// a Tasmota bridge with two relays, a Shelly with a one-level prefix and
// one with a two-level prefix, and two Zigbee2MQTT bridges (default base
// topic; a two-level one) with a lock each, friendly names with '/' and a
// space.
func registerMatrix(t *testing.T, svc *devices.Service, a, b fixture) []matrixClient {
	t.Helper()
	ctx := context.Background()
	dev := func(site string, in devices.NewDevice) (*devices.Device, string) {
		in.SiteID, in.Name = site, in.Address
		if in.Kind == "" {
			in.Kind = devices.KindLock
		}
		d, secret, err := svc.Create(ctx, operator, in)
		if err != nil {
			t.Fatalf("register %+v: %v", in, err)
		}
		return d, secret
	}
	bridge := func(site string, p devices.Protocol, addr string) (*devices.Bridge, string) {
		br, secret, err := svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: site, Name: addr, Protocol: p, Address: addr})
		if err != nil {
			t.Fatalf("register bridge %s: %v", addr, err)
		}
		return br, secret
	}
	relaisFamilies := func(r string) []family {
		return []family{
			{"command", r + "/cmd", true, false, false},
			{"ack", r + "/ack", false, true, false},
			{"status", r + "/status", false, true, true},
			{"unknown leaf", r + "/debug", false, false, false},
		}
	}
	tasmotaFamilies := func(tp string) []family {
		return []family{
			{"power", "cmnd/" + tp + "/POWER1", true, false, false},
			{"pulsetime", "cmnd/" + tp + "/PulseTime1", true, false, false},
			{"result", "stat/" + tp + "/RESULT", false, true, false},
			{"power state", "stat/" + tp + "/POWER1", false, true, false},
			{"lwt", "tele/" + tp + "/LWT", false, true, true},
			{"telemetry", "tele/" + tp + "/STATE", false, true, false},
		}
	}
	shellyFamilies := func(prefix, clientID string) []family {
		return []family{
			{"rpc", prefix + "/rpc", true, true, false},
			{"online", prefix + "/online", false, true, true},
			{"events", prefix + "/events/rpc", false, true, false},
			{"reply", "relais-rpc/" + clientID + "/rpc", false, true, false},
		}
	}
	zigbeeFamilies := func(base, name string) []family {
		return []family{
			{"bridge state", base + "/bridge/state", true, true, true},
			{"bridge request", base + "/bridge/request/permit_join", true, true, false},
			{"set", base + "/" + name + "/set", true, true, false},
			{"state", base + "/" + name, true, true, true},
			{"availability", base + "/" + name + "/availability", true, true, true},
		}
	}
	var out []matrixClient

	ra, sa := dev(a.site, devices.NewDevice{Protocol: devices.ProtocolRelais, Address: "door"})
	out = append(out, matrixClient{"relais A", ra.Username, sa, relaisFamilies("relais/" + a.site + "/door"), "relais/" + a.site + "/door/cmd", "relais/" + a.site + "/door/status"})
	rb, sb := dev(b.site, devices.NewDevice{Protocol: devices.ProtocolRelais, Address: "door"})
	out = append(out, matrixClient{"relais B", rb.Username, sb, relaisFamilies("relais/" + b.site + "/door"), "relais/" + b.site + "/door/cmd", "relais/" + b.site + "/door/status"})

	ta, sta := dev(a.site, devices.NewDevice{Protocol: devices.ProtocolTasmota, Address: "tasmota_A1", Channel: 1})
	out = append(out, matrixClient{"tasmota A", ta.Username, sta, tasmotaFamilies("tasmota_A1"), "cmnd/tasmota_A1/POWER1", "tele/tasmota_A1/LWT"})
	tb, stb := bridge(b.site, devices.ProtocolTasmota, "tasmota_B2")
	for ch := 1; ch <= 2; ch++ {
		dev(b.site, devices.NewDevice{BridgeID: &tb.ID, Kind: devices.KindRelay, ResourceID: &b.machine, Channel: ch, Address: "tasmota_B2"})
	}
	out = append(out, matrixClient{"tasmota bridge B", tb.Username, stb, tasmotaFamilies("tasmota_B2"), "cmnd/tasmota_B2/POWER1", "tele/tasmota_B2/LWT"})

	sha, ssa := dev(a.site, devices.NewDevice{Protocol: devices.ProtocolShelly, Address: "shellyplus1-a"})
	out = append(out, matrixClient{"shelly A", sha.Username, ssa, shellyFamilies("shellyplus1-a", sha.ID), "shellyplus1-a/rpc", "shellyplus1-a/online"})
	shb, ssb := dev(b.site, devices.NewDevice{Protocol: devices.ProtocolShelly, Address: "office/shelly-b"})
	out = append(out, matrixClient{"shelly B", shb.Username, ssb, shellyFamilies("office/shelly-b", shb.ID), "office/shelly-b/rpc", "office/shelly-b/online"})

	za, sza := bridge(a.site, devices.ProtocolZigbee, "zigbee2mqtt")
	dev(a.site, devices.NewDevice{BridgeID: &za.ID, Address: "front door/lock"})
	out = append(out, matrixClient{"zigbee2mqtt A", za.Username, sza, zigbeeFamilies("zigbee2mqtt", "front door/lock"),
		"zigbee2mqtt/bridge/request/permit_join", "zigbee2mqtt/bridge/state"})
	zb, szb := bridge(b.site, devices.ProtocolZigbee, "z2m/site-b")
	dev(b.site, devices.NewDevice{BridgeID: &zb.ID, Address: "back"})
	out = append(out, matrixClient{"zigbee2mqtt B", zb.Username, szb, zigbeeFamilies("z2m/site-b", "back"),
		"z2m/site-b/bridge/request/permit_join", "z2m/site-b/bridge/state"})
	return out
}

// unowned are topics no client owns: relais's and the protocols' roots
// elsewhere, and broker topics.
var unowned = []family{
	{"relais command of an unknown site", "relais/" + id.New() + "/door/cmd", false, false, false},
	{"tasmota command of an unknown device", "cmnd/tasmota_ZZ/POWER", false, false, false},
	{"tasmota state of an unknown device", "stat/tasmota_ZZ/RESULT", false, false, false},
	{"zigbee2mqtt request of an unknown base", "z2m/other/bridge/request/restart", false, false, false},
	{"shelly reply of an unknown client", "relais-rpc/" + id.New() + "/rpc", false, false, false},
	{"broker topic", "$SYS/broker/uptime", false, false, false},
}

// wildcards are subscriptions that would reach other clients' topics.
var wildcards = []string{"#", "+/#", "cmnd/+/#", "cmnd/#", "stat/#", "relais/#", "relais/+/+/cmd", "+/rpc", "+/+/+/cmd", "zigbee2mqtt/+/set", "z2m/#", "$SYS/#"}

// probe is a broker seen through MQTT connections: an observer that may
// read and write everything, and the clients' own logins.
type probe struct {
	t        *testing.T
	url      string
	observe  func(filter string, h func(topic string, payload []byte))
	publish  func(topic string, payload []byte)
	embedded bool
}

// conn is one MQTT connection that records what it receives.
type conn struct {
	c    paho.Client
	mu   sync.Mutex
	msgs map[string][]byte // payload by topic+payload key
}

func (c *conn) got(topic string, payload []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.msgs[topic+"\x00"+string(payload)]
	return ok && bytes.Equal(p, payload)
}

func dial(t *testing.T, url, user, pass string) *conn {
	t.Helper()
	c := &conn{msgs: map[string][]byte{}}
	opts := paho.NewClientOptions().AddBroker(url).SetClientID("m-" + id.Secret(8)).SetUsername(user).SetPassword(pass).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).SetOrderMatters(true)
	c.c = paho.NewClient(opts)
	if tok := c.c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as %s: %v", user, tok.Error())
	}
	t.Cleanup(func() { c.c.Disconnect(0) })
	return c
}

func (c *conn) subscribe(t *testing.T, filter string) {
	t.Helper()
	tok := c.c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		c.mu.Lock()
		c.msgs[m.Topic()+"\x00"+string(m.Payload())] = append([]byte{}, m.Payload()...)
		c.mu.Unlock()
	})
	if !tok.WaitTimeout(5 * time.Second) {
		t.Fatalf("subscribe %s: no answer", filter)
	}
	// A refused subscription (SUBACK 0x80) is fine: delivery decides.
}

// seen collects what the observer receives.
type seen struct {
	mu   sync.Mutex
	msgs map[string]bool
}

func (s *seen) add(topic string, payload []byte) {
	s.mu.Lock()
	s.msgs[topic+"\x00"+string(payload)] = true
	s.mu.Unlock()
}

func (s *seen) has(topic string, payload []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.msgs[topic+"\x00"+string(payload)]
}

// wait polls cond for up to 5 s: the markers always arrive, so a timeout
// means the broker dropped one of a client's allowed messages.
func wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never arrived", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// canWrite publishes a probe as the client, then a marker on a topic it
// may write; once the observer has the marker, it has the probe too if
// the broker let it through (a broker delivers one connection's messages
// in order).
func (p *probe) canWrite(t *testing.T, c *conn, obs *seen, marker, topic string) bool {
	t.Helper()
	payload := []byte("probe-" + id.Secret(6))
	mark := []byte("marker-" + id.Secret(6))
	c.c.Publish(topic, 0, false, payload).WaitTimeout(5 * time.Second)
	c.c.Publish(marker, 0, false, mark).WaitTimeout(5 * time.Second)
	wait(t, "write marker on "+marker, func() bool { return obs.has(marker, mark) })
	return obs.has(topic, payload)
}

// canRead subscribes the client to topic, has the observer publish a
// probe there and then a marker the client reads.
func (p *probe) canRead(t *testing.T, c *conn, marker, filter, topic string) bool {
	t.Helper()
	c.subscribe(t, filter)
	payload := []byte("probe-" + id.Secret(6))
	mark := []byte("marker-" + id.Secret(6))
	p.publish(topic, payload)
	p.publish(marker, mark)
	wait(t, "read marker on "+marker, func() bool { return c.got(marker, mark) })
	got := c.got(topic, payload)
	if filter != marker {
		c.c.Unsubscribe(filter).WaitTimeout(5 * time.Second)
	}
	return got
}

// retains publishes a retained probe as the client and reports whether
// the broker kept it (a new subscription of the observer replays it).
func (p *probe) retains(t *testing.T, c *conn, obs *seen, topic string) bool {
	t.Helper()
	payload := []byte("retained-" + id.Secret(6))
	c.c.Publish(topic, 1, true, payload).WaitTimeout(5 * time.Second)
	// The live copy reaches the observer first (the broker may acknowledge
	// before it delivers); then a fresh subscription shows whether it was kept.
	wait(t, "the live copy of a retained publish", func() bool { return obs.has(topic, payload) })
	late := &seen{msgs: map[string]bool{}}
	p.observe(topic, late.add)
	time.Sleep(20 * time.Millisecond) // a replay, if any, comes with the SUBACK
	return late.has(topic, payload)
}

// runMatrix checks every client against every family of every client, and
// against the unowned topics and the wildcards.
func runMatrix(t *testing.T, p *probe, clients []matrixClient) {
	obs := &seen{msgs: map[string]bool{}}
	p.observe("#", obs.add)
	for _, me := range clients {
		t.Run(me.name, func(t *testing.T) {
			c := dial(t, p.url, me.username, me.secret)
			c.subscribe(t, me.readMarker)
			for _, owner := range clients {
				fams := owner.families
				if owner.name != me.name {
					fams = nil
					for _, f := range owner.families {
						fams = append(fams, family{name: f.name, topic: f.topic}) // others: nothing
					}
				}
				for _, f := range fams {
					where := fmt.Sprintf("%s's %s (%s)", owner.name, f.name, f.topic)
					if got := p.canWrite(t, c, obs, me.writeMarker, f.topic); got != f.write {
						t.Errorf("write %s: allowed=%v, want %v", where, got, f.write)
					}
					if got := p.canRead(t, c, me.readMarker, f.topic, f.topic); got != f.read {
						t.Errorf("read %s: allowed=%v, want %v", where, got, f.read)
					}
					if f.write && p.embedded {
						if got := p.retains(t, c, obs, f.topic); got != f.retain {
							t.Errorf("retain on %s: kept=%v, want %v", where, got, f.retain)
						}
					}
				}
			}
			for _, f := range unowned {
				if p.canWrite(t, c, obs, me.writeMarker, f.topic) {
					t.Errorf("write %s (%s) allowed", f.name, f.topic)
				}
				if p.canRead(t, c, me.readMarker, f.topic, f.topic) {
					t.Errorf("read %s (%s) allowed", f.name, f.topic)
				}
			}
			// A wildcard reaches nothing the client may not read: another
			// client's command topic never comes through it.
			for _, w := range wildcards {
				for _, owner := range clients {
					if owner.name == me.name {
						continue
					}
					for _, f := range owner.families {
						if !f.read || !covered(w, f.topic) {
							continue
						}
						if p.canRead(t, c, me.readMarker, w, f.topic) {
							t.Errorf("subscription %s delivered %s's %s (%s)", w, owner.name, f.name, f.topic)
						}
					}
				}
			}
		})
	}
}

// covered reports whether filter matches topic (MQTT rules).
func covered(filter, topic string) bool {
	fl, tl := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, l := range fl {
		if l == "#" {
			return !strings.HasPrefix(topic, "$") || i > 0
		}
		if i >= len(tl) || (l != "+" && l != tl[i]) {
			return false
		}
	}
	return len(fl) == len(tl)
}

// TestACLMatrix: every protocol × every topic family × the client itself,
// another client of its site, of another site, and topics nobody owns ×
// read, write and retain, on the embedded broker; and, with
// RELAIS_TEST_MQTT_URL set (the Mosquitto suite), the same read and write
// answers from a Mosquitto of the test's own that runs the acl_file
// `relais devices acl` writes (WriteMosquittoACL). Mosquitto's acl_file
// cannot restrict retain; relais ignores retained replies there
// (TestRetainedRepliesIgnored).
func TestACLMatrix(t *testing.T) {
	t.Parallel()
	bdb := dbtest.New(t)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	a, b := newFixture(t, bdb), newFixture(t, bdb)
	clients := registerMatrix(t, svc, a, b)

	t.Run("embedded", func(t *testing.T) {
		env := mqtttest.StartEmbedded(t, svc)
		p := &probe{t: t, url: env.DeviceURL, embedded: true}
		p.observe = func(filter string, h func(string, []byte)) {
			if err := env.Transport.Subscribe(filter, func(m devices.Message) { h(m.Topic, m.Payload) }); err != nil {
				t.Fatal(err)
			}
		}
		p.publish = func(topic string, payload []byte) {
			if err := env.Transport.Publish(context.Background(), topic, 0, payload); err != nil {
				t.Fatal(err)
			}
		}
		runMatrix(t, p, clients)
	})

	if mqtttest.ExternalURL() == "" {
		return
	}
	t.Run("mosquitto", func(t *testing.T) {
		var acl bytes.Buffer
		if err := svc.WriteMosquittoACL(context.Background(), &acl, "relais"); err != nil {
			t.Fatal(err)
		}
		acl.WriteString("user observer\ntopic readwrite #\ntopic read $SYS/#\n")
		users := map[string]string{"observer": "observer-secret", "relais": "relais-secret"}
		for _, c := range clients {
			users[c.username] = c.secret
		}
		m := mqtttest.StartMosquittoACL(t, acl.String(), users)
		observer := dial(t, m.URL, "observer", "observer-secret")
		p := &probe{t: t, url: m.URL}
		p.observe = func(filter string, h func(string, []byte)) {
			tok := observer.c.Subscribe(filter, 0, func(_ paho.Client, msg paho.Message) { h(msg.Topic(), msg.Payload()) })
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("observer subscribe %s: %v", filter, tok.Error())
			}
		}
		p.publish = func(topic string, payload []byte) {
			observer.c.Publish(topic, 0, false, payload).WaitTimeout(5 * time.Second)
		}
		runMatrix(t, p, clients)
	})
}
