package devices_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/id"
)

// TestPresenceStorm: a storm of connects and abrupt disconnects, many times
// more presence messages than any queue would hold, ends with the API (List,
// read from the database) showing online exactly the devices that are
// connected, and the in-memory presence agreeing. It waits for the state to
// settle (eventual consistency), it does not time it.
func TestPresenceStorm(t *testing.T) {
	// 3,000 devices make several times more presence messages than the
	// 1,024-event queue relais had. On an external broker the broker's own
	// queue for relais's subscription bounds a burst instead: Mosquitto
	// drops messages beyond max_queued_messages (1,000 by default, see the
	// README), which no writer in relais can bring back; the test's broker
	// keeps its defaults, so bursts stay under it there.
	n := 3000
	if mqtttest.ExternalURL() != "" {
		n = 800
	}
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	// The locks are inserted as Create would register them, in a few
	// statements: 3,000 Creates would take most of the test's time.
	locks := make([]*devices.Device, n)
	secrets := make([]string, n)
	rows := make([]devices.Device, n)
	now := time.Now().UTC()
	for i := range rows {
		address := uniqueAddress(devices.ProtocolRelais)
		secrets[i] = "rds_" + id.Secret(32)
		sum := sha256.Sum256([]byte(secrets[i]))
		d := devices.Device{ID: id.New(), SiteID: f.site, Kind: devices.KindLock, Name: "lock", Protocol: devices.ProtocolRelais,
			Address: address, PulseSeconds: devices.DefaultPulseSeconds, TopicRoot: "relais/" + f.site + "/" + address,
			SecretHash: hex.EncodeToString(sum[:]), CreatedAt: now, UpdatedAt: now}
		d.Username = "dev-" + d.ID
		rows[i] = d
		locks[i] = &rows[i]
	}
	for chunk := range slices.Chunk(rows, 500) {
		if _, err := bdb.NewInsert().Model(&chunk).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	env := mqtttest.Start(t, svc)
	addr := strings.TrimPrefix(env.DeviceURL, "tcp://")
	if mqtttest.ExternalURL() != "" {
		// Retained presence outlives the test on a shared broker: clear it.
		t.Cleanup(func() { clearRetained(t, addr, locks) })
	}

	// The last presence payload the broker delivered per device, seen on a
	// subscription of the test's own: a device closed in one round must
	// have had its Last Will published before it reconnects in a later one,
	// or the broker could deliver the old connection's Will after the new
	// connection's "online" (a race of the test, not of relais).
	var mu sync.Mutex
	lastSeen := map[string]string{}
	if err := env.Transport.Subscribe("relais/"+f.site+"/+/status", func(m devices.Message) {
		mu.Lock()
		lastSeen[m.Topic] = string(m.Payload)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	seen := func(i int, payload string) bool {
		topic, _, _ := devices.PresenceTopic(locks[i])
		mu.Lock()
		defer mu.Unlock()
		return lastSeen[topic] == payload
	}

	conns := make([]*mqtttest.Raw, n)
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	// connect logs devices in as a real one does: its Last Will (retained
	// offline), then its retained online presence. Connections come from 50
	// loopback addresses: the embedded broker caps them per address.
	var gen int
	connect := func(idx []int) {
		t.Helper()
		gen++
		var wg sync.WaitGroup
		errs := make(chan error, len(idx))
		next := make(chan int)
		for range 8 {
			wg.Go(func() {
				for i := range next {
					d := locks[i]
					c, err := mqtttest.DialRaw(addr, fmt.Sprintf("127.0.1.%d", 1+i%50))
					if err != nil {
						errs <- err
						continue
					}
					conns[i] = c
					topic, online, offline := devices.PresenceTopic(d)
					// A client id per connection: a new one never takes over an old one.
					clientID := fmt.Sprintf("%s-%d", d.Username, gen)
					if err := c.Connect(clientID, d.Username, secrets[i], 0, &mqtttest.Will{Topic: topic, Payload: offline, Retain: true}); err != nil {
						errs <- fmt.Errorf("connect %s: %w", d.Username, err)
						continue
					}
					if err := c.Publish(topic, online, true); err != nil {
						errs <- err
					}
				}
			})
		}
		for _, i := range idx {
			next <- i
		}
		close(next)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	// drop closes connections without DISCONNECT: the broker publishes
	// their Last Will, as when a device loses power.
	drop := func(idx []int) {
		for _, i := range idx {
			conns[i].Close()
			conns[i] = nil
		}
	}

	rng := rand.New(rand.NewPCG(12, 2026))
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	connect(all)
	connected := map[int]bool{}
	for _, i := range all {
		connected[i] = true
	}
	for round := range 4 {
		// Reconnect some of those dropped in earlier rounds (their Will is
		// out), then drop a random third of those connected.
		var back, down []int
		for i := range n {
			if !connected[i] && rng.IntN(2) == 0 {
				back = append(back, i)
			}
		}
		// Only a device whose Will is out reconnects; the others drop
		// without waiting, so the rounds come as one storm.
		for _, i := range back {
			eventuallyWithin(t, 2*time.Minute, fmt.Sprintf("round %d: the Will of lock %d published", round, i),
				func() bool { return seen(i, "offline") })
		}
		connect(back)
		for _, i := range back {
			connected[i] = true
		}
		for i := range n {
			if connected[i] && rng.IntN(3) == 0 {
				down = append(down, i)
			}
		}
		drop(down)
		for _, i := range down {
			connected[i] = false
		}
	}

	want := 0
	for i := range n {
		if connected[i] {
			want++
		}
	}
	t.Logf("%d locks, %d connected at the end", n, want)
	// The database settles on exactly the connected devices.
	var mismatch string
	eventuallyWithin(t, 2*time.Minute, "the devices shown online are exactly the connected ones", func() bool {
		ds, err := svc.List(ctx, f.site)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]bool{}
		for _, d := range ds {
			byID[d.ID] = d.Online
		}
		wrong := 0
		mismatch = ""
		for i, d := range locks {
			if byID[d.ID] != connected[i] {
				wrong++
				mismatch = fmt.Sprintf("%d shown wrong, e.g. lock %d online=%v, connected=%v", wrong, i, byID[d.ID], connected[i])
			}
		}
		return wrong == 0
	}, func() string { return mismatch })
	for i, d := range locks {
		if on, known := svc.Online(d); !known || on != connected[i] {
			t.Errorf("lock %d: in memory online=%v (known %v), connected=%v", i, on, known, connected[i])
		}
		if got, err := svc.Get(ctx, d.ID); err != nil || got.Online != connected[i] {
			t.Errorf("lock %d: Get online=%v (%v), connected=%v", i, got != nil && got.Online, err, connected[i])
		}
	}
}

// eventuallyWithin polls cond until it holds, failing after the deadline
// given (a generous one: the condition never came, it was not slow); why,
// when given, says what was last wrong.
func eventuallyWithin(t testing.TB, within time.Duration, what string, cond func() bool, why ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, w := range why {
				msg += ": " + w()
			}
			t.Fatalf("%s: never happened%s", what, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clearRetained removes the devices' retained presence from an external
// broker (anonymous clients allowed, as in the tests' Mosquitto).
func clearRetained(t testing.TB, addr string, ds []*devices.Device) {
	c, err := mqtttest.DialRaw(addr, "")
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	if err := c.Connect("relais-test-clear", "", "", 0, nil); err != nil {
		t.Error(err)
		return
	}
	for _, d := range ds {
		topic, _, _ := devices.PresenceTopic(d)
		if err := c.Publish(topic, nil, true); err != nil {
			t.Error(err)
			return
		}
	}
	if err := c.Pings(1); err == nil {
		_, _ = c.ReadPacket(packets.Pingresp) //: the broker read every publish before
	}
}
