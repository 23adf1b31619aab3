package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/latency"
)

// The unlock benchmarks measure, in one run and on one broker, the bare
// MQTT round trip (publish a relais-protocol command, the simulated lock
// acts and acknowledges) and the whole unlock: HTTP request, token check,
// entitlement decision, audit record, MQTT round trip, HTTP answer. The
// difference is what relais adds. See BENCHMARKS.md.
//
//	go test -run '^$' -bench 'Unlock' -benchtime 2000x ./api/
//	RELAIS_TEST_DATABASE_URL=… go test -run '^$' -bench 'Unlock' -benchtime 2000x ./api/

func BenchmarkUnlockEmbedded(b *testing.B) {
	benchUnlock(b, func(b *testing.B, svc *devices.Service) *mqtttest.Env { return mqtttest.StartEmbeddedForBench(b, svc) })
}

func BenchmarkUnlockMosquittoNodelay(b *testing.B) {
	benchUnlock(b, func(b *testing.B, svc *devices.Service) *mqtttest.Env {
		return mqtttest.StartOn(b, svc, mqtttest.StartMosquitto(b, true).URL)
	})
}

func benchUnlock(b *testing.B, start func(*testing.B, *devices.Service) *mqtttest.Env) {
	f := newCalendarFixture(b)
	h := f.h
	ctx := context.Background()
	anneID, anne, _ := h.member("anne@example.fr")
	f.membership(b, anneID, map[string]any{"door_access": "24_7"})
	lock := f.device(b, map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais",
		"address": "bench-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10)})
	env := start(b, h.dev)
	d, err := h.dev.Get(ctx, lock.ID)
	if err != nil {
		b.Fatal(err)
	}
	cfg := devicesim.ForDevice(d, *lock.Secret, env.DeviceURL)
	cfg.Logger = mqtttest.Quiet()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	for on, known := h.dev.Online(d); !known || !on; on, known = h.dev.Online(d) {
		time.Sleep(5 * time.Millisecond)
	}

	b.Run("bare", func(b *testing.B) { mqtttest.BareRoundTrip(b, env.Transport, d, devices.ActionUnlock) })
	unlock := func(b *testing.B, before func()) {
		url := h.srv.URL + "/v1/doors/" + lock.ID + "/unlock"
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			if before != nil {
				before()
			}
			req, _ := http.NewRequest("POST", url, nil)
			req.Header.Set("Authorization", "Bearer "+anne)
			t0 := time.Now()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out struct{ Confirmed bool }
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !out.Confirmed {
				b.Fatalf("unlock: %d %+v", resp.StatusCode, out)
			}
			lat = append(lat, time.Since(t0))
		}
		latency.Report(b, lat)
	}
	b.Run("unlock", func(b *testing.B) { unlock(b, nil) })
	// Doors opened one at a time, as members do: a pause (not timed)
	// between unlocks lets whatever a handler does after answering finish
	// before the next request, so the figure is the member's own wait.
	// Back to back on one connection (above), the next request waits for it.
	b.Run("unlock-paced", func(b *testing.B) { unlock(b, func() { time.Sleep(2 * time.Millisecond) }) })
	// A door used less often than the device cache lasts (2 s): the lock's
	// row is read on every unlock. The change that clears the cache is made
	// before the request's clock starts.
	b.Run("unlock-cold-device", func(b *testing.B) {
		unlock(b, func() {
			if _, err := h.dev.Update(ctx, operator, lock.ID, devices.DevicePatch{}); err != nil {
				b.Fatal(err)
			}
		})
	})
	// The same with --durable-audit: on PostgreSQL each answer also waits
	// for the audit record's flush to disk (on SQLite nothing changes).
	b.Run("unlock-durable", func(b *testing.B) {
		fast := h.api.Gate
		h.api.Gate = access.NewGate(h.db, h.cal, h.bill, h.dev, access.GateConfig{Publisher: events.Discard, Now: h.clock.Now, DurableAudit: true, Jobs: h.jobs, Accounts: h.access})
		defer func() { h.api.Gate = fast }()
		unlock(b, nil)
	})
}

// operator is the administrator the benchmark changes devices as.
var operator = &identity.Principal{UserID: "operator", Role: identity.RoleAdmin}
