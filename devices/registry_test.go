package devices_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

func ptr[T any](v T) *T { return &v }

func TestCreateGetListUpdateRetire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})

	d, secret, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: " Entrée ",
		Protocol: devices.ProtocolRelais, Address: "entree"})
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || d.SecretHash == "" || d.SecretHash == secret || d.Username != "dev-"+d.ID {
		t.Fatalf("credentials: username %q secret %q hash %q", d.Username, secret, d.SecretHash)
	}
	if d.Name != "Entrée" || d.PulseSeconds != devices.DefaultPulseSeconds || d.Online {
		t.Fatalf("created = %+v", d)
	}
	got, err := svc.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretHash != d.SecretHash || got.Address != "entree" || got.ResourceID != nil {
		t.Fatalf("stored = %+v", got)
	}
	if _, err := svc.Authenticate(ctx, d.Username, secret); err != nil {
		t.Fatalf("authenticate with the secret: %v", err)
	}
	if _, err := svc.Authenticate(ctx, d.Username, secret+"x"); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("wrong secret: %v", err)
	}

	relay, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindRelay, Name: "Laser",
		ResourceID: &f.machine, Protocol: devices.ProtocolTasmota, Address: "tasmota_ABC123", Channel: 1})
	if err != nil {
		t.Fatal(err)
	}
	list, err := svc.List(ctx, f.site)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != d.ID || list[1].ID != relay.ID {
		t.Fatalf("list = %+v", list)
	}

	up, err := svc.Update(ctx, operator, d.ID, devices.DevicePatch{Name: ptr("Porte"), PulseSeconds: ptr(8)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Get(ctx, d.ID)
	if up.Name != "Porte" || got.Name != "Porte" || got.PulseSeconds != 8 || got.Address != "entree" {
		t.Fatalf("after update = %+v", got)
	}

	newSecret, err := svc.RotateSecret(ctx, operator, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, d.Username, secret); err == nil {
		t.Fatal("the old secret still works after rotation")
	}
	if _, err := svc.Authenticate(ctx, d.Username, newSecret); err != nil {
		t.Fatalf("new secret: %v", err)
	}

	if err := svc.Retire(ctx, operator, d.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Retire(ctx, operator, d.ID); err != nil {
		t.Fatalf("retiring twice: %v", err)
	}
	if _, err := svc.Authenticate(ctx, d.Username, newSecret); err == nil {
		t.Fatal("a retired device can still log in")
	}
	if _, err := svc.Update(ctx, operator, d.ID, devices.DevicePatch{Name: ptr("x")}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("update retired: %v", err)
	}
	if _, err := svc.RotateSecret(ctx, operator, d.ID); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("rotate retired: %v", err)
	}
	list, _ = svc.List(ctx, f.site)
	if len(list) != 1 || list[0].ID != relay.ID {
		t.Fatalf("list after retire = %+v", list)
	}
	// The retired device's address is free for its replacement.
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "Entrée 2",
		Protocol: devices.ProtocolRelais, Address: "entree"}); err != nil {
		t.Fatalf("reuse a retired address: %v", err)
	}
}

