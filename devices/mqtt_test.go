package devices_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/id"
)

// rig is one test's world: a database with a site, a started service and
// the broker its simulated devices use.
type rig struct {
	t   *testing.T
	db  *bun.DB
	f   fixture
	svc *devices.Service
	env *mqtttest.Env
	// bridges holds the bridge registered for each Zigbee2MQTT device, by
	// device id: a Zigbee2MQTT device logs in through its bridge.
	bridges map[string]*devices.Bridge
}

func newRig(t *testing.T, embedded bool) *rig {
	return newRigWith(t, embedded, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
}

func newRigWith(t *testing.T, embedded bool, cfg devices.Config) *rig {
	t.Helper()
	bdb := dbtest.New(t)
	r := &rig{t: t, db: bdb, f: newFixture(t, bdb), bridges: map[string]*devices.Bridge{}}
	r.svc = devices.New(bdb, cfg)
	if embedded {
		r.env = mqtttest.StartEmbedded(t, r.svc)
	} else {
		r.env = mqtttest.Start(t, r.svc)
	}
	return r
}

// uniqueAddress gives each test its own topics on a shared broker.
func uniqueAddress(p devices.Protocol) string {
	suffix := strings.ReplaceAll(id.New(), "-", "")[20:]
	switch p {
	case devices.ProtocolTasmota:
		return "tasmota_" + suffix
	case devices.ProtocolShelly:
		return "shellyplus1-" + suffix
	case devices.ProtocolZigbee:
		return "z2m-" + suffix
	}
	return "door-" + suffix
}

// register creates a device of protocol p (a lock, or with relay a machine
// relay) and returns it with the secret it logs in with: a Zigbee2MQTT
// device gets a bridge of its own (a base topic of its own), whose secret
// it is.
func (r *rig) register(p devices.Protocol, kind devices.Kind) (*devices.Device, string) {
	r.t.Helper()
	ctx := context.Background()
	in := devices.NewDevice{SiteID: r.f.site, Kind: kind, Name: string(p), Protocol: p, Address: uniqueAddress(p)}
	if kind == devices.KindRelay {
		in.ResourceID = &r.f.machine
	}
	if p == devices.ProtocolTasmota {
		in.Channel = 1
	}
	var bridge *devices.Bridge
	var secret string
	if p == devices.ProtocolZigbee {
		var err error
		bridge, secret, err = r.svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: r.f.site, Name: "Zigbee2MQTT",
			Protocol: p, Address: "zigbee2mqtt/" + uniqueAddress(p)})
		if err != nil {
			r.t.Fatal(err)
		}
		in.BridgeID, in.Address = &bridge.ID, "front door/lock"
	}
	d, devSecret, err := r.svc.Create(ctx, operator, in)
	if err != nil {
		r.t.Fatal(err)
	}
	if bridge != nil {
		r.bridges[d.ID] = bridge
		return d, secret
	}
	return d, devSecret
}

// simConfig is the simulator configuration of a device registered by register.
func (r *rig) simConfig(d *devices.Device, secret string) devicesim.Config {
	if b := r.bridges[d.ID]; b != nil {
		return devicesim.ForBridge(b, secret, r.env.DeviceURL, d)
	}
	return devicesim.ForDevice(d, secret, r.env.DeviceURL)
}

// sim registers a device and starts its simulator, waiting until relais has
// seen it online.
func (r *rig) sim(p devices.Protocol, kind devices.Kind) (*devices.Device, *devicesim.Sim) {
	r.t.Helper()
	d, secret := r.register(p, kind)
	cfg := r.simConfig(d, secret)
	cfg.Logger = mqtttest.Quiet()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := devicesim.Start(ctx, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(s.Close)
	r.waitOnline(d, true)
	return d, s
}

func (r *rig) waitOnline(d *devices.Device, want bool) {
	r.t.Helper()
	eventually(r.t, "device presence "+map[bool]string{true: "online", false: "offline"}[want], func() bool {
		on, known := r.svc.Online(d)
		return known && on == want
	})
}

// eventually polls cond until it holds; failing after 10 s means the
// condition never came, not that something was slow.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// counter sums a counter (or gauge) of svc's collectors over the labels given.
func counter(t testing.TB, svc *devices.Service, name string, labels map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	for _, c := range svc.Collectors() {
		reg.MustRegister(c)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == k && lp.GetValue() == v)
				}
				if !found {
					continue next
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() // the other is nil: 0
		}
	}
	return sum
}

