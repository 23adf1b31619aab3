package devices

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// EnvListen names the setting that moves the embedded broker's TCP listener;
// it appears in the error when the port is taken.
const EnvListen = "RELAIS_MQTT_LISTEN"

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Listen is the TCP address for devices (default ":1883").
	Listen string
	// TLSListen, when set, adds a TLS listener (e.g. ":8883") using
	// TLSCertFile and TLSKeyFile, or TLSConfig when given.
	TLSListen   string
	TLSCertFile string
	TLSKeyFile  string
	TLSConfig   *tls.Config
	Logger      *slog.Logger
	// Limits bound what clients may cost (broker_limits.go); zero fields
	// take DefaultBrokerLimits' values.
	Limits BrokerLimits
}

// Broker is the embedded MQTT broker (mochi-mqtt): devices log in with their
// own credentials and reach only their own topics; relais talks to it
// in-process through Transport.
type Broker struct {
	srv       *mqtt.Server
	svc       *Service
	tcp       net.Listener
	tls       net.Listener // the TLS listener's TCP side; tlsConfig wraps its connections
	tlsConfig *tls.Config
	transport *inlineTransport
	auth      *authHook
}

// NewBroker starts the embedded broker.
func NewBroker(cfg BrokerConfig, s *Service) (*Broker, error) {
	if cfg.Listen == "" {
		cfg.Listen = ":1883"
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	lim, err := cfg.Limits.withDefaults()
	if err != nil {
		return nil, err
	}
	b := &Broker{svc: s}
	if b.tcp, err = listen(cfg.Listen, EnvListen); err != nil {
		return nil, err
	}
	if cfg.TLSListen != "" {
		tc := cfg.TLSConfig
		if tc == nil {
			cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
			if err != nil {
				b.tcp.Close()
				return nil, fmt.Errorf("MQTT TLS listener: load RELAIS_MQTT_TLS_CERT and RELAIS_MQTT_TLS_KEY: %w", err)
			}
			tc = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		}
		if b.tls, err = listen(cfg.TLSListen, "RELAIS_MQTT_TLS_LISTEN"); err != nil {
			b.tcp.Close()
			return nil, err
		}
		b.tlsConfig = tc
	}

	caps := mqtt.NewDefaultServerCapabilities()
	// A command is never retained by relais; devices' presence is. Keep the
	// session state of a vanished device for an hour, not the default 49 days.
	caps.MaximumSessionExpiryInterval = 3600
	caps.MaximumPacketSize = uint32(lim.MaxPacketSize)
	caps.MaximumInflight = uint16(lim.MaxInflight)
	caps.ReceiveMaximum = uint16(lim.MaxInflight)
	caps.MaximumClientWritesPending = clientWritesPending
	b.srv = mqtt.New(&mqtt.Options{
		InlineClient:            true,
		Capabilities:            caps,
		ClientNetReadBufferSize: clientReadBuffer,
		// mochi logs every connection at info level and every disconnection
		// as a warning: keep its errors only.
		Logger: slog.New(levelHandler{min: slog.LevelError, Handler: cfg.Logger.Handler()}),
	})
	b.auth = &authHook{svc: s, srv: b.srv, acls: map[string]ACL{}, log: cfg.Logger}
	if err := b.srv.AddHook(b.auth, nil); err != nil {
		b.closeListeners()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	guard := newConnGuard(lim, s.metrics, cfg.Logger)
	if err := b.srv.AddHook(&limitsHook{g: guard}, nil); err != nil {
		b.closeListeners()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if err := b.srv.AddListener(guard.listener("tcp", b.tcp, nil)); err != nil {
		b.closeListeners()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	if b.tls != nil {
		if err := b.srv.AddListener(guard.listener("tls", b.tls, b.tlsConfig)); err != nil {
			b.closeListeners()
			return nil, fmt.Errorf("embedded broker: %w", err)
		}
	}
	if err := b.srv.Serve(); err != nil {
		b.closeListeners()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	b.transport = &inlineTransport{srv: b.srv}
	s.mu.Lock()
	s.credentialsChanged = b.auth.kick
	s.mu.Unlock()
	return b, nil
}

// listen opens a TCP listener and, when the address is taken, says which
// setting moves it.
func listen(addr, setting string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("embedded MQTT broker: address %s is already in use (another MQTT broker such as Mosquitto may be running): set %s to another address, e.g. %s=127.0.0.1:1884, or point RELAIS_MQTT_URL at that broker", addr, setting, setting)
		}
		return nil, fmt.Errorf("embedded MQTT broker: listen on %s (%s): %w", addr, setting, err)
	}
	return ln, nil
}

func (b *Broker) closeListeners() {
	b.tcp.Close()
	if b.tls != nil {
		b.tls.Close()
	}
}

// Transport is relais's own in-process connection to the broker.
func (b *Broker) Transport() Transport { return b.transport }

// Addr is the TCP listener's address (host:port).
func (b *Broker) Addr() string { return b.tcp.Addr().String() }

// TLSAddr is the TLS listener's address, or "" without one.
func (b *Broker) TLSAddr() string {
	if b.tls == nil {
		return ""
	}
	return b.tls.Addr().String()
}

// Close stops the broker: devices are disconnected (their Last Wills fire).
func (b *Broker) Close() error {
	b.transport.closed.Store(true)
	b.svc.mu.Lock()
	b.svc.credentialsChanged = nil
	b.svc.mu.Unlock()
	return b.srv.Close()
}

// authHook authenticates devices and bridges against their hashed secrets
// and confines each to its own topics (its ACL, see topics.go). Anything
// not allowed here is denied: there is no anonymous access.
type authHook struct {
	mqtt.HookBase
	svc *Service
	srv *mqtt.Server
	log *slog.Logger

	mu sync.RWMutex
	// acls holds the ACL of each logged-in username, filled at connect and
	// dropped when its credentials change.
	acls map[string]ACL
}

func (h *authHook) ID() string { return "relais-devices-auth" }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish}, []byte{b})
}

