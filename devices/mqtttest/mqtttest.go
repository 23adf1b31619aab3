// Package mqtttest gives tests an MQTT broker: by default the embedded
// broker on a free loopback port; when RELAIS_TEST_MQTT_URL is set (e.g.
// tcp://127.0.0.1:1883, a Mosquitto allowing anonymous clients), that
// broker, reached through the paho client. An unreachable broker fails the
// test; it never skips. Tests on a shared broker must use unique topics
// (fresh site ids and addresses): retained presence messages outlive them.
package mqtttest

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/latency"
)

// Main runs a package's tests up to four at once unless -test.parallel says
// otherwise: most tests that use a broker wait on it, on command timeouts
// and on River's scheduler rather than on the CPU, so the default
// (GOMAXPROCS, two on a small machine) leaves it idle. Four keeps the
// PostgreSQL connections of parallel tests well under the server's default
// limit. Call it from TestMain:
//
//	func TestMain(m *testing.M) { mqtttest.Main(m) }
func Main(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "4")
	}
	os.Exit(m.Run())
}

// EnvURL names the variable that switches the tests to an external broker.
const EnvURL = "RELAIS_TEST_MQTT_URL"

// ExternalURL returns the external broker's URL, or "" for the embedded one.
func ExternalURL() string { return os.Getenv(EnvURL) }

// Env is a started devices.Service and where simulated devices connect.
type Env struct {
	Svc       *devices.Service
	Transport devices.Transport
	// DeviceURL is the broker URL for devices (tcp://host:port).
	DeviceURL string
	// Broker is the embedded broker, nil on an external one.
	Broker *devices.Broker
}

// Quiet is a logger for tests: warnings and errors only.
func Quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Start starts svc on the test broker (see the package doc).
func Start(t testing.TB, svc *devices.Service) *Env {
	t.Helper()
	if u := ExternalURL(); u != "" {
		return StartOn(t, svc, u)
	}
	return StartEmbedded(t, svc)
}

// StartEmbedded starts svc on a new embedded broker, whatever the
// environment says: for tests of the broker's own authentication and ACLs.
func StartEmbedded(t testing.TB, svc *devices.Service) *Env {
	t.Helper()
	return StartEmbeddedWith(t, svc, devices.BrokerConfig{})
}

// StartEmbeddedForBench starts the embedded broker for benchmarks that send
// thousands of commands a second to one device: its packet-rate limit (100
// packets/s, bursts of 1,000), which no real lock comes near, would
// otherwise become what they measure.
func StartEmbeddedForBench(t testing.TB, svc *devices.Service) *Env {
	t.Helper()
	return StartEmbeddedWith(t, svc, devices.BrokerConfig{Limits: devices.BrokerLimits{PacketRate: 1e9}})
}

// StartEmbeddedWith is StartEmbedded with a configuration of the test's
// (its limits, a TLS listener); it listens on a free loopback port unless
// cfg names one.
func StartEmbeddedWith(t testing.TB, svc *devices.Service, cfg devices.BrokerConfig) *Env {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = Quiet()
	}
	b, err := devices.NewBroker(cfg, svc)
	if err != nil {
		t.Fatalf("start embedded broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	if err := svc.Start(context.Background(), b.Transport()); err != nil {
		t.Fatalf("start devices service: %v", err)
	}
	t.Cleanup(svc.Close)
	return &Env{Svc: svc, Transport: b.Transport(), DeviceURL: "tcp://" + b.Addr(), Broker: b}
}

// StartOn starts svc on the external broker at url through paho.
func StartOn(t testing.TB, svc *devices.Service, url string) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := devices.DialBroker(ctx, devices.ClientConfig{URL: url, Logger: Quiet(), MaxReconnectInterval: time.Second})
	if err != nil {
		t.Fatalf("%s=%s is set but the broker is not usable: %v", EnvURL, url, err)
	}
	t.Cleanup(func() { tr.Close() })
	if err := svc.Start(ctx, tr); err != nil {
		t.Fatalf("start devices service: %v", err)
	}
	t.Cleanup(svc.Close)
	return &Env{Svc: svc, Transport: tr, DeviceURL: url}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Restartable is an open broker (anonymous, no ACLs) that a test can stop
// and start again on the same port: a Mosquitto process of its own when
// RELAIS_TEST_MQTT_URL is set (never the shared one), else an embedded
// mochi broker.
type Restartable struct {
	URL  string
	t    testing.TB
	port int
	mosq *Mosquitto
	srv  *mqtt.Server
}

