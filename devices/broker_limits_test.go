package devices_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// The limits tests always run on the embedded broker: they test its own
// defences. Hostile clients connect from other loopback addresses than
// 127.0.0.1 (Linux routes all of 127/8 to the loopback interface), so that
// each attack has an address of its own.

// limitRig is a rig whose embedded broker has the limits given.
type limitRig struct {
	*rig
	addr string // the broker's TCP listener
}

// newLimitRig starts a service and its broker on bdb, whose site is f's.
func newLimitRig(t *testing.T, bdb *bun.DB, f fixture, cfg devices.BrokerConfig) *limitRig {
	t.Helper()
	r := &rig{t: t, db: bdb, f: f}
	r.svc = devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	r.env = mqtttest.StartEmbeddedWith(t, r.svc, cfg)
	return &limitRig{rig: r, addr: r.env.Broker.Addr()}
}

// dial opens a Raw connection from the loopback address from.
func (r *limitRig) dial(from string) *mqtttest.Raw {
	r.t.Helper()
	c, err := mqtttest.DialRaw(r.addr, from)
	if err != nil {
		r.t.Fatalf("dial from %s: %v", from, err)
	}
	r.t.Cleanup(func() { c.Close() })
	return c
}

// login registers a Tasmota relay (it may read cmnd/<address>/# and write
// stat/<address>/#) and logs it in from the address given.
func (r *limitRig) login(from string) (*devices.Device, *mqtttest.Raw) {
	r.t.Helper()
	d, secret := r.register(devices.ProtocolTasmota, devices.KindRelay)
	c := r.dial(from)
	if err := c.Connect(d.Username, d.Username, secret, 60, nil); err != nil {
		r.t.Fatalf("login of a registered device from %s: %v", from, err)
	}
	return d, c
}

