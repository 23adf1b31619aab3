package devices

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// BrokerLimits bound what one client, one address or all of them together
// may cost the embedded broker, which shares its process with the HTTP API.
// A client that breaks a limit is disconnected (a connection over a cap is
// refused at once) and counted on /metrics; a client that sends too fast is
// slowed down. Zero fields take DefaultBrokerLimits' values.
type BrokerLimits struct {
	// MaxPacketSize is the largest packet, in bytes, a logged-in client may
	// send; the broker refuses a larger one on reading its header, before
	// reading or allocating its body. The CONNECT packet, read before the
	// client has logged in, is held to MaxConnectSize whatever this says.
	MaxPacketSize int
	// ConnectTimeout is how long a new connection has to complete its
	// CONNECT, TLS handshake included. Afterwards the client's own
	// keepalive (1.5 times it) bounds its silence.
	ConnectTimeout time.Duration
	// MaxConnsPerAddress caps the open connections from one IPv4 address or
	// one IPv6 /64 (the devices of a site behind one NAT share it).
	MaxConnsPerAddress int
	// MaxConns caps the open connections in total.
	MaxConns int
	// MaxSubscriptions caps the topic filters one client holds.
	MaxSubscriptions int
	// MaxInflight caps one client's QoS 1 and 2 messages awaiting
	// acknowledgement, in each direction.
	MaxInflight int
	// PacketRate is how many packets per second one client may send on
	// average, in bursts of up to ten seconds' worth; a faster client's
	// packets are read later (TCP slows it down), not dropped.
	PacketRate float64
}

// MaxConnectSize bounds a CONNECT packet: the largest any supported device
// sends (client id, username, secret, Last Will) is a few hundred bytes.
const MaxConnectSize = 4 << 10

// DefaultBrokerLimits are the limits relais runs with unless told otherwise:
// room for a network of 10,000 devices and for a Zigbee2MQTT bridge (one
// client for many locks, whose bridge/devices message grows by a few KiB per
// device), while a flood of hostile connections costs a bounded amount of
// memory (see BENCHMARKS.md, "Broker memory").
func DefaultBrokerLimits() BrokerLimits {
	return BrokerLimits{
		MaxPacketSize: 256 << 10,
		// A TLS handshake on an ESP8266 can take a few seconds.
		ConnectTimeout:     10 * time.Second,
		MaxConnsPerAddress: 256,
		MaxConns:           20000,
		MaxSubscriptions:   32,
		MaxInflight:        128,
		PacketRate:         100,
	}
}

// withDefaults fills the zero fields and checks the others.
func (l BrokerLimits) withDefaults() (BrokerLimits, error) {
	d := DefaultBrokerLimits()
	set := func(v *int, def int, name string, max int) error {
		switch {
		case *v == 0:
			*v = def
		case *v < 0 || *v > max:
			return fmt.Errorf("embedded broker: %s must be between 1 and %d, not %d", name, max, *v)
		}
		return nil
	}
	if err := errors.Join(
		// MQTT's largest packet: a 268,435,455-byte body and its 5-byte header.
		set(&l.MaxPacketSize, d.MaxPacketSize, "the maximum packet size", 268435460),
		set(&l.MaxConnsPerAddress, d.MaxConnsPerAddress, "the connections per address", 1<<24),
		set(&l.MaxConns, d.MaxConns, "the connections in total", 1<<24),
		set(&l.MaxSubscriptions, d.MaxSubscriptions, "the subscriptions per client", 1<<16),
		set(&l.MaxInflight, d.MaxInflight, "the messages in flight per client", 65535),
	); err != nil {
		return l, err
	}
	if l.ConnectTimeout < 0 || l.PacketRate < 0 {
		return l, errors.New("embedded broker: the CONNECT deadline and the packet rate must not be negative")
	}
	if l.ConnectTimeout == 0 {
		l.ConnectTimeout = d.ConnectTimeout
	}
	if l.PacketRate == 0 {
		l.PacketRate = d.PacketRate
	}
	return l, nil
}