// commandTopic is where relais publishes commands for d (PulseTime and
// POWER for Tasmota).
func commandTopic(d *devices.Device) string {
	if d.Protocol == devices.ProtocolTasmota {
		return "cmnd/" + d.Address + "/#"
	}
	return devices.TopicsOf(d).Command
}

// spy counts the messages published on filter, seen through relais's own
// connection to the broker.
func spy(t testing.TB, tr devices.Transport, filter string) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	if err := tr.Subscribe(filter, func(devices.Message) { n.Add(1) }); err != nil {
		t.Fatal(err)
	}
	return &n
}

func unlockAction(d *devices.Device) devices.Action {
	if d.Kind == devices.KindRelay {
		return devices.ActionPowerOn
	}
	return devices.ActionUnlock
}

// on reports whether a simulator action closes the relay.
func on(a devices.Action) bool { return a == devices.ActionUnlock || a == devices.ActionPowerOn }

func TestConfirmedCommands(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	ctx := context.Background()
	tests := []struct {
		protocol devices.Protocol
		kind     devices.Kind
	}{
		{devices.ProtocolRelais, devices.KindLock},
		{devices.ProtocolRelais, devices.KindRelay},
		{devices.ProtocolTasmota, devices.KindLock},
		{devices.ProtocolTasmota, devices.KindRelay},
		{devices.ProtocolShelly, devices.KindLock},
		{devices.ProtocolShelly, devices.KindRelay},
		{devices.ProtocolZigbee, devices.KindLock},
	}
	for _, tt := range tests {
		t.Run(string(tt.protocol)+"/"+string(tt.kind), func(t *testing.T) {
			d, sim := r.sim(tt.protocol, tt.kind)
			// A short auto-off, so the test sees the device-side timer fire
			// (the strike's pulse, the machine's dead-man's switch).
			cmd := devices.Command{Action: unlockAction(d), Duration: 300 * time.Millisecond}
			if tt.protocol == devices.ProtocolZigbee {
				cmd.Duration = 0 // Zigbee locks relock by their own settings
			}
			res, err := r.svc.Send(ctx, d, cmd)
			if err != nil {
				t.Fatal(err)
			}
			if res.CommandID == "" || res.ConfirmedAt.Before(res.SentAt) {
				t.Fatalf("result = %+v", res)
			}
			acts := sim.Actions()
			if len(acts) != 1 || !on(acts[0].Action) {
				t.Fatalf("device actions = %+v", acts)
			}
			if tt.protocol == devices.ProtocolRelais && acts[0].CommandID != res.CommandID {
				t.Fatalf("device acted on id %q, sent %q", acts[0].CommandID, res.CommandID)
			}
			if !sim.State().On {
				t.Fatal("device not on after a confirmed command")
			}
			if cmd.Duration > 0 {
				eventually(t, "device-side auto-off", func() bool { return !sim.State().On })
				if acts := sim.Actions(); len(acts) != 2 || !acts[1].Auto {
					t.Fatalf("actions after auto-off = %+v", acts)
				}
			}
			off := devices.ActionLock
			if d.Kind == devices.KindRelay {
				off = devices.ActionPowerOff
			}
			if _, err := r.svc.Send(ctx, d, devices.Command{Action: off}); err != nil {
				t.Fatalf("%s: %v", off, err)
			}
			if sim.State().On {
				t.Fatalf("device on after %s", off)
			}
		})
	}
	if n := counter(t, r.svc, "relais_device_commands_total", map[string]string{"outcome": "confirmed"}); n != float64(2*len(tests)) {
		t.Fatalf("confirmed commands counted = %v, want %d", n, 2*len(tests))
	}
}

