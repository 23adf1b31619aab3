// Package devicesim runs virtual door locks and machine relays that speak
// the protocols relais supports (relais JSON, Tasmota, Shelly Gen2 RPC,
// Zigbee2MQTT) over a real MQTT connection, with the device's own
// credentials and its protocol's Last Will. Switches make a device slow,
// silent or offline, or make it answer twice or with a wrong id. Tests and
// `relais devices simulate` use it.
package devicesim

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/relais-tierslieux/relais/devices"
)

// Mode is how a simulated device behaves.
type Mode string

const (
	// Normal acts on commands and answers at once.
	Normal Mode = "normal"
	// Slow waits Config.Delay before acting and answering (and, like real
	// firmware, checks the command's expiry when it acts).
	Slow Mode = "slow"
	// Silent receives commands and never acts or answers.
	Silent Mode = "silent"
	// Offline drops its connection without a DISCONNECT, so the broker
	// publishes its Last Will, and stays away until the mode changes.
	Offline Mode = "offline"
)

// Modes lists every mode.
var Modes = []Mode{Normal, Slow, Silent, Offline}

// Faults are misbehaviours on top of the mode.
type Faults struct {
	// AnswerTwice sends every answer two times.
	AnswerTwice bool
	// WrongID answers with an id the command did not carry (for Tasmota and
	// Zigbee2MQTT, which have no ids: reports the opposite state).
	WrongID bool
	// Jammed, for a Zigbee2MQTT lock: the bolt sticks half way, and the lock
	// reports state UNLOCK with lock_state not_fully_locked, as real locks do.
	Jammed bool
	// Unreachable, for a Zigbee2MQTT device: the bridge cannot reach it and
	// logs "Publish 'set' 'state' to '<name>' failed" on bridge/logging.
	Unreachable bool
	// Reject, when set, answers every relais-protocol command with this
	// error instead of acting: a jammed lock, or firmware that says odd
	// things.
	Reject string
}

// Config describes one simulated device.
type Config struct {
	// BrokerURL is tcp://host:port (or ssl://… with TLSConfig).
	BrokerURL string
	TLSConfig *tls.Config
	// Username and Password are the device's MQTT credentials.
	Username string
	Password string
	ClientID string // default: the username
	Protocol devices.Protocol
	SiteID   string // relais protocol: the site in its topics
	// Address is the client's root: the relais protocol's address, a
	// Tasmota's %topic%, a Shelly's topic prefix; for Zigbee2MQTT, the
	// bridge's base topic.
	Address string
	Channel int
	// Names, for Zigbee2MQTT, are the friendly names of the devices the
	// simulated bridge carries.
	Names []string
	// Legacy, for Zigbee2MQTT: bridge state and availability as Zigbee2MQTT
	// 1.x sent them (bare online/offline) instead of 2.x's JSON.
	Legacy bool
	// Availability, for Zigbee2MQTT: publish each device's availability
	// (an option, off by default in Zigbee2MQTT).
	Availability bool
	Mode         Mode
	Delay        time.Duration // Slow mode
	Faults       Faults
	// AutoRelock, for a Zigbee2MQTT lock, locks again this long after an
	// unlock (real locks do this themselves; 0: never).
	AutoRelock time.Duration
	Logger     *slog.Logger
	// OnReceive, when set, is called with every command message and its
	// outcome (after acting); `relais devices simulate` prints them.
	OnReceive func(Received)
}

// ForDevice fills a Config from a registered device that logs in by
// itself, and its secret.
func ForDevice(d *devices.Device, secret, brokerURL string) Config {
	return Config{
		BrokerURL: brokerURL, Username: d.Username, Password: secret,
		Protocol: d.Protocol, SiteID: d.SiteID, Address: d.Address, Channel: d.Channel, Mode: Normal,
	}
}

// ForBridge fills a Config from a registered bridge, its secret and the
// devices behind it: one connection for all of them, as the real bridge.
func ForBridge(b *devices.Bridge, secret, brokerURL string, behind ...*devices.Device) Config {
	c := Config{
		BrokerURL: brokerURL, Username: b.Username, Password: secret,
		Protocol: b.Protocol, SiteID: b.SiteID, Address: b.Address, Mode: Normal,
	}
	for _, d := range behind {
		if b.Protocol == devices.ProtocolZigbee {
			c.Names = append(c.Names, d.Address)
		} else {
			c.Channel = d.Channel
		}
	}
	return c
}

