package devices_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// fieldOf returns the fields a validation error names.
func fieldsOf(err error) []string {
	var ve *errs.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var fs []string
	for _, f := range ve.Fields {
		fs = append(fs, f.Field)
	}
	return fs
}

// TestBridgeRegistry: bridges and the devices behind them follow the topic
// rules; a bridge's base topic may hold '/', friendly names too, within
// what Zigbee2MQTT itself allows.
func TestBridgeRegistry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f, g := newFixture(t, bdb), newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})
	z, secret, err := svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: f.site, Name: "Zigbee", Protocol: devices.ProtocolZigbee})
	if err != nil {
		t.Fatal(err)
	}
	if z.Address != "zigbee2mqtt" || !strings.HasPrefix(z.Username, "brg-") || len(secret) < 32 {
		t.Fatalf("bridge = %+v", z)
	}
	if l, err := svc.Authenticate(ctx, z.Username, secret); err != nil || !l.Bridge || l.PresenceTopic() != "zigbee2mqtt/bridge/state" {
		t.Fatalf("bridge login = %+v, %v", l, err)
	}

	badBridges := []struct {
		name string
		in   devices.NewBridge
	}{
		{"base under cmnd", devices.NewBridge{Protocol: devices.ProtocolZigbee, Address: "cmnd/z2m"}},
		{"base under relais", devices.NewBridge{Protocol: devices.ProtocolZigbee, Address: "relais"}},
		{"base with a wildcard", devices.NewBridge{Protocol: devices.ProtocolZigbee, Address: "z2m/#"}},
		{"base with an empty level", devices.NewBridge{Protocol: devices.ProtocolZigbee, Address: "z2m//a"}},
		{"tasmota bridge with a level", devices.NewBridge{Protocol: devices.ProtocolTasmota, Address: "a/b"}},
		{"relais bridge", devices.NewBridge{Protocol: devices.ProtocolRelais, Address: "x"}},
	}
	for _, tt := range badBridges {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.SiteID, tt.in.Name = f.site, "b"
			_, _, err := svc.CreateBridge(ctx, operator, tt.in)
			if fs := fieldsOf(err); len(fs) == 0 {
				t.Fatalf("err = %v, want a validation error", err)
			}
		})
	}
	// Another bridge on the same base, or inside it, or a Shelly there: taken.
	for _, base := range []string{"zigbee2mqtt", "zigbee2mqtt/site-b"} {
		if _, _, err := svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: g.site, Name: "b", Protocol: devices.ProtocolZigbee, Address: base}); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("bridge at %s beside zigbee2mqtt: %v, want a conflict", base, err)
		}
	}
	z2, _, err := svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: g.site, Name: "b", Protocol: devices.ProtocolZigbee, Address: "z2m/site-b"})
	if err != nil {
		t.Fatal(err)
	}

	names := []struct {
		name  string
		field string
	}{
		{"front door/lock", ""},
		{"Porte d'entrée", ""},
		{"bridge", "address"},
		{"bridge/x", "address"},
		{"door/set", "address"},
		{"door/availability", "address"},
		{"door/1", "address"},
		{"a+b", "address"},
		{"/door", "address"},
		{"door/", "address"},
		{"", "address"},
	}
	for _, tt := range names {
		d, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, BridgeID: &z.ID, Kind: devices.KindLock, Name: "L", Address: tt.name})
		if tt.field == "" {
			if err != nil {
				t.Fatalf("friendly name %q: %v", tt.name, err)
			}
			if d.Protocol != devices.ProtocolZigbee || d.Username == "" || devices.TopicsOf(d).Command != "zigbee2mqtt/"+tt.name+"/set" {
				t.Fatalf("device behind the bridge = %+v, topics %+v", d, devices.TopicsOf(d))
			}
			if _, err := svc.Authenticate(ctx, d.Username, ""); err == nil {
				t.Fatal("a device behind a bridge logs in by itself")
			}
			continue
		}
		if fs := fieldsOf(err); len(fs) != 1 || fs[0] != tt.field {
			t.Fatalf("friendly name %q: %v, want %s named", tt.name, err, tt.field)
		}
	}
	// The same friendly name twice behind one bridge; a device behind
	// another site's bridge.
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, BridgeID: &z.ID, Kind: devices.KindLock, Name: "L", Address: "front door/lock"}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("the same friendly name twice: %v", err)
	}
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, BridgeID: &z2.ID, Kind: devices.KindLock, Name: "L", Address: "x"}); !slicesEq(fieldsOf(err), "bridge_id") {
		t.Fatalf("behind another site's bridge: %v", err)
	}

	// A Tasmota bridge: its relays are channels of one client.
	tb, _, err := svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: f.site, Name: "4CH", Protocol: devices.ProtocolTasmota, Address: "sonoff4ch"})
	if err != nil {
		t.Fatal(err)
	}
	for ch := 1; ch <= 2; ch++ {
		if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, BridgeID: &tb.ID, Kind: devices.KindRelay, Name: "R", ResourceID: &f.machine, Channel: ch}); err != nil {
			t.Fatalf("relay %d: %v", ch, err)
		}
	}
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, BridgeID: &tb.ID, Kind: devices.KindRelay, Name: "R", ResourceID: &f.machine, Channel: 2}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("channel 2 twice: %v", err)
	}
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: g.site, Kind: devices.KindLock, Name: "T", Protocol: devices.ProtocolTasmota, Address: "sonoff4ch", Channel: 3}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("a Tasmota of another site on the bridge's topic: %v", err)
	}

	// Moving a bridge moves its devices; retiring it retires them.
	moved, err := svc.UpdateBridge(ctx, operator, z.ID, devices.BridgePatch{Address: ptr("zigbee2mqtt/site-a")})
	if err != nil {
		t.Fatal(err)
	}
	behind, err := svc.BridgeDevices(ctx, moved.ID)
	if err != nil || len(behind) != 2 {
		t.Fatalf("devices behind = %+v, %v", behind, err)
	}
	for _, d := range behind {
		if !strings.HasPrefix(devices.TopicsOf(&d).Command, "zigbee2mqtt/site-a/") {
			t.Fatalf("device not moved with its bridge: %+v", devices.TopicsOf(&d))
		}
	}
	if err := svc.RetireBridge(ctx, operator, z.ID); err != nil {
		t.Fatal(err)
	}
	if ds, _ := svc.BridgeDevices(ctx, z.ID); len(ds) != 0 {
		t.Fatalf("devices behind a retired bridge still in service: %+v", ds)
	}
	if _, err := svc.Authenticate(ctx, z.Username, secret); err == nil {
		t.Fatal("a retired bridge logs in")
	}
}