func shellyAt(addr string) func(*devices.NewDevice) {
	return func(n *devices.NewDevice) { n.Protocol = devices.ProtocolShelly; n.Address = addr }
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	other := newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})
	valid := func() devices.NewDevice {
		return devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "Door", Protocol: devices.ProtocolRelais, Address: "door-" + id.New()[:8]}
	}
	tests := []struct {
		name   string
		change func(*devices.NewDevice)
		field  string
	}{
		{"no name", func(n *devices.NewDevice) { n.Name = "  " }, "name"},
		{"unknown kind", func(n *devices.NewDevice) { n.Kind = "camera" }, "kind"},
		{"unknown protocol", func(n *devices.NewDevice) { n.Protocol = "zwave" }, "protocol"},
		{"empty address", func(n *devices.NewDevice) { n.Address = "" }, "address"},
		{"address with a level", func(n *devices.NewDevice) { n.Address = "a/b" }, "address"},
		{"address with a wildcard", func(n *devices.NewDevice) { n.Address = "a+" }, "address"},
		{"address with a multi-level wildcard", func(n *devices.NewDevice) { n.Address = "#" }, "address"},
		{"relay without machine", func(n *devices.NewDevice) { n.Kind = devices.KindRelay }, "resource_id"},
		{"relay on a room", func(n *devices.NewDevice) { n.Kind = devices.KindRelay; n.ResourceID = &f.room }, "resource_id"},
		{"lock on a machine", func(n *devices.NewDevice) { n.ResourceID = &f.machine }, "resource_id"},
		{"resource of another site", func(n *devices.NewDevice) { n.ResourceID = &other.room }, "resource_id"},
		{"unknown resource", func(n *devices.NewDevice) { n.ResourceID = ptr(id.New()) }, "resource_id"},
		{"relais channel", func(n *devices.NewDevice) { n.Channel = 1 }, "channel"},
		{"tasmota channel", func(n *devices.NewDevice) { n.Protocol = devices.ProtocolTasmota; n.Channel = 33 }, "channel"},
		{"negative pulse", func(n *devices.NewDevice) { n.PulseSeconds = -1 }, "pulse_seconds"},
		{"zigbee without its bridge", func(n *devices.NewDevice) { n.Protocol = devices.ProtocolZigbee }, "bridge_id"},
		{"unknown bridge", func(n *devices.NewDevice) { n.BridgeID = ptr(id.New()) }, "bridge_id"},
		// The roots of other protocols and of relais itself (issue 11: a
		// Shelly called "cmnd" could command every Tasmota).
		{"shelly named cmnd", shellyAt("cmnd"), "address"},
		{"shelly named stat", shellyAt("stat"), "address"},
		{"shelly named tele", shellyAt("tele"), "address"},
		{"shelly named zigbee2mqtt", shellyAt("zigbee2mqtt"), "address"},
		{"shelly named relais", shellyAt("relais"), "address"},
		{"shelly named relais-rpc", shellyAt("relais-rpc"), "address"},
		{"shelly under cmnd", shellyAt("cmnd/tasmota_A1"), "address"},
		{"shelly under zigbee2mqtt", shellyAt("zigbee2mqtt/front"), "address"},
		{"shelly under $SYS", shellyAt("$SYS"), "address"},
		{"shelly with an empty level", shellyAt("a//b"), "address"},
		{"shelly ending with /", shellyAt("a/"), "address"},
		{"shelly with a wildcard level", shellyAt("a/+"), "address"},
		{"address with a $ level", func(n *devices.NewDevice) { n.Protocol = devices.ProtocolTasmota; n.Address = "$x" }, "address"},
		{"address with %", func(n *devices.NewDevice) { n.Protocol = devices.ProtocolTasmota; n.Address = "%topic%" }, "address"},
		{"address with a control character", func(n *devices.NewDevice) { n.Address = "a\x00b" }, "address"},
		{"tasmota with a level", func(n *devices.NewDevice) { n.Protocol = devices.ProtocolTasmota; n.Address = "a/b" }, "address"},
		{"address too long", func(n *devices.NewDevice) { n.Address = strings.Repeat("a", 65) }, "address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.change(&in)
			_, _, err := svc.Create(ctx, operator, in)
			var ve *errs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			found := false
			for _, fe := range ve.Fields {
				found = found || fe.Field == tt.field
			}
			if !found {
				t.Fatalf("fields = %+v, want %s", ve.Fields, tt.field)
			}
		})
	}
	in := valid()
	in.SiteID = id.New()
	if _, _, err := svc.Create(ctx, operator, in); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}
	if _, err := svc.Get(ctx, "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("get garbage id: %v", err)
	}
	if _, err := svc.Update(ctx, operator, id.New(), devices.DevicePatch{}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
}

