package devices_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/latency"
)

// The round-trip benchmarks measure, on one broker, the bare MQTT round
// trip (relais's connection publishes a relais-protocol command, the
// simulated device acts and acknowledges, the acknowledgement comes back)
// and the same through Service.Send (correlation, presence check, metrics,
// timeout). They report p50 and p99 in microseconds. See BENCHMARKS.md.
//
//	go test -run '^$' -bench 'RoundTrip' -benchtime 2000x ./devices/
//	go test -run '^$' -bench 'MosquittoDefault' -benchtime 40x ./devices/

func BenchmarkRoundTripEmbedded(b *testing.B) {
	benchRoundTrip(b, func(b *testing.B, svc *devices.Service) *mqtttest.Env {
		return mqtttest.StartEmbeddedForBench(b, svc)
	})
}

func BenchmarkRoundTripMosquittoNodelay(b *testing.B) {
	benchRoundTrip(b, func(b *testing.B, svc *devices.Service) *mqtttest.Env {
		return mqtttest.StartOn(b, svc, mqtttest.StartMosquitto(b, true).URL)
	})
}

// BenchmarkMosquittoDefault shows what Nagle's algorithm costs with
// Mosquitto's default configuration (no set_tcp_nodelay).
func BenchmarkMosquittoDefault(b *testing.B) {
	benchRoundTrip(b, func(b *testing.B, svc *devices.Service) *mqtttest.Env {
		return mqtttest.StartOn(b, svc, mqtttest.StartMosquitto(b, false).URL)
	})
}

func benchRoundTrip(b *testing.B, start func(*testing.B, *devices.Service) *mqtttest.Env) {
	bdb := dbtest.New(b)
	f := newFixture(b, bdb)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	env := start(b, svc)
	ctx := context.Background()
	d, secret, err := svc.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "bench",
		Protocol: devices.ProtocolRelais, Address: uniqueAddress(devices.ProtocolRelais)})
	if err != nil {
		b.Fatal(err)
	}
	cfg := devicesim.ForDevice(d, secret, env.DeviceURL)
	cfg.Logger = mqtttest.Quiet()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sim.Close)
	eventually(b, "device online", func() bool { on, known := svc.Online(d); return known && on })

	b.Run("bare", func(b *testing.B) { mqtttest.BareRoundTrip(b, env.Transport, d, devices.ActionLock) })
	b.Run("send", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			t0 := time.Now()
			if _, err := svc.Send(ctx, d, devices.Command{Action: devices.ActionLock}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		latency.Report(b, lat)
	})
}