func allProtocols() []devices.Protocol { return devices.Protocols }

// TestOfflineSendsNothing: a device whose Last Will said offline gets
// ErrOffline at once, and nothing is published for it.
func TestOfflineSendsNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			sent := spy(t, r.env.Transport, commandTopic(d))
			sim.SetMode(devicesim.Offline, 0)
			r.waitOnline(d, false)
			_, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionUnlock})
			if !errors.Is(err, devices.ErrOffline) {
				t.Fatalf("err = %v, want ErrOffline", err)
			}
			// Back online, the device has received nothing, and a marker
			// command shows the spy would have seen one.
			sim.SetMode(devicesim.Normal, 0)
			r.waitOnline(d, true)
			if _, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionLock}); err != nil {
				t.Fatal(err)
			}
			if got := sent.Load(); got != 1 {
				t.Fatalf("%d messages published to the device, want only the marker", got)
			}
			if acts := sim.Actions(); len(acts) != 1 || acts[0].Action != devices.ActionLock && acts[0].Action != devices.ActionPowerOff {
				t.Fatalf("device actions = %+v", acts)
			}
		})
	}
}

// TestSilentTimesOut: a device that never answers ends in ErrTimeout.
func TestSilentTimesOut(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			sim.SetMode(devicesim.Silent, 0)
			_, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionUnlock, Timeout: 200 * time.Millisecond})
			if !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if len(sim.Actions()) != 0 {
				t.Fatalf("silent device acted: %+v", sim.Actions())
			}
			eventually(t, "the device received the command", func() bool { return len(sim.Received()) > 0 })
		})
	}
}

// TestSlowBeyondTimeout: the command times out; a relais-protocol device
// that gets to it after expires_at never acts. The other protocols have
// no expiry field: the command went at QoS 0 (no broker keeps it), but a
// device slow to act does act late — with its auto-off — and relais
// ignores its late answer.
func TestSlowBeyondTimeout(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			sim.SetMode(devicesim.Slow, 500*time.Millisecond)
			before := counter(t, r.svc, "relais_device_replies_ignored_total", map[string]string{"protocol": string(p)})
			_, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionUnlock, Timeout: 150 * time.Millisecond})
			if !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			var rec devicesim.Received
			eventually(t, "the slow device handled the command", func() bool {
				for _, x := range sim.Received() {
					if x.Outcome != "setting" {
						rec = x
						return true
					}
				}
				return false
			})
			if p == devices.ProtocolRelais {
				if rec.Outcome != "expired" || len(sim.Actions()) != 0 {
					t.Fatalf("late relais device: outcome %q, actions %+v", rec.Outcome, sim.Actions())
				}
				return
			}
			if rec.Outcome != "acted" {
				t.Fatalf("outcome = %q", rec.Outcome)
			}
			eventually(t, "the late answer was ignored", func() bool {
				return counter(t, r.svc, "relais_device_replies_ignored_total", map[string]string{"protocol": string(p)}) > before
			})
		})
	}
}

// TestAnswerTwiceAndWrongID: a second answer is ignored safely, an answer
// for an id never sent (or a state not asked for) confirms nothing.
func TestAnswerTwiceAndWrongID(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	ctx := context.Background()
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			ignored := func() float64 {
				return counter(t, r.svc, "relais_device_replies_ignored_total", map[string]string{"protocol": string(p)})
			}
			before := ignored()
			sim.SetFaults(devicesim.Faults{AnswerTwice: true})
			if _, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the second answer was counted as ignored", func() bool { return ignored() > before })
			if _, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionLock}); err != nil {
				t.Fatalf("command after a double answer: %v", err)
			}

			sim.SetFaults(devicesim.Faults{WrongID: true})
			before = ignored()
			_, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock, Timeout: 300 * time.Millisecond})
			if !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("wrong-id answer: err = %v, want ErrTimeout", err)
			}
			if ignored() <= before {
				t.Fatal("the wrong answer was not counted as ignored")
			}
			sim.SetFaults(devicesim.Faults{})
			if _, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionLock}); err != nil {
				t.Fatalf("command after a wrong answer: %v", err)
			}
		})
	}
}