// TestIdentityUnique: two devices in service may never answer on the same
// topics, even when created concurrently.
func TestIdentityUnique(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	g := newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})
	tests := []struct {
		name     string
		a, b     devices.NewDevice
		conflict bool
	}{
		{"relais same site", devices.NewDevice{SiteID: f.site, Protocol: "relais", Address: "x"}, devices.NewDevice{SiteID: f.site, Protocol: "relais", Address: "x"}, true},
		{"relais other site", devices.NewDevice{SiteID: f.site, Protocol: "relais", Address: "y"}, devices.NewDevice{SiteID: g.site, Protocol: "relais", Address: "y"}, false},
		{"tasmota other site", devices.NewDevice{SiteID: f.site, Protocol: "tasmota", Address: "t1", Channel: 1}, devices.NewDevice{SiteID: g.site, Protocol: "tasmota", Address: "t1", Channel: 1}, true},
		// Issue 11: a Tasmota of site A registered with the address of site
		// B's door, on another channel, received B's POWER ON. One Tasmota is
		// one MQTT client: its relays go behind a bridge.
		{"tasmota other channel", devices.NewDevice{SiteID: f.site, Protocol: "tasmota", Address: "t2", Channel: 1}, devices.NewDevice{SiteID: f.site, Protocol: "tasmota", Address: "t2", Channel: 2}, true},
		{"tasmota other site other channel", devices.NewDevice{SiteID: f.site, Protocol: "tasmota", Address: "t3", Channel: 1}, devices.NewDevice{SiteID: g.site, Protocol: "tasmota", Address: "t3", Channel: 0}, true},
		{"shelly other channel", devices.NewDevice{SiteID: f.site, Protocol: "shelly", Address: "s2", Channel: 0}, devices.NewDevice{SiteID: g.site, Protocol: "shelly", Address: "s2", Channel: 1}, true},
		{"shelly inside another", devices.NewDevice{SiteID: f.site, Protocol: "shelly", Address: "office"}, devices.NewDevice{SiteID: g.site, Protocol: "shelly", Address: "office/desk"}, true},
		{"shelly beside another", devices.NewDevice{SiteID: f.site, Protocol: "shelly", Address: "hall/a"}, devices.NewDevice{SiteID: g.site, Protocol: "shelly", Address: "hall/b"}, false},
		{"shelly and tasmota of one name", devices.NewDevice{SiteID: f.site, Protocol: "shelly", Address: "s1"}, devices.NewDevice{SiteID: f.site, Protocol: "tasmota", Address: "s1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs2 [2]error
			var wg sync.WaitGroup
			for i, in := range []devices.NewDevice{tt.a, tt.b} {
				in.Kind, in.Name = devices.KindLock, "d"
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, errs2[i] = svc.Create(ctx, operator, in)
				}()
			}
			wg.Wait()
			failed := 0
			for _, err := range errs2 {
				if err != nil {
					if !errors.Is(err, errs.ErrConflict) {
						t.Fatalf("unexpected error %v", err)
					}
					failed++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.conflict]; failed != want {
				t.Fatalf("%d conflicts, want %d", failed, want)
			}
		})
	}
	// Moving a device onto a taken identity is a conflict too.
	a, _, _ := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: "lock", Name: "a", Protocol: "shelly", Address: "sh-a"})
	if _, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: "lock", Name: "b", Protocol: "shelly", Address: "sh-b"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, operator, a.ID, devices.DevicePatch{Address: ptr("sh-b")}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("move onto a taken address: %v", err)
	}
}

// TestFullTopic: a Tasmota FullTopic other than the default is refused at
// registration with what to change on the device.
func TestFullTopic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}})
	for _, tt := range []struct {
		protocol  devices.Protocol
		fullTopic string
		ok        bool
	}{
		{devices.ProtocolTasmota, "%prefix%/%topic%/", true},
		{devices.ProtocolTasmota, "%prefix%/%topic%", true},
		{devices.ProtocolTasmota, "tasmota/%topic%/%prefix%/", false},
		{devices.ProtocolTasmota, "%prefix%/%hostname%/", false},
		{devices.ProtocolShelly, "%prefix%/%topic%/", true},
		{devices.ProtocolShelly, "x/%topic%", false},
	} {
		_, _, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "t", Protocol: tt.protocol,
			Address: "ft-" + id.Secret(6), FullTopic: tt.fullTopic})
		if tt.ok != (err == nil) || (!tt.ok && !slicesEq(fieldsOf(err), "full_topic")) {
			t.Errorf("%s with FullTopic %q: %v", tt.protocol, tt.fullTopic, err)
		}
	}
}
