package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

var brokerListening = regexp.MustCompile(`embedded MQTT broker listening.*addr=([0-9.:]+)`)

// TestServeBrokerFlood: `relais serve` with its embedded broker (always:
// its limits are under test), whose limits come from flags, flooded with
// hostile MQTT connections — CONNECTs announcing 256 MB, sockets that
// never send a CONNECT, forty connections from one address. The HTTP API
// answers every request made during the flood, and /metrics counts each
// hostile connection under its reason. (devices.TestBrokerFlood measures
// the memory and keeps devices busy during a larger flood.)
func TestServeBrokerFlood(t *testing.T) {
	_, out, _ := startServeWith(t, map[string]string{"RELAIS_DATABASE_URL": dbtest.MigratedURL(t)},
		"--mqtt-url", "", "--mqtt-listen", "127.0.0.1:0", // overrides mqttArgs' external broker
		"--mqtt-connect-timeout", "500ms", "--mqtt-max-conns-per-address", "8")
	base := listening.FindStringSubmatch(out.String())[1]
	m := brokerListening.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("serve did not say where the embedded broker listens:\n%s", out.String())
	}
	broker := m[1]

	var flood sync.WaitGroup
	dial := func(from string) *mqtttest.Raw {
		c, err := mqtttest.DialRaw(broker, from)
		if err != nil {
			t.Errorf("dial from %s: %v", from, err)
		}
		return c
	}
	for i := range 8 {
		flood.Go(func() {
			c := dial(fmt.Sprintf("127.0.2.%d", 1+i))
			if c == nil {
				return
			}
			defer c.Close()
			if c.Announce(packets.Connect, 256<<20-1) == nil {
				if n, err := c.Stream(32 << 20); err == nil {
					t.Errorf("the broker read %d bytes of a CONNECT announcing 256 MB", n)
				}
			}
		})
	}
	for i := range 100 {
		flood.Go(func() {
			if c := dial(fmt.Sprintf("127.0.3.%d", 1+i%20)); c != nil {
				if err := c.WaitClosed(20 * time.Second); err != nil {
					t.Errorf("a connection that never sends CONNECT: %v", err)
				}
				c.Close()
			}
		})
	}
	for range 40 {
		flood.Go(func() {
			if c := dial("127.0.4.1"); c != nil {
				if err := c.WaitClosed(20 * time.Second); err != nil {
					t.Errorf("one of 40 connections from one address: %v", err)
				}
				c.Close()
			}
		})
	}
	flooding := make(chan struct{})
	go func() { flood.Wait(); close(flooding) }()

	requests := 0
	for done := false; !done; {
		select {
		case <-flooding:
			done = true
		default:
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			if st := get(t, base+path, ""); st != http.StatusOK {
				t.Fatalf("GET %s during the flood (request %d): %d", path, requests+1, st)
			}
			requests++
		}
	}
	t.Logf("%d HTTP requests answered during the flood", requests)

	metrics := scrape(t, base)
	for _, want := range []struct {
		series  string
		atLeast float64
	}{
		{`relais_mqtt_disconnects_total{reason="packet_too_large"}`, 8},
		{`relais_mqtt_disconnects_total{reason="connect_timeout"}`, 100},
		{`relais_mqtt_connections_refused_total{reason="per_address"}`, 1},
	} {
		if got := metrics[want.series]; got < want.atLeast {
			t.Errorf("/metrics: %s = %v, want at least %v", want.series, got, want.atLeast)
		}
	}
	if _, ok := metrics[`relais_mqtt_connections`]; !ok {
		t.Error("/metrics lacks relais_mqtt_connections")
	}
}

// scrape reads /metrics into a map from series (name and labels, as
// written) to value.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]float64{}
	for _, line := range bytes.Split(body, []byte("\n")) {
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		i := bytes.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(string(line[i+1:]), 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		series[string(line[:i])] = v
	}
	return series
}
