package devices

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/internal/id"
)

// pending is a command waiting for its confirmation.
type pending struct {
	dev      Device
	cmd      Command
	sentAt   time.Time
	shellyID int64
	done     chan reply // buffered 1: whoever completes it never blocks
}

type reply struct {
	at  time.Time
	err error // nil: confirmed; otherwise wraps ErrRejected
}

// identityKey names a device's MQTT identity: the relais protocol scopes
// addresses by site, the others are global.
func identityKey(p Protocol, site, address string, channel int) string {
	if p != ProtocolRelais {
		site = ""
	}
	return fmt.Sprintf("%s|%s|%s|%d", p, site, address, channel)
}

// presenceKey names what a presence topic speaks for: every channel of a
// physical device shares it.
func presenceKey(p Protocol, site, address string) string {
	if p != ProtocolRelais {
		site = ""
	}
	return string(p) + "|" + site + "|" + address
}

// Start connects the service to a broker: it subscribes to every reply and
// presence topic of every protocol (the transport re-subscribes after a
// reconnection) and from then on keeps presence in memory and in the
// database. Call it once.
func (s *Service) Start(ctx context.Context, t Transport) error {
	s.mu.Lock()
	if s.t != nil {
		s.mu.Unlock()
		return errors.New("devices: Start called twice")
	}
	s.t = t
	s.mu.Unlock()
	go s.presenceLoop(context.WithoutCancel(ctx))
	for _, f := range subscriptions {
		if err := t.Subscribe(f, s.handle); err != nil {
			return fmt.Errorf("subscribe %s: %w", f, err)
		}
	}
	return nil
}

// timeout returns how long to wait for d's confirmation.
func (s *Service) timeout(d *Device, cmd Command) time.Duration {
	if cmd.Timeout > 0 {
		return cmd.Timeout
	}
	if d.Protocol == ProtocolZigbee {
		return s.zigbeeTimeout
	}
	return s.cmdTimeout
}

// Online reports the device's presence as last heard: known is false when
// nothing was heard from it since Start.
func (s *Service) Online(d *Device) (online, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	online, known = s.presence[presenceKey(d.Protocol, d.SiteID, d.Address)]
	return online, known
}

// Send delivers cmd to d and waits until the device confirms, the timeout
// passes or ctx ends. It sends nothing, and returns ErrOffline, when d is
// known offline or the broker connection is not open. A command is never
// retried: a door that did not open must be asked again by a person.
func (s *Service) Send(ctx context.Context, d *Device, cmd Command) (*Result, error) {
	if !cmd.Action.valid() {
		return nil, fmt.Errorf("devices: unknown action %q", cmd.Action)
	}
	if cmd.ID == "" {
		cmd.ID = id.New()
	}
	if cmd.Duration == 0 && cmd.Action == ActionUnlock {
		cmd.Duration = time.Duration(max(d.PulseSeconds, 1)) * time.Second
	}
	start := time.Now()
	outcome := "error"
	defer func() {
		s.metrics.commands.WithLabelValues(string(d.Protocol), outcome).Inc()
		if outcome == "confirmed" {
			s.metrics.latency.WithLabelValues(string(d.Protocol)).Observe(time.Since(start).Seconds())
		}
	}()
	if d.RetiredAt != nil {
		outcome = "offline"
		return nil, fmt.Errorf("device %s is retired: %w", d.ID, ErrOffline)
	}

	s.mu.Lock()
	t := s.t
	online, known := s.presence[presenceKey(d.Protocol, d.SiteID, d.Address)]
	s.mu.Unlock()
	if t == nil {
		outcome = "offline"
		return nil, fmt.Errorf("device %s: not connected to a broker: %w", d.ID, ErrOffline)
	}
	if known && !online {
		outcome = "offline"
		return nil, fmt.Errorf("device %s is offline: %w", d.ID, ErrOffline)
	}

	timeout := s.timeout(d, cmd)
	sentAt := s.now()
	p := &pending{dev: *d, cmd: cmd, sentAt: sentAt, done: make(chan reply, 1)}
	if d.Protocol == ProtocolShelly {
		p.shellyID = shellyID()
	}
	msgs, err := encode(d, cmd, sentAt.Add(timeout), p.shellyID)
	if err != nil {
		return nil, err
	}
	if d.Protocol == ProtocolTasmota {
		msgs = s.skipKnownPulse(d, msgs)
	}

	key := s.register(p)
	if key == "" {
		outcome = "busy"
		return nil, fmt.Errorf("device %s: %w", d.ID, ErrBusy)
	}
	defer s.unregister(key, p)

	// The connection is checked right before sending: a command must not
	// sit in a client's queue and arrive after a reconnection.
	if !t.Connected() {
		outcome = "offline"
		return nil, fmt.Errorf("device %s: broker connection is down: %w", d.ID, ErrOffline)
	}
	for _, m := range msgs {
		if err := t.Publish(ctx, m.topic, m.qos, m.payload); err != nil {
			if errors.Is(err, ErrOffline) {
				outcome = "offline"
			}
			return nil, fmt.Errorf("send %s to device %s: %w", cmd.Action, d.ID, err)
		}
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-p.done:
		if r.err != nil {
			outcome = "rejected"
			return nil, fmt.Errorf("device %s: %w", d.ID, r.err)
		}
		outcome = "confirmed"
		return &Result{CommandID: cmd.ID, SentAt: sentAt, ConfirmedAt: r.at}, nil
	case <-timer.C:
		outcome = "timeout"
		return nil, fmt.Errorf("device %s: %s after %s: %w", d.ID, cmd.Action, timeout, ErrTimeout)
	case <-ctx.Done():
		outcome = "canceled"
		return nil, fmt.Errorf("device %s: %w", d.ID, ctx.Err())
	}
}