// Executed is an action the simulated device carried out.
type Executed struct {
	CommandID string // relais and Shelly ids; "" for Tasmota and Zigbee2MQTT
	Action    devices.Action
	Duration  time.Duration
	At        time.Time
	// Auto is true for the device's own timer switching off (pulse, toggle_after).
	Auto bool
}

// Received is a command message the device got and what it did with it.
type Received struct {
	Topic   string
	Payload string
	At      time.Time
	// Outcome: acted, expired, duplicate, silent, setting, refused,
	// malformed, closed, dropped.
	Outcome string
}

// State is what the device looks like now.
type State struct {
	Connected bool
	Mode      Mode
	// On: the relay is closed (the strike released, the machine powered).
	On bool
	// PulseTime is Tasmota's stored PulseTime for the channel.
	PulseTime int
}

// Sim is one running simulated device.
type Sim struct {
	cfg Config
	log *slog.Logger
	c   paho.Client

	mu        sync.Mutex
	mode      Mode
	delay     time.Duration
	faults    Faults
	on        bool
	pulseTime int
	offTimer  *time.Timer
	seen      map[string]bool
	actions   []Executed
	received  []Received
	conn      *cutConn
	closed    bool
	connected bool
	connCh    chan struct{} // closed and replaced at every connection
	inbox     chan paho.Message
	done      chan struct{}
}

// Start connects the device and, unless its mode is Offline, announces it
// online. It returns once connected (or, Offline, at once).
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	if cfg.Mode == "" {
		cfg.Mode = Normal
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ClientID == "" {
		cfg.ClientID = cfg.Username
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "sim-" + cfg.Address
	}
	s := &Sim{cfg: cfg, log: cfg.Logger.With("sim", cfg.Address, "protocol", cfg.Protocol),
		mode: cfg.Mode, delay: cfg.Delay, faults: cfg.Faults, seen: map[string]bool{}, connCh: make(chan struct{}),
		inbox: make(chan paho.Message, 256), done: make(chan struct{})}
	go s.work()
	willTopic, _, offline := s.presence()
	opts := paho.NewClientOptions().
		AddBroker(cfg.BrokerURL).
		SetClientID(cfg.ClientID).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		SetCleanSession(true).
		// In order, like firmware: PulseTime before POWER. The handler only
		// queues (never blocks); one worker acts.
		SetOrderMatters(true).
		SetAutoReconnect(true).
		// Offline from the start: keep trying until the mode changes.
		// Otherwise a refused login fails Start at once.
		SetConnectRetry(cfg.Mode == Offline).
		SetConnectRetryInterval(200*time.Millisecond).
		SetMaxReconnectInterval(500*time.Millisecond).
		SetKeepAlive(10*time.Second).
		SetConnectTimeout(2*time.Second).
		SetBinaryWill(willTopic, offline, 1, true).
		SetCustomOpenConnectionFn(s.dial).
		SetOnConnectHandler(s.onConnect).
		SetConnectionLostHandler(func(paho.Client, error) {
			s.mu.Lock()
			s.connected = false
			s.mu.Unlock()
		})
	s.c = paho.NewClient(opts)
	tok := s.c.Connect()
	if cfg.Mode == Offline {
		return s, nil
	}
	wait := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if !tok.WaitTimeout(wait) {
		s.c.Disconnect(0)
		return nil, fmt.Errorf("simulated device %s: broker %s did not accept it within %s", cfg.Address, cfg.BrokerURL, wait)
	}
	if err := tok.Error(); err != nil {
		s.c.Disconnect(0)
		return nil, fmt.Errorf("simulated device %s: %w", cfg.Address, err)
	}
	if err := s.WaitConnected(ctx); err != nil {
		s.c.Disconnect(0)
		return nil, err
	}
	return s, nil
}

// dial opens the network connection itself, so that Offline can cut it
// without a DISCONNECT packet (which would suppress the Last Will), and can
// refuse to reconnect while offline.
func (s *Sim) dial(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
	s.mu.Lock()
	off := s.mode == Offline || s.closed
	s.mu.Unlock()
	if off {
		return nil, errors.New("simulated device is offline")
	}
	var conn net.Conn
	var err error
	switch u.Scheme {
	case "ssl", "tls", "mqtts":
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", u.Host, s.cfg.TLSConfig)
	default:
		conn, err = net.DialTimeout("tcp", u.Host, 2*time.Second)
	}
	if err != nil {
		return nil, err
	}
	cc := &cutConn{Conn: conn}
	s.mu.Lock()
	s.conn = cc
	s.mu.Unlock()
	return cc, nil
}

