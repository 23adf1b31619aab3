package devices

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/relais-tierslieux/relais/internal/id"
)

// ClientConfig configures relais's connection to an external broker.
type ClientConfig struct {
	// URL is tcp://host:1883, ssl://host:8883 (also mqtts://, tls://),
	// ws://host/mqtt or wss://…
	URL      string
	Username string
	Password string
	// CAFile verifies the broker's certificate (PEM); CertFile and KeyFile
	// are relais's client certificate.
	CAFile   string
	CertFile string
	KeyFile  string
	// ClientID defaults to relais-<random>: every replica needs its own.
	ClientID string
	// ConnectTimeout bounds the first connection (default 10 s).
	ConnectTimeout time.Duration
	// MaxReconnectInterval caps the back-off between reconnection attempts
	// (default 5 s; paho's own default is 10 minutes).
	MaxReconnectInterval time.Duration
	Logger               *slog.Logger
}

// TLSConfig builds the TLS configuration from the CA and client certificate
// files (nil when none is set).
func (c ClientConfig) TLSConfig() (*tls.Config, error) {
	if c.CAFile == "" && c.CertFile == "" && c.KeyFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("MQTT CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("MQTT CA file %s holds no PEM certificate", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("MQTT client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// pahoTransport is a Transport over paho.mqtt.golang.
type pahoTransport struct {
	c   paho.Client
	log *slog.Logger

	mu   sync.Mutex
	subs map[string]func(Message)
}

// DialBroker connects to an external broker and keeps the connection up:
// paho reconnects by itself and every subscription is made again in the
// OnConnect handler (clean sessions: the broker keeps nothing for us).
func DialBroker(ctx context.Context, cfg ClientConfig) (Transport, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("MQTT broker URL %q: want tcp://host:port, ssl://host:port or ws://host/path", cfg.URL)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return nil, fmt.Errorf("MQTT broker URL %q: scheme %q is not tcp, ssl, ws or wss", u.Redacted(), u.Scheme)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "relais-" + id.Secret(9)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.MaxReconnectInterval <= 0 {
		cfg.MaxReconnectInterval = 5 * time.Second
	}
	tc, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	t := &pahoTransport{log: cfg.Logger, subs: map[string]func(Message){}}
	opts := paho.NewClientOptions().
		AddBroker(cfg.URL).
		SetClientID(cfg.ClientID).
		SetCleanSession(true).
		// In order: presence messages must be applied in the order the
		// broker sent them (a retained "online" replayed at subscription
		// and the live "offline" right after it were seen swapped with
		// OrderMatters false, leaving an offline device marked online). Our
		// handler never blocks: it completes buffered channels and marks
		// presence writes pending without waiting, so the connection never
		// stalls.
		SetOrderMatters(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(cfg.MaxReconnectInterval).
		SetKeepAlive(15 * time.Second).
		SetPingTimeout(5 * time.Second).
		SetConnectTimeout(5 * time.Second).
		SetWriteTimeout(5 * time.Second).
		SetOnConnectHandler(t.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			t.log.Warn("MQTT broker connection lost; reconnecting", "broker", u.Redacted(), "err", err)
		})
	if cfg.Username != "" {
		opts.SetUsername(cfg.Username)
		opts.SetPassword(cfg.Password)
	} else if u.User != nil {
		opts.SetUsername(u.User.Username())
		p, _ := u.User.Password()
		opts.SetPassword(p)
	}
	if tc != nil {
		opts.SetTLSConfig(tc)
	}
	t.c = paho.NewClient(opts)
	tok := t.c.Connect()
	wait := cfg.ConnectTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	if !tok.WaitTimeout(wait) {
		t.c.Disconnect(0)
		return nil, fmt.Errorf("MQTT broker %s did not accept a connection within %s", u.Redacted(), wait)
	}
	if err := tok.Error(); err != nil {
		t.c.Disconnect(0)
		return nil, fmt.Errorf("connect to MQTT broker %s: %w", u.Redacted(), err)
	}
	return t, nil
}

// onConnect runs at the first connection and after every reconnection, in
// its own goroutine: it subscribes again to everything.
func (t *pahoTransport) onConnect(c paho.Client) {
	t.mu.Lock()
	subs := make(map[string]func(Message), len(t.subs))
	for f, h := range t.subs {
		subs[f] = h
	}
	t.mu.Unlock()
	for f, h := range subs {
		if err := t.subscribe(f, h); err != nil {
			t.log.Error("MQTT resubscribe failed", "filter", f, "err", err)
		}
	}
}

func (t *pahoTransport) subscribe(filter string, h func(Message)) error {
	tok := t.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) {
		h(Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()})
	})
	if !tok.WaitTimeout(5 * time.Second) {
		return fmt.Errorf("subscribe %s: no answer from the broker", filter)
	}
	return tok.Error()
}

func (t *pahoTransport) Subscribe(filter string, h func(Message)) error {
	t.mu.Lock()
	t.subs[filter] = h
	t.mu.Unlock()
	if !t.c.IsConnectionOpen() {
		return nil // onConnect will subscribe
	}
	return t.subscribe(filter, h)
}

func (t *pahoTransport) Unsubscribe(filter string) error {
	t.mu.Lock()
	delete(t.subs, filter)
	t.mu.Unlock()
	if !t.c.IsConnectionOpen() {
		return nil // the next connection will not subscribe it
	}
	tok := t.c.Unsubscribe(filter)
	if !tok.WaitTimeout(5 * time.Second) {
		return fmt.Errorf("unsubscribe %s: no answer from the broker", filter)
	}
	return tok.Error()
}

// Publish sends only while the connection is really open: paho would
// otherwise queue a QoS 1 message during a reconnection and deliver it
// seconds late (IsConnected stays true while reconnecting).
func (t *pahoTransport) Publish(ctx context.Context, topic string, qos byte, payload []byte) error {
	if !t.c.IsConnectionOpen() {
		return fmt.Errorf("MQTT broker connection is down: %w", ErrOffline)
	}
	tok := t.c.Publish(topic, qos, false, payload)
	wait := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = max(time.Until(dl), 0)
	}
	if !tok.WaitTimeout(wait) {
		return fmt.Errorf("publish %s: no acknowledgement from the broker: %w", topic, ErrTimeout)
	}
	if err := tok.Error(); err != nil {
		if errors.Is(err, paho.ErrNotConnected) {
			return fmt.Errorf("publish %s: %w", topic, ErrOffline)
		}
		// The connection broke while the message was on its way: it may
		// have reached the device, so this is not "nothing was sent".
		return fmt.Errorf("publish %s: connection lost before the broker's acknowledgement (%v): %w", topic, err, ErrTimeout)
	}
	return nil
}

func (t *pahoTransport) Connected() bool { return t.c.IsConnectionOpen() }

func (t *pahoTransport) Close() error {
	t.c.Disconnect(250)
	return nil
}