// register records p as awaiting a reply and returns its key, or "" when
// the device is busy (a protocol without correlation ids allows one
// command in flight).
func (s *Service) register(p *pending) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &p.dev
	switch d.Protocol {
	case ProtocolRelais:
		s.pending[p.cmd.ID] = p
		return p.cmd.ID
	case ProtocolShelly:
		k := fmt.Sprintf("shelly:%d", p.shellyID)
		s.pending[k] = p
		return k
	}
	k := identityKey(d.Protocol, d.SiteID, d.Address, d.Channel)
	if d.Protocol == ProtocolTasmota && d.Channel <= 1 {
		// POWER and POWER1 answer alike: one slot for both.
		k = identityKey(d.Protocol, "", d.Address, 1)
	}
	if _, taken := s.busy[k]; taken {
		return ""
	}
	s.busy[k] = p
	return k
}

func (s *Service) unregister(key string, p *pending) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending[key] == p {
		delete(s.pending, key)
	}
	if s.busy[key] == p {
		delete(s.busy, key)
	}
}

// complete hands a reply to the command waiting under key, once. It
// reports false when no command waits (a duplicate, late or foreign answer).
func (s *Service) complete(key string, match func(*pending) bool, r reply) bool {
	s.mu.Lock()
	p, ok := s.pending[key]
	m := s.pending
	if !ok {
		p, ok = s.busy[key]
		m = s.busy
	}
	if !ok || (match != nil && !match(p)) {
		s.mu.Unlock()
		return false
	}
	delete(m, key)
	s.mu.Unlock()
	p.done <- r
	return true
}

// skipKnownPulse drops the PulseTime message when the device was last set
// to the same value: PulseTime is a stored setting, and rewriting it on
// every unlock wears the device's flash.
func (s *Service) skipKnownPulse(d *Device, msgs []outMsg) []outMsg {
	if len(msgs) < 2 {
		return msgs
	}
	k := identityKey(d.Protocol, "", d.Address, d.Channel)
	v := string(msgs[0].payload)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pulses == nil {
		s.pulses = map[string]string{}
	}
	if s.pulses[k] == v {
		return msgs[1:]
	}
	s.pulses[k] = v
	return msgs
}

// shellyID returns a random positive id that fits a JSON number without loss.
func shellyID() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.BigEndian.Uint64(b[:])>>11) + 1
}

// handle receives every message on the subscribed topics. It runs on the
// transport's delivery goroutine and never blocks: replies complete a
// buffered channel, presence goes to a queue.
func (s *Service) handle(m Message) {
	levels := strings.Split(m.Topic, "/")
	switch {
	case len(levels) == 4 && levels[0] == "relais" && levels[3] == "ack":
		s.handleRelaisAck(levels[1], levels[2], m.Payload)
	case len(levels) == 4 && levels[0] == "relais" && levels[3] == "status":
		s.presenceMessage(ProtocolRelais, levels[1], levels[2], string(m.Payload) == "online", string(m.Payload) == "offline")
	case len(levels) == 3 && levels[0] == "stat":
		s.handleTasmotaStat(levels[1], levels[2], m.Payload)
	case len(levels) == 3 && levels[0] == "tele" && levels[2] == "LWT":
		s.presenceMessage(ProtocolTasmota, "", levels[1], string(m.Payload) == "Online", string(m.Payload) == "Offline")
	case len(levels) == 3 && levels[0] == ShellyReplyPrefix && levels[2] == "rpc":
		s.handleShellyReply(levels[1], m.Payload)
	case len(levels) == 2 && levels[1] == "online":
		s.presenceMessage(ProtocolShelly, "", levels[0], string(m.Payload) == "true", string(m.Payload) == "false")
	case len(levels) == 3 && levels[0] == "zigbee2mqtt" && levels[2] == "availability":
		var v struct {
			State string `json:"state"`
		}
		if json.Unmarshal(m.Payload, &v) != nil {
			// Zigbee2MQTT's legacy format is a bare online/offline.
			v.State = string(m.Payload)
		}
		s.presenceMessage(ProtocolZigbee, "", levels[1], v.State == "online", v.State == "offline")
	case len(levels) == 2 && levels[0] == "zigbee2mqtt" && levels[1] != "bridge":
		if !m.Retained { // a retained state predates the command
			s.handleZigbeeState(levels[1], m.Payload)
		}
	}
}