// cutConn is a connection the simulator can cut. paho takes "use of closed
// network connection" for its own doing and would not reconnect; a cut
// connection reports a plain error instead, as a dropped link does.
type cutConn struct {
	net.Conn
	cut atomic.Bool
}

var errCut = errors.New("simulated device dropped its connection")

func (c *cutConn) Cut() {
	c.cut.Store(true)
	c.Conn.Close()
}

func (c *cutConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil && c.cut.Load() {
		err = errCut
	}
	return n, err
}

func (c *cutConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil && c.cut.Load() {
		err = errCut
	}
	return n, err
}

// presence returns the client's presence topic and its online/offline
// payloads: its Last Will.
func (s *Sim) presence() (string, []byte, []byte) {
	a := s.cfg.Address
	switch s.cfg.Protocol {
	case devices.ProtocolRelais:
		return "relais/" + s.cfg.SiteID + "/" + a + "/status", []byte("online"), []byte("offline")
	case devices.ProtocolTasmota:
		return "tele/" + a + "/LWT", []byte("Online"), []byte("Offline")
	case devices.ProtocolShelly:
		return a + "/online", []byte("true"), []byte("false")
	case devices.ProtocolZigbee:
		on, off := s.zigbeeStates()
		return a + "/bridge/state", on, off
	}
	return "", nil, nil
}

// zigbeeStates are Zigbee2MQTT's online and offline payloads.
func (s *Sim) zigbeeStates() ([]byte, []byte) {
	if s.cfg.Legacy {
		return []byte("online"), []byte("offline")
	}
	return []byte(`{"state":"online"}`), []byte(`{"state":"offline"}`)
}

// commandFilters are the topics the device listens on: a Zigbee2MQTT
// bridge subscribes to everything under its base topic.
func (s *Sim) commandFilters() []string {
	a := s.cfg.Address
	switch s.cfg.Protocol {
	case devices.ProtocolRelais:
		return []string{"relais/" + s.cfg.SiteID + "/" + a + "/cmd"}
	case devices.ProtocolTasmota:
		return []string{"cmnd/" + a + "/#"}
	case devices.ProtocolShelly:
		return []string{a + "/rpc"}
	case devices.ProtocolZigbee:
		return []string{a + "/#"}
	}
	return nil
}

func (s *Sim) onConnect(c paho.Client) {
	for _, f := range s.commandFilters() {
		tok := c.Subscribe(f, 1, s.enqueue)
		if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			s.log.Error("simulated device could not subscribe", "filter", f, "err", tok.Error())
		}
	}
	topic, online, _ := s.presence()
	// QoS 0, as the answers below: paho v1.5.1 keeps QoS 1 publishes in
	// its store, and on a reconnect its resume() marks them as duplicates
	// while its writer may be sending the same packet (a data race the
	// race detector catches). The broker keeps the retained status either way.
	tok := c.Publish(topic, 0, true, online)
	tok.WaitTimeout(5 * time.Second)
	if s.cfg.Protocol == devices.ProtocolZigbee {
		// Zigbee2MQTT announces its devices, retained, and each device's
		// availability when that option is on.
		list := []map[string]string{}
		for _, n := range s.names() {
			list = append(list, map[string]string{"friendly_name": n, "type": "EndDevice"})
		}
		b, _ := json.Marshal(list)
		c.Publish(s.cfg.Address+"/bridge/devices", 0, true, b).WaitTimeout(5 * time.Second)
		if s.cfg.Availability {
			for _, n := range s.names() {
				s.SetAvailability(n, true)
			}
		}
	}
	s.mu.Lock()
	s.connected = true
	close(s.connCh)
	s.connCh = make(chan struct{})
	s.mu.Unlock()
}

// WaitConnected waits until the device is connected and has announced
// itself online.
func (s *Sim) WaitConnected(ctx context.Context) error {
	for {
		s.mu.Lock()
		ok, ch := s.connected, s.connCh
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("simulated device %s not connected: %w", s.cfg.Address, ctx.Err())
		}
	}
}

// SetMode switches the behaviour. Offline cuts the connection at once (the
// broker publishes the Last Will); leaving Offline reconnects.
func (s *Sim) SetMode(m Mode, delay time.Duration) {
	s.mu.Lock()
	prev := s.mode
	s.mode, s.delay = m, delay
	conn := s.conn
	if m == Offline {
		s.connected = false
	}
	s.mu.Unlock()
	if m == Offline && prev != Offline && conn != nil {
		conn.Cut()
	}
}