// closed asserts the broker closes c, now or soon: a connection it kept
// would be still open after 10 s (a failure, not a slow broker).
func closed(t *testing.T, c *mqtttest.Raw, what string) {
	t.Helper()
	if err := c.WaitClosed(10 * time.Second); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// counted waits until the broker's metric name{reason} reaches want.
func (r *limitRig) counted(name, reason string, want float64) {
	r.t.Helper()
	var got float64
	eventually(r.t, fmt.Sprintf("%s{reason=%q} = %v (got %v)", name, reason, want, got), func() bool {
		got = counter(r.t, r.svc, name, map[string]string{"reason": reason})
		return got == want
	})
}

const (
	disconnects = "relais_mqtt_disconnects_total"
	refused     = "relais_mqtt_connections_refused_total"
)

// TestBrokerLimits: each attack of issue 11 on its own, against a broker
// with small limits. The client is cut off (or refused), the metric counts
// it under its reason, and what stays within the limits still works.
func TestBrokerLimits(t *testing.T) {
	t.Parallel()
	cert, _ := selfSigned(t)
	// One database for all the cases, each with its own service and broker.
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	tests := []struct {
		name   string
		limits devices.BrokerLimits
		tls    bool
		attack func(t *testing.T, r *limitRig)
	}{
		{name: "CONNECT announcing 256 MB", attack: func(t *testing.T, r *limitRig) {
			c := r.dial("127.0.0.2")
			if err := c.Announce(packets.Connect, 256<<20-1); err != nil {
				t.Fatal(err)
			}
			// The broker must not read on: it refuses the header.
			if n, err := c.Stream(32 << 20); err == nil {
				t.Fatalf("the broker read %d bytes of a CONNECT announcing 256 MB", n)
			}
			r.counted(disconnects, "packet_too_large", 1)
		}},
		{name: "CONNECT of 5 KiB", attack: func(t *testing.T, r *limitRig) {
			// Larger than any device's CONNECT, far below MaxPacketSize.
			c := r.dial("127.0.0.2")
			if err := c.Announce(packets.Connect, 5<<10); err != nil {
				t.Fatal(err)
			}
			closed(t, c, "a 5 KiB CONNECT")
			r.counted(disconnects, "packet_too_large", 1)
		}},
		{name: "idle socket that never sends CONNECT", limits: devices.BrokerLimits{ConnectTimeout: 300 * time.Millisecond}, attack: func(t *testing.T, r *limitRig) {
			closed(t, r.dial("127.0.0.2"), "a silent connection")
			r.counted(disconnects, "connect_timeout", 1)
		}},
		{name: "idle socket on the TLS listener", limits: devices.BrokerLimits{ConnectTimeout: 300 * time.Millisecond}, tls: true, attack: func(t *testing.T, r *limitRig) {
			c, err := mqtttest.DialRaw(r.env.Broker.TLSAddr(), "127.0.0.2")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			closed(t, c, "a connection that never starts its TLS handshake")
			r.counted(disconnects, "connect_timeout", 1)
		}},
		{name: "CONNECT sent a byte at a time", limits: devices.BrokerLimits{ConnectTimeout: 300 * time.Millisecond}, attack: func(t *testing.T, r *limitRig) {
			// The deadline holds for the whole CONNECT, however steadily
			// its bytes trickle in, even with good credentials.
			d, secret := r.register(devices.ProtocolTasmota, devices.KindRelay)
			connect := mqtttest.ConnectPacket(d.Username, d.Username, secret, 60, nil)
			c := r.dial("127.0.0.2")
			for _, x := range connect {
				if _, err := c.Write([]byte{x}); err != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := c.ReadPacket(packets.Connack); err == nil {
				t.Fatal("a CONNECT that took longer than the deadline was answered")
			}
			r.counted(disconnects, "connect_timeout", 1)
		}},
		{name: "connections from one address beyond the cap", limits: devices.BrokerLimits{MaxConnsPerAddress: 4, ConnectTimeout: time.Minute}, attack: func(t *testing.T, r *limitRig) {
			var held []*mqtttest.Raw
			for range 4 {
				held = append(held, r.dial("127.0.0.2"))
			}
			for i := range 3 {
				closed(t, r.dial("127.0.0.2"), fmt.Sprintf("connection %d from an address holding 4", 5+i))
			}
			r.counted(refused, "per_address", 3)
			// Another address is not affected.
			r.login("127.0.0.3")
			// A place given back is taken again.
			held[0].Close()
			eventually(t, "a login from 127.0.0.2 once a place is free", func() bool {
				d, secret := r.register(devices.ProtocolTasmota, devices.KindRelay)
				c, err := mqtttest.DialRaw(r.addr, "127.0.0.2")
				if err != nil {
					return false
				}
				defer c.Close()
				return c.Connect(d.Username, d.Username, secret, 60, nil) == nil
			})
		}},
		{name: "connections beyond the total cap", limits: devices.BrokerLimits{MaxConnsPerAddress: 4, MaxConns: 6, ConnectTimeout: time.Minute}, attack: func(t *testing.T, r *limitRig) {
			for range 4 {
				r.dial("127.0.0.2")
			}
			r.dial("127.0.0.3")
			r.dial("127.0.0.3")
			closed(t, r.dial("127.0.0.4"), "a seventh connection with room for six")
			r.counted(refused, "total", 1)
			r.counted(refused, "per_address", 0)
		}},
		{name: "device publishing a 60 MB packet", limits: devices.BrokerLimits{MaxPacketSize: 64 << 10}, attack: func(t *testing.T, r *limitRig) {
			d, c := r.login("127.0.0.2")
			// A large message within the limit goes through.
			topic := "stat/" + d.Address + "/RESULT"
			w := watch(t, r.env.Transport, topic)
			big := strings.Repeat("x", 60<<10)
			if err := c.Publish(topic, []byte(big), false); err != nil {
				t.Fatal(err)
			}
			eventually(t, "a 60 KiB message delivered", func() bool { return w.has(topic + " " + big) })
			if err := c.Announce(packets.Publish, 60<<20); err != nil {
				t.Fatal(err)
			}
			if n, err := c.Stream(60 << 20); err == nil {
				t.Fatalf("the broker read %d bytes of a 60 MB PUBLISH", n)
			}
			r.counted(disconnects, "packet_too_large", 1)
		}},
		{name: "device subscribing 1,000 times", limits: devices.BrokerLimits{MaxSubscriptions: 8}, attack: func(t *testing.T, r *limitRig) {
			d, c := r.login("127.0.0.2")
			// The same filter again and again is one subscription.
			for i := range 20 {
				if _, err := c.Subscribe(uint16(1+i), "cmnd/"+d.Address+"/POWER1"); err != nil {
					t.Fatalf("subscribing to the same filter a %dth time: %v", i+1, err)
				}
			}
			granted := 1
			var err error
			for i := 2; i <= 1000 && err == nil; i++ {
				if _, err = c.Subscribe(uint16(100+i), fmt.Sprintf("cmnd/%s/x%d", d.Address, i)); err == nil {
					granted++
				}
			}
			if err == nil || granted != 8 {
				t.Fatalf("%d subscriptions granted, then %v; want 8, then the connection closed", granted, err)
			}
			r.counted(disconnects, "too_many_subscriptions", 1)
		}},
		{name: "device asking for 1,000 filters at once", limits: devices.BrokerLimits{MaxSubscriptions: 8}, attack: func(t *testing.T, r *limitRig) {
			d, c := r.login("127.0.0.2")
			filters := make([]string, 1000)
			for i := range filters {
				filters[i] = fmt.Sprintf("cmnd/%s/x%d", d.Address, i)
			}
			if _, err := c.Subscribe(1, filters...); err == nil {
				t.Fatal("a SUBSCRIBE of 1,000 filters was answered")
			}
			r.counted(disconnects, "too_many_subscriptions", 1)
		}},
		{name: "device leaving QoS 2 messages unreleased", limits: devices.BrokerLimits{MaxInflight: 16}, attack: func(t *testing.T, r *limitRig) {
			d, c := r.login("127.0.0.2")
			topic := "stat/" + d.Address + "/RESULT"
			// QoS 1 messages are acknowledged at once and never pile up.
			for i := range 100 {
				if err := c.PublishQoS(topic, []byte("{}"), false, 1, uint16(1+i)); err != nil {
					t.Fatal(err)
				}
				if _, err := c.ReadPacket(packets.Puback); err != nil {
					t.Fatalf("QoS 1 message %d: %v", i+1, err)
				}
			}
			// QoS 2 messages wait for a PUBREL that never comes.
			for i := range 17 {
				if err := c.PublishQoS(topic, []byte("{}"), false, 2, uint16(1000+i)); err != nil {
					break
				}
			}
			closed(t, c, "17 QoS 2 messages unreleased with room for 16")
			r.counted(disconnects, "too_many_inflight", 1)
		}},
		{name: "device flooding the broker with packets", limits: devices.BrokerLimits{PacketRate: 20}, attack: func(t *testing.T, r *limitRig) {
			// A burst of ten seconds' worth (200) passes at once; the rest
			// waits its turn, and the client is served, not cut off. The
			// broker reads 240 pings far faster than the 2 s the last 40
			// must wait for, even under the race detector.
			_, c := r.login("127.0.0.2")
			if err := c.Pings(240); err != nil {
				t.Fatal(err)
			}
			for i := range 240 {
				if _, err := c.ReadPacket(packets.Pingresp); err != nil {
					t.Fatalf("PINGRESP %d: %v", i+1, err)
				}
			}
			if n := counter(t, r.svc, "relais_mqtt_packets_throttled_total", nil); n < 1 {
				t.Fatalf("relais_mqtt_packets_throttled_total = %v after 240 packets at once with a rate of 20/s", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := devices.BrokerConfig{Limits: tt.limits}
			if tt.tls {
				cfg.TLSListen = "127.0.0.1:0"
				cfg.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			tt.attack(t, newLimitRig(t, bdb, f, cfg))
		})
	}
}

// TestBrokerFlood: the attacks of issue 11 all at once — clients announcing
// 256 MB CONNECTs and streaming, sockets that never send a CONNECT, a
// hundred connections from one address, a device publishing a 60 MB packet,
// one subscribing 1,000 times, one leaving QoS 2 messages unreleased, one
// flooding the broker with packets — while a device that behaves keeps
// carrying out commands and another logs in. Every hostile connection is
// closed and counted, and the process's memory stays bounded: the heap
// grows by less than 64 MiB and the RSS by less than 256 MiB at the peak,
// where the broker without limits allocates 2 GiB for the CONNECTs alone.
// Not parallel: the memory it measures is the whole process's.
func TestBrokerFlood(t *testing.T) {
	bdb := dbtest.New(t)
	r := newLimitRig(t, bdb, newFixture(t, bdb), devices.BrokerConfig{Limits: devices.BrokerLimits{
		MaxPacketSize: 64 << 10, ConnectTimeout: time.Second, MaxConnsPerAddress: 16, MaxConns: 2000,
		MaxSubscriptions: 8, MaxInflight: 16, PacketRate: 1000}})
	ctx := context.Background()
	lock, _ := r.sim(devices.ProtocolRelais, devices.KindLock)
	late, lateSecret := r.register(devices.ProtocolRelais, devices.KindLock)
	type cred struct {
		d      *devices.Device
		secret string
	}
	var hostile [4]cred
	for i := range hostile {
		hostile[i].d, hostile[i].secret = r.register(devices.ProtocolTasmota, devices.KindRelay)
	}

	base := settledMemory(t)
	var peak memory
	var sampling sync.WaitGroup
	stopSampling := make(chan struct{})
	sampling.Go(func() {
		for {
			m := readMemory(t)
			peak = memory{heap: max(peak.heap, m.heap), stacks: max(peak.stacks, m.stacks), rss: max(peak.rss, m.rss), goroutines: max(peak.goroutines, m.goroutines)}
			select {
			case <-stopSampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})

	var flood sync.WaitGroup
	dial := func(from string) *mqtttest.Raw {
		c, err := mqtttest.DialRaw(r.addr, from)
		if err != nil {
			t.Errorf("dial from %s: %v", from, err)
			return nil
		}
		return c
	}
	// Each hostile connection must end closed by the broker.
	mustClose := func(c *mqtttest.Raw, what string) {
		if err := c.WaitClosed(20 * time.Second); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		c.Close()
	}
	for i := range 8 {
		flood.Go(func() {
			c := dial(fmt.Sprintf("127.0.2.%d", 1+i))
			if c == nil {
				return
			}
			defer c.Close()
			if err := c.Announce(packets.Connect, 256<<20-1); err != nil {
				return // already cut off
			}
			if n, err := c.Stream(32 << 20); err == nil {
				t.Errorf("the broker read %d bytes of a CONNECT announcing 256 MB", n)
			}
		})
	}
	for i := range 300 {
		flood.Go(func() {
			if c := dial(fmt.Sprintf("127.0.3.%d", 1+i%20)); c != nil {
				mustClose(c, "a connection that never sends CONNECT")
			}
		})
	}
	for range 100 {
		flood.Go(func() {
			if c := dial("127.0.4.1"); c != nil {
				mustClose(c, "one of 100 connections from one address")
			}
		})
	}
	login := func(h cred) *mqtttest.Raw {
		c := dial("127.0.5.1")
		if c == nil {
			return nil
		}
		if err := c.Connect(h.d.Username, h.d.Username, h.secret, 60, nil); err != nil {
			t.Errorf("hostile device's login: %v", err)
			c.Close()
			return nil
		}
		return c
	}
	flood.Go(func() {
		if c := login(hostile[0]); c != nil {
			defer c.Close()
			if c.Announce(packets.Publish, 60<<20) == nil {
				if n, err := c.Stream(60 << 20); err == nil {
					t.Errorf("the broker read %d bytes of a 60 MB PUBLISH", n)
				}
			}
		}
	})
	flood.Go(func() {
		if c := login(hostile[1]); c != nil {
			for i := range 1000 {
				if _, err := c.Subscribe(uint16(1+i), fmt.Sprintf("cmnd/%s/x%d", hostile[1].d.Address, i)); err != nil {
					break
				}
			}
			mustClose(c, "a device subscribing 1,000 times")
		}
	})
	flood.Go(func() {
		if c := login(hostile[2]); c != nil {
			for i := range 17 {
				if c.PublishQoS("stat/"+hostile[2].d.Address+"/RESULT", []byte("{}"), false, 2, uint16(1+i)) != nil {
					break
				}
			}
			mustClose(c, "a device leaving 17 QoS 2 messages unreleased")
		}
	})
	flood.Go(func() {
		if c := login(hostile[3]); c != nil {
			defer c.Close()
			if c.Pings(11000) != nil {
				t.Error("a device flooding the broker was cut off")
			}
		}
	})
	flooding := make(chan struct{})
	go func() { flood.Wait(); close(flooding) }()

	// Meanwhile the lock carries out every command sent to it, and a lock
	// that logs in during the flood is served too.
	cfg := devicesim.ForDevice(late, lateSecret, r.env.DeviceURL)
	cfg.Logger = mqtttest.Quiet()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("a lock logging in during the flood: %v", err)
	}
	defer sim.Close()
	r.waitOnline(late, true)
	commands := 0
	for done := false; !done; {
		select {
		case <-flooding:
			done = true
		default:
		}
		for _, d := range []*devices.Device{lock, late} {
			if _, err := r.svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock, Duration: time.Second}); err != nil {
				t.Fatalf("command %d during the flood: %v", commands+1, err)
			}
			commands++
		}
	}
	close(stopSampling)
	sampling.Wait()

	for reason, atLeast := range map[string]float64{"packet_too_large": 9, "connect_timeout": 300, "too_many_subscriptions": 1, "too_many_inflight": 1} {
		if n := counter(t, r.svc, disconnects, map[string]string{"reason": reason}); n < atLeast {
			t.Errorf("%s{reason=%q} = %v, want at least %v", disconnects, reason, n, atLeast)
		}
	}
	if n := counter(t, r.svc, refused, map[string]string{"reason": "per_address"}); n < 1 {
		t.Errorf("%s{reason=\"per_address\"} = %v after 100 connections from one address allowing 16", refused, n)
	}
	const MiB = 1 << 20
	t.Logf("%d commands during the flood; peak over the start: heap %+.1f MiB, stacks %+.1f MiB, RSS %+.1f MiB, %+d goroutines",
		commands, (float64(peak.heap)-float64(base.heap))/MiB, (float64(peak.stacks)-float64(base.stacks))/MiB,
		(float64(peak.rss)-float64(base.rss))/MiB, int64(peak.goroutines)-int64(base.goroutines))
	if peak.heap > base.heap+64*MiB {
		t.Errorf("heap grew by %d MiB during the flood, want under 64", (peak.heap-base.heap)/MiB)
	}
	if peak.rss > base.rss+256*MiB {
		t.Errorf("RSS grew by %d MiB during the flood, want under 256", (peak.rss-base.rss)/MiB)
	}
}

// TestBrokerCloseWithSilentConnection: closing the broker does not wait for
// a connection that never sent its CONNECT (mochi waits for every
// connection it was handed, and such a one never ends by itself).
func TestBrokerCloseWithSilentConnection(t *testing.T) {
	t.Parallel()
	svc := devices.New(nil, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	b, err := devices.NewBroker(devices.BrokerConfig{Listen: "127.0.0.1:0", Logger: mqtttest.Quiet(),
		Limits: devices.BrokerLimits{ConnectTimeout: time.Hour}}, svc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mqtttest.DialRaw(b.Addr(), "127.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The broker has the connection once its count shows it.
	eventually(t, "the connection accepted", func() bool {
		return counter(t, svc, "relais_mqtt_connections", nil) == 1
	})
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Broker.Close still waiting after 10 s for a connection that never sent CONNECT")
	}
	if err := c.WaitClosed(10 * time.Second); err != nil {
		t.Fatalf("the silent connection after Close: %v", err)
	}
}