// clientWritesPending sizes each client's queue of outgoing messages (a
// channel of pointers, allocated when the connection is accepted): mochi's
// 8192 cost 64 KiB per connection. A device receives one command at a time;
// the queue only has to absorb the retained messages a new subscription
// delivers at once: a lock's own few, a Zigbee2MQTT bridge's bridge/* topics
// and, if its devices retain their state, one per device. 128 (1 KiB a
// connection) holds a coordinator's worth; a message that finds the queue
// full is dropped by mochi and counted in relais_mqtt_messages_dropped_total.
const clientWritesPending = 128

// clientReadBuffer is each connection's read buffer: devices send packets of
// a few hundred bytes, and larger ones are read past the buffer.
const clientReadBuffer = 512

// Reasons a connection is refused, or a client disconnected, on /metrics.
const (
	reasonPerAddress    = "per_address"
	reasonTotal         = "total"
	reasonPacketSize    = "packet_too_large"
	reasonConnectTime   = "connect_timeout"
	reasonSubscriptions = "too_many_subscriptions"
	reasonInflight      = "too_many_inflight"
)

var (
	refuseReasons     = []string{reasonPerAddress, reasonTotal}
	disconnectReasons = []string{reasonPacketSize, reasonConnectTime, reasonSubscriptions, reasonInflight}
)

var (
	// errConnectTooLarge ends a connection whose CONNECT announces more
	// than MaxConnectSize.
	errConnectTooLarge = errors.New("CONNECT packet larger than the broker accepts")
	// errTooManySubscriptions ends a client that subscribes past
	// MaxSubscriptions. mochi acts on a packet-read hook's error only when it
	// wraps ErrRejectPacket.
	errTooManySubscriptions = fmt.Errorf("too many subscriptions: %w", packets.ErrRejectPacket)
)

// connGuard enforces the connection caps and deadlines of every listener of
// one broker, and counts why connections end.
type connGuard struct {
	lim BrokerLimits
	m   *metrics
	log *slog.Logger

	mu     sync.Mutex
	total  int
	byAddr map[netip.Prefix]int
}

func newConnGuard(lim BrokerLimits, m *metrics, log *slog.Logger) *connGuard {
	return &connGuard{lim: lim, m: m, log: log, byAddr: map[netip.Prefix]int{}}
}

// addressKey is what MaxConnsPerAddress counts by: the IPv4 address, or the
// IPv6 /64 (one host is given a whole /64, and picks its address in it).
func addressKey(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{} // not TCP: all such connections share one count
	}
	ip := ap.Addr().Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64)
	return p
}

// admit takes a place for a new connection, or says why there is none.
func (g *connGuard) admit(c *limitedConn) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.total >= g.lim.MaxConns:
		return reasonTotal
	case g.byAddr[c.key] >= g.lim.MaxConnsPerAddress:
		return reasonPerAddress
	}
	g.total++
	g.byAddr[c.key]++
	return ""
}

// release gives back a connection's place once the broker is done with it.
func (g *connGuard) release(c *limitedConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if g.byAddr[c.key]--; g.byAddr[c.key] == 0 {
		delete(g.byAddr, c.key)
	}
}

// ended counts why the broker let go of a connection, when a limit did it.
func (g *connGuard) ended(c *limitedConn, err error) {
	if c.loggedIn.Load() {
		g.m.mqttClients.Dec()
	}
	var reason string
	switch {
	case err == nil:
		return
	case errors.Is(err, packets.ErrPacketTooLarge), errors.Is(err, errConnectTooLarge):
		reason = reasonPacketSize
	case errors.Is(err, errTooManySubscriptions):
		reason = reasonSubscriptions
	case errors.Is(err, packets.ErrReceiveMaximum):
		reason = reasonInflight
	case !c.connected.Load() && errors.Is(err, os.ErrDeadlineExceeded):
		reason = reasonConnectTime
	default:
		return
	}
	g.m.mqttDisconnects.WithLabelValues(reason).Inc()
	if c.loggedIn.Load() {
		// A device of ours misbehaving: worth a look.
		g.log.Warn("MQTT client disconnected by a broker limit", "reason", reason, "username", c.username.Load(), "remote", c.RemoteAddr().String())
	} else {
		// A flood would flood the log too: /metrics counts these.
		g.log.Debug("MQTT connection closed by a broker limit", "reason", reason, "remote", c.RemoteAddr().String())
	}
}