// TestOneInFlightWithoutCorrelation: Tasmota and Zigbee2MQTT answers carry
// no id, so a second command while one is in flight is refused.
func TestOneInFlightWithoutCorrelation(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	for _, p := range []devices.Protocol{devices.ProtocolTasmota, devices.ProtocolZigbee} {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			sim.SetMode(devicesim.Silent, 0)
			done := make(chan error)
			go func() {
				_, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionUnlock, Timeout: 2 * time.Second})
				done <- err
			}()
			eventually(t, "the first command reached the device", func() bool { return len(sim.Received()) > 0 })
			_, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionLock})
			if !errors.Is(err, devices.ErrBusy) {
				t.Fatalf("second command: %v, want ErrBusy", err)
			}
			if err := <-done; !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("first command: %v", err)
			}
		})
	}
}

// TestPresenceTransitions: each real transition is reported once, even with
// two replicas receiving the same messages, and is stored in the database.
func TestPresenceTransitions(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []string
	record := func(name string) func(context.Context, devices.Device, bool, time.Time) {
		return func(_ context.Context, d devices.Device, online bool, _ time.Time) {
			mu.Lock()
			events = append(events, d.ID+map[bool]string{true: " online", false: " offline"}[online])
			mu.Unlock()
		}
	}
	r := newRigWith(t, false, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet(), OnPresence: record("a")})
	// The replica reads the devices registered through r.svc every 100 ms
	// rather than every 5 s: it then knows each device while its transitions
	// happen, which is what the test is about, instead of after them.
	replica := devices.New(r.db, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet(), TopicSync: 100 * time.Millisecond, OnPresence: record("b")})
	if r.env.Broker != nil {
		if err := replica.Start(context.Background(), r.env.Transport); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(replica.Close)
	} else {
		mqtttest.StartOn(t, replica, r.env.DeviceURL)
	}
	count := func(s string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, e := range events {
			if e == s {
				n++
			}
		}
		return n
	}
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			eventually(t, "online reported", func() bool { return count(d.ID+" online") == 1 })
			got, _ := r.svc.Get(context.Background(), d.ID)
			if !got.Online || got.LastSeenAt == nil {
				t.Fatalf("stored presence = online %v last seen %v", got.Online, got.LastSeenAt)
			}
			sim.SetMode(devicesim.Offline, 0)
			eventually(t, "offline reported", func() bool { return count(d.ID+" offline") == 1 })
			eventually(t, "offline stored", func() bool {
				got, _ := r.svc.Get(context.Background(), d.ID)
				return !got.Online
			})
			sim.SetMode(devicesim.Normal, 0)
			eventually(t, "online again", func() bool { return count(d.ID+" online") == 2 })
			// Both replicas have processed everything: still one report each.
			eventually(t, "both replicas see it online", func() bool {
				a, _ := r.svc.Online(d)
				b, _ := replica.Online(d)
				return a && b
			})
			if count(d.ID+" offline") != 1 {
				t.Fatalf("events = %v", events)
			}
		})
	}
	offline := counter(t, r.svc, "relais_device_offline_total", nil) + counter(t, replica, "relais_device_offline_total", nil)
	if offline != float64(len(allProtocols())) {
		t.Fatalf("offline transitions counted = %v, want %d", offline, len(allProtocols()))
	}
}

// TestNeverSeenIsOffline: a device relais has never heard from is refused
// at once, for every protocol (a never-connected Tasmota lock used to wait
// 5 s for an answer that could not come).
func TestNeverSeenIsOffline(t *testing.T) {
	t.Parallel()
	r := newRig(t, false)
	for _, p := range allProtocols() {
		d, _ := r.register(p, devices.KindLock)
		if _, err := r.svc.Send(context.Background(), d, devices.Command{Action: devices.ActionUnlock, Timeout: 5 * time.Second}); !errors.Is(err, devices.ErrOffline) {
			t.Fatalf("%s never seen: %v, want ErrOffline", p, err)
		}
	}
}