func slicesEq(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(want, ",")
}

// TestOverlapRace: two registrations whose topics nest (not equal, so no
// unique index can refuse one) race; exactly one wins, on both engines.
func TestOverlapRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f, g := newFixture(t, bdb), newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})
	for i := range 5 {
		base := "race" + id.Secret(4)
		var wg sync.WaitGroup
		var results [2]error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _, results[0] = svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "s", Protocol: devices.ProtocolShelly, Address: base})
		}()
		go func() {
			defer wg.Done()
			_, _, results[1] = svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: g.site, Name: "z", Protocol: devices.ProtocolZigbee, Address: base + "/z2m"})
		}()
		wg.Wait()
		conflicts := 0
		for _, err := range results {
			if errors.Is(err, errs.ErrConflict) {
				conflicts++
			} else if err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
		}
		if conflicts != 1 {
			t.Fatalf("round %d: %d conflicts (%v), want exactly 1", i, conflicts, results)
		}
	}
}

// TestCheckReportsOldRows: rows written before the rules (by hand here)
// are reported by Check and refused at login, not silently kept.
func TestCheckReportsOldRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f, g := newFixture(t, bdb), newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	good, goodSecret, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "ok", Protocol: devices.ProtocolTasmota, Address: "fine"})
	if err != nil {
		t.Fatal(err)
	}
	cmnd, cmndSecret, _ := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "c", Protocol: devices.ProtocolShelly, Address: "tmp-" + id.Secret(4)})
	a, _, _ := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "a", Protocol: devices.ProtocolTasmota, Address: "ta"})
	b, _, _ := svc.Create(ctx, operator, devices.NewDevice{SiteID: g.site, Kind: devices.KindLock, Name: "b", Protocol: devices.ProtocolTasmota, Address: "tb", Channel: 2})
	// What the old rules allowed: a Shelly called "cmnd", and the same
	// Tasmota topic on two sites on two channels.
	for _, q := range []struct{ root, id string }{{"cmnd", cmnd.ID}, {"ta", b.ID}} {
		if _, err := bdb.ExecContext(ctx, "UPDATE devices SET address = ?, topic_root = ? WHERE id = ?", q.root, q.root, q.id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := svc.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{}
	for _, c := range got {
		bad[c.ID] = true
	}
	if len(bad) != 3 || !bad[cmnd.ID] || !bad[a.ID] || !bad[b.ID] {
		t.Fatalf("check = %+v, want the Shelly called cmnd and both Tasmota on ta", got)
	}
	env := mqtttest.StartEmbedded(t, svc)
	start := func(d *devices.Device, secret string) error {
		c := devicesim.ForDevice(d, secret, env.DeviceURL)
		c.Logger = mqtttest.Quiet()
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		s, err := devicesim.Start(ctx, c)
		if err == nil {
			s.Close()
		}
		return err
	}
	cmnd.Address, cmnd.TopicRoot = "cmnd", "cmnd"
	if err := start(cmnd, cmndSecret); err == nil {
		t.Fatal("a device that breaks the rules logged in")
	}
	stored, _ := svc.Get(ctx, cmnd.ID)
	if !strings.Contains(stored.LoginProblem, "cmnd") {
		t.Fatalf("login problem = %q, want the reason", stored.LoginProblem)
	}
	if err := start(good, goodSecret); err != nil {
		t.Fatalf("a good device refused: %v", err)
	}
}

// TestZigbee2MQTTBridge connects exactly as Zigbee2MQTT does: one login for
// all its devices, a Last Will on <base>/bridge/state, a subscription to
// <base>/#, retained bridge topics, friendly names with '/' and spaces, both
// availability formats, a jammed lock, a device it cannot reach, and its
// death. On the embedded broker, and on Mosquitto with RELAIS_TEST_MQTT_URL.
func TestZigbee2MQTTBridge(t *testing.T) {
	t.Parallel()
	for _, legacy := range []bool{false, true} {
		t.Run(map[bool]string{false: "2.x", true: "1.x"}[legacy], func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r := newRig(t, false)
			base := "zigbee2mqtt/" + uniqueAddress(devices.ProtocolZigbee)
			b, secret, err := r.svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: r.f.site, Name: "Zigbee", Protocol: devices.ProtocolZigbee, Address: base})
			if err != nil {
				t.Fatal(err)
			}
			add := func(in devices.NewDevice) *devices.Device {
				in.SiteID, in.BridgeID, in.Name = r.f.site, &b.ID, in.Address
				if in.Kind == "" {
					in.Kind = devices.KindLock
				}
				d, _, err := r.svc.Create(ctx, operator, in)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			front := add(devices.NewDevice{Address: "front door/lock"})
			back := add(devices.NewDevice{Address: "back"})
			plug := add(devices.NewDevice{Address: "laser plug", Kind: devices.KindRelay, ResourceID: &r.f.machine})
			// Never seen: refused at once, nothing waits 15 s.
			if _, err := r.svc.Send(ctx, front, devices.Command{Action: devices.ActionUnlock}); !errors.Is(err, devices.ErrOffline) {
				t.Fatalf("before the bridge connected: %v, want ErrOffline", err)
			}

			cfg := devicesim.ForBridge(b, secret, r.env.DeviceURL, front, back, plug)
			cfg.Legacy, cfg.Availability, cfg.Logger = legacy, true, mqtttest.Quiet()
			sim, err := devicesim.Start(ctx, cfg)
			if err != nil {
				t.Fatalf("a Zigbee2MQTT bridge could not log in: %v", err)
			}
			t.Cleanup(sim.Close)
			for _, d := range []*devices.Device{front, back, plug} {
				r.waitOnline(d, true)
			}
			eventually(t, "devices stored online", func() bool {
				got, _ := r.svc.Get(ctx, back.ID)
				br, _ := r.svc.GetBridge(ctx, b.ID)
				return got.Online && br.Online
			})

			// A lock behind the bridge opens; a plug switches on with its
			// on_time, and off by itself when it lapses.
			if _, err := r.svc.Send(ctx, front, devices.Command{Action: devices.ActionUnlock}); err != nil {
				t.Fatalf("unlock: %v", err)
			}
			if _, err := r.svc.Send(ctx, plug, devices.Command{Action: devices.ActionPowerOn, Duration: 300 * time.Millisecond}); err != nil {
				t.Fatalf("power on: %v", err)
			}
			eventually(t, "the plug's on_time lapses", func() bool {
				acts := sim.Actions()
				return len(acts) == 3 && acts[2].Auto && acts[1].Duration == 300*time.Millisecond
			})

			// A jammed bolt reads state UNLOCK: it is a failure, not a confirmation.
			sim.SetFaults(devicesim.Faults{Jammed: true})
			if _, err := r.svc.Send(ctx, back, devices.Command{Action: devices.ActionUnlock}); !errors.Is(err, devices.ErrJammed) {
				t.Fatalf("jammed unlock: %v, want ErrJammed", err)
			}
			// A device the bridge cannot reach fails as soon as it says so.
			sim.SetFaults(devicesim.Faults{Unreachable: true})
			started := time.Now()
			_, err = r.svc.Send(ctx, back, devices.Command{Action: devices.ActionLock, Timeout: 10 * time.Second})
			if !errors.Is(err, devices.ErrRejected) || errors.Is(err, devices.ErrTimeout) || !strings.Contains(err.Error(), "MAC_NO_ACK") {
				t.Fatalf("unreachable device: %v, want its bridge's failure", err)
			}
			if time.Since(started) > 9*time.Second {
				t.Fatal("the bridge's failure was not read: the command waited for its timeout")
			}
			sim.SetFaults(devicesim.Faults{})

			// Its own availability (an option) takes one device offline.
			sim.SetAvailability("back", false)
			r.waitOnline(back, false)
			if _, err := r.svc.Send(ctx, back, devices.Command{Action: devices.ActionUnlock}); !errors.Is(err, devices.ErrOffline) {
				t.Fatalf("unavailable device: %v, want ErrOffline", err)
			}
			if on, _ := r.svc.Online(front); !on {
				t.Fatal("another device of the bridge went offline with it")
			}
			sim.SetAvailability("back", true)
			r.waitOnline(back, true)

			// The bridge dies: only bridge/state changes (its Last Will);
			// every device behind it is offline at once.
			sim.SetMode(devicesim.Offline, 0)
			for _, d := range []*devices.Device{front, back, plug} {
				r.waitOnline(d, false)
			}
			started = time.Now()
			if _, err := r.svc.Send(ctx, front, devices.Command{Action: devices.ActionUnlock}); !errors.Is(err, devices.ErrOffline) {
				t.Fatalf("behind a dead bridge: %v, want ErrOffline", err)
			}
			eventually(t, "devices stored offline", func() bool {
				got, _ := r.svc.Get(ctx, front.ID)
				return !got.Online
			})
			sim.SetMode(devicesim.Normal, 0)
			r.waitOnline(front, true)
			if _, err := r.svc.Send(ctx, front, devices.Command{Action: devices.ActionLock}); err != nil {
				t.Fatalf("after the bridge came back: %v", err)
			}
		})
	}
}