// Config returns the device's configuration.
func (s *Sim) Config() Config { return s.cfg }

// SetFaults switches the misbehaviours.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// State returns the device's current state.
func (s *Sim) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{Connected: s.connected && s.c.IsConnectionOpen(), Mode: s.mode, On: s.on, PulseTime: s.pulseTime}
}

// Actions returns what the device did, in order.
func (s *Sim) Actions() []Executed {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Executed(nil), s.actions...)
}

// Received returns every command message it got, in order.
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Publish sends a raw message with the device's connection (for tests of
// what the broker lets a device do). It waits for the broker's PUBACK at QoS 1.
func (s *Sim) Publish(topic string, qos byte, retained bool, payload []byte) error {
	tok := s.c.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("publish: no acknowledgement")
	}
	return tok.Error()
}

// Subscribe subscribes with the device's connection; it returns an error
// when the broker refuses the filter (SUBACK failure code 0x80).
func (s *Sim) Subscribe(filter string, h func(topic string, payload []byte)) error {
	tok := s.c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { h(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(5 * time.Second) {
		return errors.New("subscribe: no answer")
	}
	if err := tok.Error(); err != nil {
		return err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, code := range st.Result() {
			if code == 0x80 {
				return fmt.Errorf("subscribe %s: refused by the broker", filter)
			}
		}
	}
	return nil
}

// Close disconnects cleanly (no Last Will) and stops the timers.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	if s.offTimer != nil {
		s.offTimer.Stop()
	}
	s.mu.Unlock()
	topic, _, offline := s.presence()
	if s.c.IsConnectionOpen() {
		s.c.Publish(topic, 1, true, offline).WaitTimeout(time.Second)
	}
	s.c.Disconnect(100)
}

// SetAvailability publishes a Zigbee2MQTT device's availability, retained.
func (s *Sim) SetAvailability(name string, online bool) {
	on, off := s.zigbeeStates()
	p := off
	if online {
		p = on
	}
	s.c.Publish(s.cfg.Address+"/"+name+"/availability", 0, true, p).WaitTimeout(5 * time.Second)
}

// names are the friendly names a Zigbee2MQTT simulator carries.
func (s *Sim) names() []string { return s.cfg.Names }

// enqueue hands a command to the worker without blocking paho.
func (s *Sim) enqueue(_ paho.Client, m paho.Message) {
	select {
	case s.inbox <- m:
	default:
		s.record(Received{Topic: m.Topic(), Payload: string(m.Payload()), At: time.Now(), Outcome: "dropped"})
	}
}

func (s *Sim) work() {
	for {
		select {
		case <-s.done:
			return
		case m := <-s.inbox:
			s.onMessage(m)
		}
	}
}

// onMessage handles one command, in arrival order; a Slow device sleeps here.
func (s *Sim) onMessage(m paho.Message) {
	at := time.Now()
	s.mu.Lock()
	mode, delay, closed := s.mode, s.delay, s.closed
	s.mu.Unlock()
	rec := Received{Topic: m.Topic(), Payload: string(m.Payload()), At: at}
	if closed || mode == Offline {
		rec.Outcome = "closed"
		s.record(rec)
		return
	}
	if mode == Silent {
		rec.Outcome = "silent"
		s.record(rec)
		return
	}
	if mode == Slow && delay > 0 {
		time.Sleep(delay)
	}
	switch s.cfg.Protocol {
	case devices.ProtocolRelais:
		rec.Outcome = s.relais(m.Payload())
	case devices.ProtocolTasmota:
		rec.Outcome = s.tasmota(m.Topic(), m.Payload())
	case devices.ProtocolShelly:
		rec.Outcome = s.shelly(m.Payload())
	case devices.ProtocolZigbee:
		rec.Outcome = s.zigbee(m.Topic(), m.Payload())
		if rec.Outcome == "" {
			return // not a command: Zigbee2MQTT hears all of <base>/#
		}
	}
	s.record(rec)
}

func (s *Sim) record(r Received) {
	s.mu.Lock()
	s.received = append(s.received, r)
	s.mu.Unlock()
	if s.cfg.OnReceive != nil {
		s.cfg.OnReceive(r)
	}
}