func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	username := string(pk.Connect.Username)
	refuse := func(why string) bool {
		h.svc.metrics.loginsRefused.WithLabelValues(why).Inc()
		h.log.Info("MQTT login refused", "username", username, "client_id", cl.ID, "remote", cl.Net.Remote, "reason", why)
		return false
	}
	if username == "" {
		return refuse("anonymous")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	l, err := h.svc.Authenticate(ctx, username, string(pk.Connect.Password))
	var refused *RefusedError
	switch {
	case errors.As(err, &refused):
		h.svc.loginRefused(ctx, username, refused.Reason)
		return refuse("topics break the rules")
	case err != nil:
		return refuse("bad credentials")
	}
	// A Last Will is published by the broker itself, past the ACL check and
	// the retain rule: it may only name one of the client's own topics, and
	// be retained only where the client may retain.
	if pk.Connect.WillFlag {
		will := pk.Connect.WillTopic
		if !allowed(l.ACL.Write, will, false) || (pk.Connect.WillRetain && !retainable(l.ACL, will)) {
			h.svc.loginRefused(ctx, username, fmt.Sprintf("its Last Will is on %s; it must be on %s%s",
				will, l.PresenceTopic(), fullTopicHint(l)))
			return refuse("last will on a foreign topic")
		}
	}
	// Taking over another client's id would cut it off.
	if other, ok := h.srv.Clients.Get(cl.ID); ok && !other.Closed() && string(other.Properties.Username) != username {
		return refuse("client id in use by another device")
	}
	h.svc.loginAccepted(ctx, l)
	h.mu.Lock()
	h.acls[username] = l.ACL
	h.mu.Unlock()
	return true
}

// fullTopicHint says what to check on a Tasmota whose Last Will is not
// where relais expects it: its FullTopic or its Topic.
func fullTopicHint(l *Login) string {
	if l.Protocol != ProtocolTasmota {
		return ""
	}
	return " (on the Tasmota, FullTopic must be %prefix%/%topic%/ and Topic " + l.Root + ")"
}

func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	acl, ok := h.aclOf(cl)
	if !ok {
		return false
	}
	if write {
		return allowed(acl.Write, topic, false)
	}
	// Subscribing: the requested filter must lie within an allowed one; a
	// delivery (a topic name) is checked the same way.
	return allowed(acl.Read, topic, true)
}

// OnPublish keeps a client's retained messages to its presence topics: any
// other retained publish is delivered as a live message and not stored, so
// that nothing a device sends can act again at the next reconnection.
func (h *authHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline || !pk.FixedHeader.Retain {
		return pk, nil
	}
	acl, _ := h.aclOf(cl)
	if !retainable(acl, pk.TopicName) {
		pk.FixedHeader.Retain = false
		h.svc.metrics.retainRefused.Inc()
	}
	return pk, nil
}

func (h *authHook) aclOf(cl *mqtt.Client) (ACL, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	acl, ok := h.acls[string(cl.Properties.Username)]
	return acl, ok
}

// kick forgets a username's ACL and disconnects its sessions: its secret
// changed or it was retired.
func (h *authHook) kick(username string) {
	h.mu.Lock()
	delete(h.acls, username)
	h.mu.Unlock()
	for _, cl := range h.srv.Clients.GetAll() {
		if !cl.Net.Inline && string(cl.Properties.Username) == username && !cl.Closed() {
			h.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
	}
}

// inlineTransport is relais's in-process client of the embedded broker. Its
// messages bypass the ACLs (relais may publish commands to any device).
type inlineTransport struct {
	srv    *mqtt.Server
	nextID atomic.Int32
	closed atomic.Bool

	mu     sync.Mutex
	subIDs map[string]int // by filter, for Unsubscribe
}

func (t *inlineTransport) Publish(_ context.Context, topic string, qos byte, payload []byte) error {
	if t.closed.Load() {
		return fmt.Errorf("embedded broker closed: %w", ErrOffline)
	}
	return t.srv.Publish(topic, payload, false, qos)
}

func (t *inlineTransport) Subscribe(filter string, handler func(Message)) error {
	var replaying atomic.Bool
	replaying.Store(true)
	defer replaying.Store(false)
	subID := int(t.nextID.Add(1))
	t.mu.Lock()
	if t.subIDs == nil {
		t.subIDs = map[string]int{}
	}
	t.subIDs[filter] = subID
	t.mu.Unlock()
	// Subscribe calls the handler for retained messages before returning;
	// only those are flagged Retained (a live message is news).
	return t.srv.Subscribe(filter, subID, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		handler(Message{Topic: pk.TopicName, Payload: pk.Payload, Retained: pk.FixedHeader.Retain && replaying.Load()})
	})
}

func (t *inlineTransport) Unsubscribe(filter string) error {
	t.mu.Lock()
	subID, ok := t.subIDs[filter]
	delete(t.subIDs, filter)
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return t.srv.Unsubscribe(filter, subID)
}

func (t *inlineTransport) Connected() bool { return !t.closed.Load() }

func (t *inlineTransport) Close() error {
	t.closed.Store(true)
	return nil
}

// levelHandler drops records below min.
type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.min, h.Handler.WithAttrs(a)}
}

func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.min, h.Handler.WithGroup(n)}
}