// TestSeveralLevelsAndBridges: a Shelly whose topic_prefix has several
// levels (the fixed +/online subscription does not reach it) and a Tasmota
// bridge with two relays are heard and commanded, on both brokers.
func TestSeveralLevelsAndBridges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRig(t, false)
	prefix := "shellies-" + id.Secret(6) + "/office"
	sh, shSecret, err := r.svc.Create(ctx, operator, devices.NewDevice{SiteID: r.f.site, Kind: devices.KindLock, Name: "Bureau", Protocol: devices.ProtocolShelly, Address: prefix})
	if err != nil {
		t.Fatal(err)
	}
	cfg := devicesim.ForDevice(sh, shSecret, r.env.DeviceURL)
	cfg.Logger = mqtttest.Quiet()
	shSim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(shSim.Close)
	r.waitOnline(sh, true)
	if _, err := r.svc.Send(ctx, sh, devices.Command{Action: devices.ActionUnlock}); err != nil {
		t.Fatalf("unlock a Shelly at %s: %v", prefix, err)
	}

	tb, tbSecret, err := r.svc.CreateBridge(ctx, operator, devices.NewBridge{SiteID: r.f.site, Name: "4CH", Protocol: devices.ProtocolTasmota, Address: uniqueAddress(devices.ProtocolTasmota)})
	if err != nil {
		t.Fatal(err)
	}
	var relays []*devices.Device
	for ch := 1; ch <= 2; ch++ {
		d, _, err := r.svc.Create(ctx, operator, devices.NewDevice{SiteID: r.f.site, BridgeID: &tb.ID, Kind: devices.KindRelay, Name: "R", ResourceID: &r.f.machine, Channel: ch})
		if err != nil {
			t.Fatal(err)
		}
		relays = append(relays, d)
	}
	cfg = devicesim.ForBridge(tb, tbSecret, r.env.DeviceURL, relays...)
	cfg.Logger = mqtttest.Quiet()
	tSim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tSim.Close)
	for _, d := range relays {
		r.waitOnline(d, true)
		if _, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionPowerOn, Duration: time.Minute}); err != nil {
			t.Fatalf("relay %d: %v", d.Channel, err)
		}
	}
	// The simulator records a command after answering it, so Send may
	// return just before the record.
	eventually(t, "the bridge received POWER1 and POWER2", func() bool {
		var topics []string
		for _, rec := range tSim.Received() {
			topics = append(topics, rec.Topic)
		}
		joined := strings.Join(topics, " ")
		return strings.Contains(joined, "/POWER1") && strings.Contains(joined, "/POWER2")
	})
}