// act switches the relay and arms the auto-off timer. The action is
// recorded before any answer leaves, so a confirmed command is visible in
// Actions as soon as Send returns.
func (s *Sim) act(cmdID string, a devices.Action, d time.Duration, afterOff func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	on := a == devices.ActionUnlock || a == devices.ActionPowerOn
	s.on = on
	if s.offTimer != nil {
		s.offTimer.Stop()
		s.offTimer = nil
	}
	s.actions = append(s.actions, Executed{CommandID: cmdID, Action: a, Duration: d, At: time.Now()})
	if on && d > 0 {
		s.offTimer = time.AfterFunc(d, func() {
			s.mu.Lock()
			if s.closed || !s.on {
				s.mu.Unlock()
				return
			}
			s.on = false
			off := devices.ActionPowerOff
			if a == devices.ActionUnlock {
				off = devices.ActionLock
			}
			s.actions = append(s.actions, Executed{Action: off, At: time.Now(), Auto: true})
			s.mu.Unlock()
			if afterOff != nil {
				afterOff()
			}
		})
	}
}

// once reports whether id is new, remembering it.
func (s *Sim) once(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[id] {
		return false
	}
	s.seen[id] = true
	return true
}

func (s *Sim) faultsNow() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// answer publishes a reply (twice with AnswerTwice).
func (s *Sim) answer(topic string, payload []byte) {
	n := 1
	if s.faultsNow().AnswerTwice {
		n = 2
	}
	for range n {
		s.c.Publish(topic, 0, false, payload).WaitTimeout(5 * time.Second)
	}
}

func (s *Sim) relais(payload []byte) string {
	var cmd struct {
		ID        string         `json:"id"`
		Action    devices.Action `json:"action"`
		DurationS float64        `json:"duration_s"`
		ExpiresAt time.Time      `json:"expires_at"`
	}
	if err := json.Unmarshal(payload, &cmd); err != nil || cmd.ID == "" {
		return "malformed"
	}
	// Our firmware's two rules: never act after expires_at, act once per id.
	if cmd.ExpiresAt.IsZero() || !time.Now().Before(cmd.ExpiresAt) {
		return "expired"
	}
	if !s.once(cmd.ID) {
		return "duplicate"
	}
	ack := "relais/" + s.cfg.SiteID + "/" + s.cfg.Address + "/ack"
	if msg := s.faultsNow().Reject; msg != "" {
		b, _ := json.Marshal(map[string]any{"id": cmd.ID, "ok": false, "error": msg})
		s.answer(ack, b)
		return "rejected"
	}
	d := time.Duration(cmd.DurationS * float64(time.Second))
	s.act(cmd.ID, cmd.Action, d, nil)
	id := cmd.ID
	if s.faultsNow().WrongID {
		id = "not-" + id
	}
	b, _ := json.Marshal(map[string]any{"id": id, "ok": true})
	s.answer(ack, b)
	return "acted"
}

func (s *Sim) tasmota(topic string, payload []byte) string {
	cmd := topic[strings.LastIndexByte(topic, '/')+1:]
	upper := strings.ToUpper(cmd)
	stat := "stat/" + s.cfg.Address + "/"
	switch {
	case strings.HasPrefix(upper, "PULSETIME"):
		v, err := strconv.Atoi(strings.TrimSpace(string(payload)))
		if err != nil {
			return "malformed"
		}
		s.mu.Lock()
		s.pulseTime = v
		s.mu.Unlock()
		b, _ := json.Marshal(map[string]any{cmd: map[string]int{"Set": v, "Remaining": 0}})
		s.c.Publish(stat+"RESULT", 0, false, b)
		return "setting"
	case strings.HasPrefix(upper, "POWER"):
		v := strings.ToUpper(strings.TrimSpace(string(payload)))
		if v != "ON" && v != "OFF" {
			return "malformed"
		}
		a := devices.ActionPowerOff
		if v == "ON" {
			a = devices.ActionPowerOn
		}
		s.mu.Lock()
		pulse := devices.PulseDuration(s.pulseTime)
		s.mu.Unlock()
		if v == "OFF" {
			pulse = 0
		}
		report := func(state string) {
			b, _ := json.Marshal(map[string]string{cmd: state})
			s.answer(stat+"RESULT", b)
			s.answer(stat+cmd, []byte(state))
		}
		s.act("", a, pulse, func() { report("OFF") })
		if s.faultsNow().WrongID {
			v = map[string]string{"ON": "OFF", "OFF": "ON"}[v]
		}
		report(v)
		return "acted"
	}
	return "ignored"
}