// limitListener is a mochi listener over a TCP listener (and TLS, when tls
// is set) that refuses connections beyond the caps, gives each accepted one
// the CONNECT deadline, and sees how each ends.
type limitListener struct {
	id    string
	ln    net.Listener
	tls   *tls.Config
	g     *connGuard
	ended atomic.Bool
	// served is closed when Serve returns; conns counts the goroutines
	// that hand connections to mochi.
	served chan struct{}
	conns  sync.WaitGroup

	mu   sync.Mutex
	open map[*limitedConn]struct{}
}

func (g *connGuard) listener(id string, ln net.Listener, tc *tls.Config) *limitListener {
	return &limitListener{id: id, ln: ln, tls: tc, g: g, served: make(chan struct{}), open: map[*limitedConn]struct{}{}}
}

func (l *limitListener) ID() string       { return l.id }
func (l *limitListener) Address() string  { return l.ln.Addr().String() }
func (l *limitListener) Protocol() string { return "tcp" }

// Init does nothing: the listener is open already, and it logs to relais's
// logger (mochi's keeps errors only).
func (l *limitListener) Init(*slog.Logger) error { return nil }

// Serve accepts connections until the listener is closed. Unlike mochi's
// own listener it does not give up on the first failed Accept: running out
// of file descriptors must not stop the broker for good.
func (l *limitListener) Serve(establish listeners.EstablishFn) {
	defer close(l.served)
	var backoff time.Duration
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			if l.ended.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.g.log.Warn("MQTT listener: accept failed, retrying", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		var conn net.Conn = raw
		if l.tls != nil {
			conn = tls.Server(raw, l.tls)
		}
		c := &limitedConn{Conn: conn, key: addressKey(raw.RemoteAddr())}
		if reason := l.g.admit(c); reason != "" {
			raw.Close()
			l.g.m.mqttRefused.WithLabelValues(reason).Inc()
			l.g.log.Debug("MQTT connection refused", "reason", reason, "remote", raw.RemoteAddr().String())
			continue
		}
		// The CONNECT deadline; mochi replaces it with the keepalive's once
		// the CONNECT is read.
		c.SetDeadline(time.Now().Add(l.g.lim.ConnectTimeout))
		l.g.m.mqttConns.Inc()
		l.mu.Lock()
		l.open[c] = struct{}{}
		l.mu.Unlock()
		l.conns.Add(1)
		go func() {
			defer l.conns.Done()
			err := establish(l.id, c)
			c.Close() // mochi has closed it, unless the broker is closing
			l.mu.Lock()
			delete(l.open, c)
			l.mu.Unlock()
			l.g.release(c)
			l.g.m.mqttConns.Dec()
			l.g.ended(c, err)
		}()
	}
}

// Close stops accepting, disconnects the listener's clients, closes the
// connections that have not sent their CONNECT yet, and waits until mochi is
// done with every connection. mochi's Server.Close then waits for its
// clients with a WaitGroup that each connection's goroutine joins as it
// starts; waiting here first means none joins while it waits (a data race,
// and a misuse of WaitGroup, with mochi's own listeners: see the open
// mochi-mqtt/server pull request 508). mochi starts Serve's goroutine before
// Server.Serve returns, so Close never waits for a Serve that will not run.
func (l *limitListener) Close(closeClients listeners.CloseFn) {
	if l.ended.Swap(true) {
		return
	}
	l.ln.Close()
	<-l.served // no connection is accepted after this
	closeClients(l.id)
	// Connections still before their CONNECT are not the broker's clients
	// yet, and it would wait for them.
	l.mu.Lock()
	open := make([]*limitedConn, 0, len(l.open))
	for c := range l.open {
		open = append(open, c)
	}
	l.mu.Unlock()
	for _, c := range open {
		c.Close()
	}
	l.conns.Wait()
}