func (s *Service) ignored(p Protocol, reason string) {
	s.metrics.ignored.WithLabelValues(string(p), reason).Inc()
}

func (s *Service) handleRelaisAck(site, address string, payload []byte) {
	var a relaisAck
	if err := json.Unmarshal(payload, &a); err != nil || a.ID == "" {
		s.ignored(ProtocolRelais, "malformed")
		return
	}
	r := reply{at: s.now()}
	if !a.OK {
		r.err = fmt.Errorf("%w: %s", ErrRejected, a.Error)
	}
	// The ack must come from the device the command went to: with a broker
	// without ACLs another device could otherwise confirm it.
	from := func(p *pending) bool { return p.dev.SiteID == site && p.dev.Address == address }
	if !s.complete(a.ID, from, r) {
		s.ignored(ProtocolRelais, "unknown_id")
		s.log.Debug("device answer ignored: no command waits for it", "protocol", ProtocolRelais, "site", site, "address", address, "id", a.ID)
	}
}

func (s *Service) handleShellyReply(address string, payload []byte) {
	var r shellyResponse
	if err := json.Unmarshal(payload, &r); err != nil || r.ID == 0 {
		s.ignored(ProtocolShelly, "malformed")
		return
	}
	rep := reply{at: s.now()}
	if r.Error != nil {
		rep.err = fmt.Errorf("%w: %d %s", ErrRejected, r.Error.Code, r.Error.Message)
	}
	from := func(p *pending) bool { return p.dev.Address == address }
	if !s.complete(fmt.Sprintf("shelly:%d", r.ID), from, rep) {
		s.ignored(ProtocolShelly, "unknown_id")
		s.log.Debug("device answer ignored: no command waits for it", "protocol", ProtocolShelly, "address", address, "id", r.ID)
	}
}

// handleTasmotaStat confirms the command in flight when the device reports
// the state it asked for: stat/<topic>/RESULT {"POWER1":"ON"} or
// stat/<topic>/POWER1 ON. Tasmota sends both; the second finds nothing in
// flight and is ignored.
func (s *Service) handleTasmotaStat(address, leaf string, payload []byte) {
	var ch int
	var state string
	switch {
	case leaf == "RESULT":
		// Which channel? Try the slot of each channel in flight for this device.
		s.mu.Lock()
		var chans []int
		for _, p := range s.busy {
			if p.dev.Protocol == ProtocolTasmota && p.dev.Address == address {
				chans = append(chans, p.dev.Channel)
			}
		}
		s.mu.Unlock()
		for _, c := range chans {
			if v, ok := tasmotaPowerValue(payload, c); ok {
				s.confirmTasmota(address, c, v)
			}
		}
		return
	case strings.HasPrefix(leaf, "POWER"):
		n := strings.TrimPrefix(leaf, "POWER")
		if n != "" {
			if _, err := fmt.Sscan(n, &ch); err != nil {
				return
			}
		}
		state = strings.ToUpper(strings.TrimSpace(string(payload)))
		s.confirmTasmota(address, ch, state)
	}
}

func (s *Service) confirmTasmota(address string, ch int, state string) {
	if ch <= 1 {
		ch = 1
	}
	k := identityKey(ProtocolTasmota, "", address, ch)
	want := func(p *pending) bool {
		return (state == "ON") == p.cmd.Action.on() && (state == "ON" || state == "OFF")
	}
	if !s.complete(k, want, reply{at: s.now()}) {
		s.ignored(ProtocolTasmota, "not_in_flight")
	}
}

func (s *Service) handleZigbeeState(name string, payload []byte) {
	var v struct {
		State     string `json:"state"`
		LockState string `json:"lock_state"`
	}
	if json.Unmarshal(payload, &v) != nil {
		s.ignored(ProtocolZigbee, "malformed")
		return
	}
	k := identityKey(ProtocolZigbee, "", name, 0)
	want := func(p *pending) bool {
		if p.cmd.Action == ActionUnlock {
			return v.State == "UNLOCK" || v.LockState == "unlocked"
		}
		return v.State == "LOCK" || v.LockState == "locked"
	}
	if !s.complete(k, want, reply{at: s.now()}) {
		s.ignored(ProtocolZigbee, "not_in_flight")
	}
}
