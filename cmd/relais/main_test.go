package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/id"
)

// syncBuffer is an io.Writer the server goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestExitCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
	}{
		{"no command", nil, nil, 2},
		{"unknown command", []string{"frobnicate"}, nil, 2},
		{"unknown flag", []string{"serve", "--no-such-flag"}, nil, 2},
		{"malformed database URL", []string{"serve", "--database-url", "mysql://localhost/x"}, nil, 2},
		{"malformed URL from env", []string{"migrate", "status"}, map[string]string{"RELAIS_DATABASE_URL": "postgres://%zz"}, 2},
		{"unreachable database", []string{"migrate", "up", "--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, nil, 2},
		{"bad log format", []string{"serve", "--log-format", "xml"}, nil, 2},
		{"short jwt secret", []string{"serve", "--jwt-secret", "short"}, nil, 2},
		{"bad smtp url", []string{"serve", "--smtp-url", "http://mail.example"}, nil, 2},
		{"bad mail sender", []string{"serve", "--smtp-url", "smtp://mail.example"}, map[string]string{"RELAIS_MAIL_FROM": "nobody"}, 2},
		{"bad public url", []string{"serve", "--public-url", "app.example"}, nil, 2},
		{"bad default language", []string{"serve", "--default-language", "de"}, nil, 2},
		{"bad default language from env", []string{"serve"}, map[string]string{"RELAIS_DEFAULT_LANGUAGE": "fr-FR"}, 2},
		{"migrate without action", []string{"migrate"}, nil, 2},
		{"negative MQTT packet size", []string{"serve", "--mqtt-max-packet-size", "-1"}, nil, 2},
		{"MQTT packet size over MQTT's", []string{"serve", "--mqtt-max-packet-size", "300000000"}, nil, 2},
		{"zero CONNECT deadline", []string{"serve"}, map[string]string{"RELAIS_MQTT_CONNECT_TIMEOUT": "0s"}, 2},
		{"zero connections per address", []string{"serve", "--mqtt-max-conns-per-address", "0"}, nil, 2},
		{"zero connections", []string{"serve", "--mqtt-max-conns", "0"}, nil, 2},
		{"zero subscriptions", []string{"serve", "--mqtt-max-subscriptions", "0"}, nil, 2},
		{"inflight over MQTT's", []string{"serve", "--mqtt-max-inflight", "70000"}, nil, 2},
		{"zero packet rate", []string{"serve", "--mqtt-max-packet-rate", "0"}, nil, 2},
		{"admin without email", []string{"admin", "create", "--password", "long enough pw"}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(ctx, tt.args, env(tt.env), &out, &errOut)
			if err == nil {
				t.Fatal("run succeeded")
			}
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d, want %d (err %v)", got, tt.code, err)
			}
			if strings.Count(err.Error(), "\n") > 0 || strings.Contains(err.Error(), "goroutine") {
				t.Fatalf("error is not one clear line: %q", err)
			}
		})
	}
}