// limitedConn is one accepted connection (over TLS, its plaintext side).
type limitedConn struct {
	net.Conn
	key netip.Prefix
	// hdr reads the first packet's fixed header as it goes by, to refuse a
	// CONNECT larger than MaxConnectSize before mochi allocates it.
	hdr connectHeader
	// connected is set once the CONNECT was read (then a timeout is the
	// keepalive's, not the CONNECT deadline's); loggedIn once the client
	// has logged in.
	connected atomic.Bool
	loggedIn  atomic.Bool
	username  atomic.Value // string, for the log
	// bucket is the client's packet rate budget; only the goroutine reading
	// the connection uses it.
	bucket bucket
}

func (c *limitedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.hdr.done && n > 0 {
		if c.hdr.scan(p[:n]) > MaxConnectSize {
			return 0, errConnectTooLarge
		}
	}
	return n, err
}

// connectHeader decodes the fixed header at the start of a stream: a type
// byte, then the body's length as a variable byte integer.
type connectHeader struct {
	pos    int
	length int
	done   bool
}

// scan consumes the stream's next bytes and returns the body length known
// so far (a lower bound until done).
func (h *connectHeader) scan(b []byte) int {
	for _, x := range b {
		if h.done {
			break
		}
		if h.pos > 0 {
			h.length |= int(x&0x7f) << (7 * (h.pos - 1))
			// After four length bytes the header is malformed: mochi says so.
			h.done = x&0x80 == 0 || h.pos == 4
		}
		h.pos++
	}
	return h.length
}

// bucket is a token bucket: rate tokens a second, up to burst.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one token and returns how long to wait until it was
// available (0 when it was).
func (b *bucket) take(rate, burst float64, now time.Time) time.Duration {
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / rate * float64(time.Second))
}

// limitsHook applies the per-client limits that need to see packets.
type limitsHook struct {
	mqtt.HookBase
	g *connGuard
}

func (h *limitsHook) ID() string { return "relais-broker-limits" }

func (h *limitsHook) Provides(b byte) bool {
	return b == mqtt.OnConnect || b == mqtt.OnSessionEstablished || b == mqtt.OnPacketRead || b == mqtt.OnPublishDropped
}

// conn is the client's connection; nil for relais's in-process client.
func conn(cl *mqtt.Client) *limitedConn {
	c, _ := cl.Net.Conn.(*limitedConn)
	return c
}

// OnPublishDropped counts a message mochi dropped because the client's
// queue of outgoing messages (clientWritesPending) was full.
func (h *limitsHook) OnPublishDropped(cl *mqtt.Client, pk packets.Packet) {
	h.g.m.mqttDropped.Inc()
}

func (h *limitsHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	if c := conn(cl); c != nil {
		c.connected.Store(true)
	}
	return nil
}

func (h *limitsHook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	if c := conn(cl); c != nil {
		c.username.Store(string(cl.Properties.Username))
		c.loggedIn.Store(true)
		h.g.m.mqttClients.Inc()
	}
}

// OnPacketRead runs in the client's reading goroutine for every packet it
// sends, CONNECT included.
func (h *limitsHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	c := conn(cl)
	if c == nil {
		return pk, nil
	}
	if wait := c.bucket.take(h.g.lim.PacketRate, 10*h.g.lim.PacketRate, time.Now()); wait > 0 {
		h.g.m.mqttThrottled.Inc()
		time.Sleep(wait)
	}
	if pk.FixedHeader.Type == packets.Subscribe {
		// Filters the client does not hold yet, whether or not the ACL
		// grants them: a client asking for more than its share is broken.
		held := cl.State.Subscriptions.Len()
		fresh := map[string]bool{}
		for _, f := range pk.Filters {
			if _, ok := cl.State.Subscriptions.Get(f.Filter); !ok {
				fresh[f.Filter] = true
			}
		}
		if held+len(fresh) > h.g.lim.MaxSubscriptions {
			return pk, errTooManySubscriptions
		}
	}
	return pk, nil
}