func (s *Sim) shelly(payload []byte) string {
	var req struct {
		ID     int64  `json:"id"`
		Src    string `json:"src"`
		Method string `json:"method"`
		Params struct {
			ID          int      `json:"id"`
			On          bool     `json:"on"`
			ToggleAfter *float64 `json:"toggle_after"`
		} `json:"params"`
	}
	if err := json.Unmarshal(payload, &req); err != nil || req.Src == "" {
		return "malformed"
	}
	if !s.once(strconv.FormatInt(req.ID, 10)) {
		return "duplicate"
	}
	id := req.ID
	if s.faultsNow().WrongID {
		id++
	}
	resp := map[string]any{"id": id, "src": s.cfg.Address, "dst": req.Src}
	if req.Method != "Switch.Set" || req.Params.ID != s.cfg.Channel {
		resp["error"] = map[string]any{"code": 404, "message": "No handler for " + req.Method}
		b, _ := json.Marshal(resp)
		s.answer(req.Src+"/rpc", b)
		return "refused"
	}
	s.mu.Lock()
	was := s.on
	s.mu.Unlock()
	a := devices.ActionPowerOff
	if req.Params.On {
		a = devices.ActionPowerOn
	}
	var d time.Duration
	if req.Params.ToggleAfter != nil {
		d = time.Duration(*req.Params.ToggleAfter * float64(time.Second))
	}
	s.act(strconv.FormatInt(req.ID, 10), a, d, nil)
	resp["result"] = map[string]bool{"was_on": was}
	b, _ := json.Marshal(resp)
	s.answer(req.Src+"/rpc", b)
	return "acted"
}

// zigbee handles <base>/<name>/set and /get for the names it carries, as
// Zigbee2MQTT does for a lock (tz.lock: state LOCK/UNLOCK, reported back
// with lock_state) or a plug (tz.on_off: state ON/OFF, on_time).
func (s *Sim) zigbee(topic string, payload []byte) string {
	rest, ok := strings.CutPrefix(topic, s.cfg.Address+"/")
	if !ok {
		return ""
	}
	var name, verb string
	for _, n := range s.names() {
		if rest == n+"/set" || rest == n+"/get" {
			name, verb = n, rest[len(n)+1:]
		}
	}
	if name == "" {
		return ""
	}
	out := s.cfg.Address + "/" + name
	f := s.faultsNow()
	if f.Unreachable {
		msg := fmt.Sprintf("Publish '%s' 'state' to '%s' failed: 'Error: Delivery failed for '12345' (MAC_NO_ACK)'", verb, name)
		b, _ := json.Marshal(map[string]string{"level": "error", "message": msg, "namespace": "z2m"})
		s.c.Publish(s.cfg.Address+"/bridge/logging", 0, false, b)
		return "refused"
	}
	lockState := func(on bool) []byte {
		switch {
		case f.Jammed:
			return []byte(`{"state":"UNLOCK","lock_state":"not_fully_locked"}`)
		case on:
			return []byte(`{"state":"UNLOCK","lock_state":"unlocked"}`)
		}
		return []byte(`{"state":"LOCK","lock_state":"locked"}`)
	}
	var req struct {
		State  string   `json:"state"`
		OnTime *float64 `json:"on_time"`
	}
	if verb == "get" {
		s.mu.Lock()
		on := s.on
		s.mu.Unlock()
		s.answer(out, lockState(on))
		return "setting"
	}
	if err := json.Unmarshal(payload, &req); err != nil {
		return "malformed"
	}
	switch req.State {
	case "UNLOCK", "LOCK":
		a := devices.ActionLock
		if req.State == "UNLOCK" {
			a = devices.ActionUnlock
		}
		if f.Jammed {
			s.answer(out, lockState(false))
			return "jammed"
		}
		s.act("", a, s.cfg.AutoRelock, func() { s.answer(out, lockState(false)) })
		on := a == devices.ActionUnlock
		if f.WrongID {
			on = !on
		}
		s.answer(out, lockState(on))
	case "ON", "OFF":
		a := devices.ActionPowerOff
		var d time.Duration
		if req.State == "ON" {
			a = devices.ActionPowerOn
			if req.OnTime != nil {
				d = time.Duration(*req.OnTime * float64(time.Second))
			}
		}
		s.act("", a, d, func() { s.answer(out, []byte(`{"state":"OFF"}`)) })
		v := req.State
		if f.WrongID {
			v = map[string]string{"ON": "OFF", "OFF": "ON"}[v]
		}
		b, _ := json.Marshal(map[string]string{"state": v})
		s.answer(out, b)
	default:
		return "malformed"
	}
	return "acted"
}