// StartRestartable starts a Restartable broker.
func StartRestartable(t testing.TB) *Restartable {
	t.Helper()
	r := &Restartable{t: t}
	if ExternalURL() != "" {
		r.mosq = StartMosquitto(t, true)
		r.URL, r.port = r.mosq.URL, r.mosq.Port
		return r
	}
	r.port = FreePort(t)
	r.URL = fmt.Sprintf("tcp://127.0.0.1:%d", r.port)
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Stop stops the broker: every client's connection drops.
func (r *Restartable) Stop() {
	if r.mosq != nil {
		r.mosq.Stop()
		return
	}
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// Start starts it again on the same port.
func (r *Restartable) Start() {
	r.t.Helper()
	if r.mosq != nil {
		r.mosq.Start()
		return
	}
	srv := mqtt.New(&mqtt.Options{Logger: Quiet()})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		r.t.Fatal(err)
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after Stop
		if ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.port)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("restart broker: %v", err)
	}
	if err := srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		r.t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		r.t.Fatal(err)
	}
	r.srv = srv
}

type allowAll struct{ mqtt.HookBase }

func (h *allowAll) ID() string { return "allow-all" }
func (h *allowAll) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}
func (h *allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }
func (h *allowAll) OnACLCheck(*mqtt.Client, string, bool) bool              { return true }

// Mosquitto is a mosquitto process of the test's own on a free loopback port.
type Mosquitto struct {
	URL  string
	Port int
	t    testing.TB
	bin  string
	conf string
	cmd  *exec.Cmd
}

// StartMosquitto starts `mosquitto` with anonymous access and, with
// nodelay, `set_tcp_nodelay true` (without it, Nagle's algorithm adds tens
// of milliseconds to a request/reply round trip).
func StartMosquitto(t testing.TB, nodelay bool) *Mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Fatalf("mosquitto is not installed: %v", err)
	}
	m := &Mosquitto{t: t, bin: bin, Port: FreePort(t)}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", m.Port)
	if nodelay {
		conf += "set_tcp_nodelay true\n"
	}
	m.conf = filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// StartMosquittoACL starts `mosquitto` with passwords (users: name →
// password, hashed with mosquitto_passwd) and the given acl_file, no
// anonymous access, and set_tcp_nodelay.
func StartMosquittoACL(t testing.TB, acl string, users map[string]string) *Mosquitto {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		t.Fatalf("mosquitto is not installed: %v", err)
	}
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Fatalf("mosquitto_passwd is not installed: %v", err)
	}
	// Started as root, mosquitto drops to its own user: it must be able to
	// read the files (test secrets only).
	dir, err := os.MkdirTemp("", "relais-mosquitto-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pwFile, aclFile := filepath.Join(dir, "passwd"), filepath.Join(dir, "acl")
	var pw bytes.Buffer
	for u, p := range users {
		fmt.Fprintf(&pw, "%s:%s\n", u, p)
	}
	if err := os.WriteFile(pwFile, pw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// -U hashes every password of the file in place.
	if out, err := exec.Command(passwd, "-U", pwFile).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd -U: %v: %s", err, out)
	}
	if err := os.WriteFile(aclFile, []byte(acl), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{t: t, bin: bin, Port: FreePort(t)}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	conf := fmt.Sprintf("per_listener_settings false\nallow_anonymous false\npassword_file %s\nacl_file %s\n"+
		"persistence false\nlistener %d 127.0.0.1\nset_tcp_nodelay true\n", pwFile, aclFile, m.Port)
	m.conf = filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(m.Stop)
	return m
}

// Start starts the process and waits until it accepts connections.
func (m *Mosquitto) Start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf)
	var out bytes.Buffer
	m.cmd.Stdout, m.cmd.Stderr = &out, &out
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.Port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatalf("mosquitto did not listen on port %d within 10 s: %s", m.Port, out.String())
}

// Stop kills the process (clients see their connection drop).
func (m *Mosquitto) Stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Kill()
	m.cmd.Wait()
	m.cmd = nil
}

// BareRoundTrip times the relais protocol without relais: tr publishes
// action to d's command topic and waits for the device's acknowledgement of
// that id, b.N times. It is the baseline beside which benchmarks of
// Service.Send and of an unlock over HTTP report their overhead.
func BareRoundTrip(b *testing.B, tr devices.Transport, d *devices.Device, action devices.Action) {
	ctx := context.Background()
	acks := make(chan string, 16)
	topic := "relais/" + d.SiteID + "/" + d.Address
	if err := tr.Subscribe(topic+"/ack", func(m devices.Message) {
		var a struct {
			ID string `json:"id"`
		}
		json.Unmarshal(m.Payload, &a)
		select {
		case acks <- a.ID:
		default:
		}
	}); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		cid := id.New()
		payload, _ := json.Marshal(map[string]any{"id": cid, "action": action, "duration_s": 5, "expires_at": time.Now().Add(5 * time.Second)})
		t0 := time.Now()
		if err := tr.Publish(ctx, topic+"/cmd", 1, payload); err != nil {
			b.Fatal(err)
		}
		for got := ""; got != cid; {
			select {
			case got = <-acks:
			case <-time.After(5 * time.Second):
				b.Fatal("no acknowledgement")
			}
		}
		lat = append(lat, time.Since(t0))
	}
	latency.Report(b, lat)
}