func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "status", "--database-url", url}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending") || strings.Contains(out.String(), "applied") {
		t.Fatalf("status before up:\n%s", out.String())
	}
	out.Reset()
	// The URL may also come from the environment.
	if err := run(ctx, []string{"migrate", "up"}, env(map[string]string{"RELAIS_DATABASE_URL": url}), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	run(ctx, []string{"migrate", "status", "--database-url", url}, env(nil), &out, io.Discard)
	if strings.Contains(out.String(), "pending") {
		t.Fatalf("status after up:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "down", "--database-url", url}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	run(ctx, []string{"migrate", "status", "--database-url", url}, env(nil), &out, io.Discard)
	if !strings.Contains(out.String(), "pending") {
		t.Fatalf("status after down:\n%s", out.String())
	}
}

func TestAdminCreateIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	args := []string{"admin", "create", "--email", "Admin@Example.fr", "--password", "admin password 1", "--database-url", url}
	var out bytes.Buffer
	if err := run(ctx, args, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "created admin admin@example.fr") {
		t.Fatalf("first run: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, args, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !strings.Contains(out.String(), "is an admin") {
		t.Fatalf("second run: %s", out.String())
	}
	err := run(ctx, []string{"admin", "create", "--email", "b@example.fr", "--password", "short", "--database-url", url}, env(nil), io.Discard, io.Discard)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "password") {
		t.Fatalf("short password: %v", err)
	}
}

var listening = regexp.MustCompile(`relais listening.*url=(http://[0-9.:]+)`)

// startServe runs `relais serve` until the test ends and returns its URL.
func startServe(t *testing.T, e map[string]string) (base string, stop func()) {
	t.Helper()
	base, _, stop = startServeWith(t, e)
	return base, stop
}

// startServeWith runs serve with extra flags, and returns what it prints too.
func startServeWith(t *testing.T, e map[string]string, extra ...string) (base string, out *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	done := make(chan error, 1)
	args := append(append([]string{"serve", "--http-addr", "127.0.0.1:0"}, mqttArgs()...), extra...)
	go func() { done <- run(ctx, args, env(e), out, io.Discard) }()
	// Generous: a fresh database's migrations, under the race detector on
	// a loaded 2-core machine, have taken more than 30 s.
	deadline := time.Now().Add(120 * time.Second)
	for {
		if m := listening.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return base, out, stop
}

func postJSON(t *testing.T, url, token string, body any, into any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil {
		json.NewDecoder(resp.Body).Decode(into)
	}
	return resp.StatusCode
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	e := map[string]string{
		"RELAIS_DATABASE_URL":    dbtest.URL(t),
		"RELAIS_ADMIN_EMAIL":     "admin@example.fr",
		"RELAIS_ADMIN_PASSWORD":  "admin password 1",
		"RELAIS_AUTH_RATE_LIMIT": "0",
	}
	base, stop := startServe(t, e)
	if get(t, base+"/readyz", "") != http.StatusOK {
		t.Fatal("not ready")
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st := postJSON(t, base+"/v1/auth/login", "", map[string]string{"email": "admin@example.fr", "password": "admin password 1"}, &tok); st != http.StatusOK {
		t.Fatalf("admin login from RELAIS_ADMIN_*: %d", st)
	}
	if st := postJSON(t, base+"/v1/auth/register", "", map[string]string{"email": "anne@example.fr", "password": "anne password 1", "name": "Anne"}, nil); st != http.StatusCreated {
		t.Fatalf("register: %d", st)
	}
	var anne struct {
		AccessToken string `json:"access_token"`
	}
	postJSON(t, base+"/v1/auth/login", "", map[string]string{"email": "anne@example.fr", "password": "anne password 1"}, &anne)
	if get(t, base+"/v1/me", anne.AccessToken) != http.StatusOK {
		t.Fatal("GET /v1/me failed")
	}
	stop()

	// A restart keeps the JWT secret, so sessions survive; the admin
	// variables do nothing now that an admin exists.
	e["RELAIS_ADMIN_EMAIL"] = "other@example.fr"
	base, _ = startServe(t, e)
	if get(t, base+"/v1/me", anne.AccessToken) != http.StatusOK {
		t.Fatal("access token rejected after restart")
	}
	if st := postJSON(t, base+"/v1/auth/login", "", map[string]string{"email": "other@example.fr", "password": "admin password 1"}, nil); st != http.StatusUnauthorized {
		t.Fatalf("second admin was created at restart (login %d)", st)
	}
}

func TestServePortTaken(t *testing.T) {
	t.Parallel()
	base, _ := startServe(t, map[string]string{"RELAIS_DATABASE_URL": dbtest.MigratedURL(t)})
	addr := strings.TrimPrefix(base, "http://")
	args := append([]string{"serve", "--http-addr", addr, "--database-url", dbtest.MigratedURL(t)}, mqttArgs()...)
	err := run(context.Background(), args, env(nil), io.Discard, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("serve on a taken port: %v", err)
	}
}

// TestServeMQTTPortTaken: the embedded broker's port is taken (here by a
// listener of the test): serve says so and names the setting to change.
func TestServeMQTTPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = run(context.Background(), []string{"serve", "--http-addr", "127.0.0.1:0", "--database-url", dbtest.MigratedURL(t), "--mqtt-listen", ln.Addr().String()},
		env(nil), io.Discard, io.Discard)
	var ue *usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "RELAIS_MQTT_LISTEN") {
		t.Fatalf("serve with the MQTT port taken: %v", err)
	}
}

// mqttArgs points serve at the test broker: the external one when
// RELAIS_TEST_MQTT_URL is set, else an embedded one on a free port
// (Mosquitto may hold 1883).
func mqttArgs() []string {
	if u := mqtttest.ExternalURL(); u != "" {
		return []string{"--mqtt-url", u}
	}
	return []string{"--mqtt-listen", "127.0.0.1:0"}
}

func TestInvoicesVerify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	if err := run(ctx, []string{"migrate", "up", "--database-url", url}, env(nil), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"invoices", "verify", "--database-url", url}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("verify of an empty database: %v", err)
	}
	if !strings.Contains(out.String(), "intact") {
		t.Fatalf("output: %s", out.String())
	}
	if err := run(ctx, []string{"invoices"}, env(nil), io.Discard, io.Discard); exitCode(err) != 2 {
		t.Fatalf("invoices without verify: %v", err)
	}
}

// TestDevicesCheckAndACL: `relais devices check` says when the registry is
// sound and lists, exiting non-zero, the rows that break the topic rules;
// `relais devices acl` writes every client's block for Mosquitto.
func TestDevicesCheckAndACL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	if err := run(ctx, []string{"migrate", "up", "--database-url", url}, env(nil), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	site := id.New()
	if _, err := d.ExecContext(ctx, `INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at)
		VALUES (?, 'Site', 'Europe/Paris', '{}', '{}', ?, ?)`, site, time.Now().UTC(), time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	svc := devices.New(d, devices.Config{Places: calendar.DevicePlaces{}})
	shelly, _, err := svc.Create(ctx, demoOperator, devices.NewDevice{SiteID: site, Kind: devices.KindLock, Name: "Porte", Protocol: devices.ProtocolShelly, Address: "porte"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"devices", "check", "--database-url", url}, env(nil), &out, io.Discard); err != nil {
		t.Fatalf("check of a sound registry: %v (%s)", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"devices", "acl", "--database-url", url, "--mqtt-username", "relais-prod"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"user relais-prod\n", "user " + shelly.Username + "\n", "topic read porte/rpc\n", "topic write porte/#\n"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("acl lacks %q:\n%s", want, out.String())
		}
	}
	// A row from before the rules: a Shelly called cmnd.
	if _, err := d.ExecContext(ctx, "UPDATE devices SET address = 'cmnd', topic_root = 'cmnd' WHERE id = ?", shelly.ID); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"devices", "check", "--database-url", url}, env(nil), &out, io.Discard)
	if exitCode(err) != 1 || !strings.Contains(out.String(), shelly.ID) || !strings.Contains(out.String(), `"cmnd"`) {
		t.Fatalf("check of a broken row: %v, output %s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"devices", "acl", "--database-url", url}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "user "+shelly.Username) {
		t.Fatalf("the acl gives a broken row its topics:\n%s", out.String())
	}
	if err := run(ctx, []string{"devices"}, env(nil), io.Discard, io.Discard); exitCode(err) != 2 {
		t.Fatalf("devices without a subcommand: %v", err)
	}
}
