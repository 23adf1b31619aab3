package devices_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// received collects what relais's own connection sees on a filter.
type received struct {
	mu   sync.Mutex
	msgs []string
}

func watch(t testing.TB, tr devices.Transport, filter string) *received {
	t.Helper()
	r := &received{}
	if err := tr.Subscribe(filter, func(m devices.Message) {
		r.mu.Lock()
		r.msgs = append(r.msgs, m.Topic+" "+string(m.Payload))
		r.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *received) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m == s {
			return true
		}
	}
	return false
}

// TestBrokerLogin: wrong or missing credentials, a retired device and a
// Last Will on a foreign topic are refused; a rotated secret cuts the
// session.
func TestBrokerLogin(t *testing.T) {
	t.Parallel()
	r := newRig(t, true)
	ctx := context.Background()
	d, secret := r.register(devices.ProtocolRelais, devices.KindLock)
	other, _ := r.register(devices.ProtocolRelais, devices.KindLock)
	start := func(c devicesim.Config) error {
		c.Logger = mqtttest.Quiet()
		s, err := devicesim.Start(ctx, c)
		if err == nil {
			s.Close()
		}
		return err
	}
	good := devicesim.ForDevice(d, secret, r.env.DeviceURL)
	tests := []struct {
		name   string
		change func(*devicesim.Config)
	}{
		{"wrong password", func(c *devicesim.Config) { c.Password += "x" }},
		{"anonymous", func(c *devicesim.Config) { c.Username, c.Password = "", "" }},
		{"unknown user", func(c *devicesim.Config) { c.Username = "dev-nobody" }},
		{"last will on another device's status", func(c *devicesim.Config) { c.Address = other.Address }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			if c.ClientID == "" {
				c.ClientID = "sim-" + tt.name
			}
			if err := start(c); err == nil {
				t.Fatal("login accepted")
			}
		})
	}
	if err := start(good); err != nil {
		t.Fatalf("good credentials refused: %v", err)
	}

	// A rotated secret closes the open session and the old secret no
	// longer logs in.
	c := good
	c.Logger = mqtttest.Quiet()
	s, err := devicesim.Start(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r.waitOnline(d, true)
	if _, err := r.svc.RotateSecret(ctx, operator, d.ID); err != nil {
		t.Fatal(err)
	}
	r.waitOnline(d, false) // its Last Will fired
	if err := start(good); err == nil {
		t.Fatal("old secret accepted after rotation")
	}
}

// TestListenPortTaken: the error names the setting that moves the broker.
func TestListenPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	svc := devices.New(nil, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	_, err = devices.NewBroker(devices.BrokerConfig{Listen: ln.Addr().String()}, svc)
	if err == nil || !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "RELAIS_MQTT_LISTEN") {
		t.Fatalf("err = %v", err)
	}
}

// TestBrokerRestart: relais on an external broker that restarts. The
// command in flight ends as a timeout, a command during the outage is
// refused without being queued, relais reconnects and resubscribes on its
// own, and the device never acts on the old command.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	broker := mqtttest.StartRestartable(t)
	bdb := dbtest.New(t)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	env := mqtttest.StartOn(t, svc, broker.URL)
	r := &rig{t: t, db: bdb, f: newFixture(t, bdb), svc: svc, env: env, bridges: map[string]*devices.Bridge{}}
	ctx := context.Background()
	for _, p := range allProtocols() {
		t.Run(string(p), func(t *testing.T) {
			d, sim := r.sim(p, devices.KindLock)
			if _, err := svc.Send(ctx, d, devices.Command{Action: devices.ActionLock}); err != nil {
				t.Fatal(err)
			}
			sim.SetMode(devicesim.Silent, 0)
			inFlight := make(chan error, 1)
			go func() {
				_, err := svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock, Timeout: 500 * time.Millisecond})
				inFlight <- err
			}()
			// The simulator records a command after answering it: the
			// first (confirmed) one may show up late, so wait for both.
			eventually(t, "the command reached the device", func() bool { return len(sim.Received()) >= 2 })
			broker.Stop()
			if err := <-inFlight; !errors.Is(err, devices.ErrTimeout) {
				t.Fatalf("in-flight command: %v, want ErrTimeout", err)
			}
			eventually(t, "relais notices the outage", func() bool { return !env.Transport.Connected() })
			if _, err := svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock}); !errors.Is(err, devices.ErrOffline) {
				t.Fatalf("command during the outage: %v, want ErrOffline", err)
			}
			sim.SetMode(devicesim.Normal, 0)
			broker.Start()
			eventually(t, "relais reconnects", env.Transport.Connected)
			eventually(t, "the device is back", func() bool { return sim.State().Connected })
			// The reply topics were subscribed again: a command is confirmed.
			var err error
			eventually(t, "a command confirmed after the restart", func() bool {
				_, err = svc.Send(ctx, d, devices.Command{Action: devices.ActionLock, Timeout: time.Second})
				return err == nil
			})
			for _, a := range sim.Actions() {
				if on(a.Action) {
					t.Fatalf("the device acted on a command from before the restart: %+v", sim.Actions())
				}
			}
		})
	}
}

// TestTLSListener: a device connects to the embedded broker over TLS, with
// its credentials, and carries out a command.
func TestTLSListener(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	bdb := dbtest.New(t)
	svc := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, Logger: mqtttest.Quiet()})
	b, err := devices.NewBroker(devices.BrokerConfig{Listen: "127.0.0.1:0", TLSListen: "127.0.0.1:0",
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, Logger: mqtttest.Quiet()}, svc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := svc.Start(context.Background(), b.Transport()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	r := &rig{t: t, db: bdb, f: newFixture(t, bdb), svc: svc, env: &mqtttest.Env{Svc: svc, Transport: b.Transport(), Broker: b}}
	d, secret := r.register(devices.ProtocolRelais, devices.KindLock)
	cfg := devicesim.ForDevice(d, secret, "ssl://"+b.TLSAddr())
	cfg.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	cfg.Logger = mqtttest.Quiet()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	r.waitOnline(d, true)
	if _, err := svc.Send(ctx, d, devices.Command{Action: devices.ActionUnlock, Duration: time.Second}); err != nil {
		t.Fatalf("command over TLS: %v", err)
	}
	// A client that does not trust the certificate does not get in.
	cfg.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "localhost", MinVersion: tls.VersionTLS12}
	short, cancelShort := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShort()
	if s, err := devicesim.Start(short, cfg); err == nil {
		s.Close()
		t.Fatal("a client that does not trust the broker's certificate connected")
	}
}

// selfSigned makes a certificate for localhost and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
