package devices

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
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

// busyKey names the one command slot of a device whose protocol has no
// correlation id (Tasmota, Zigbee2MQTT): its client's root and channel.
func busyKey(p Protocol, root string, channel int) string {
	if p == ProtocolTasmota && channel <= 1 {
		// POWER and POWER1 answer alike: one slot for both.
		channel = 1
	}
	return fmt.Sprintf("%s|%s|%d", p, root, channel)
}

// presenceKey names what a presence topic speaks for: a client (a device
// that logs in by itself, or a bridge) by its protocol and root. Every
// channel of a physical device shares it.
func presenceKey(p Protocol, root string) string { return string(p) + "|" + root }

// availabilityKey names a Zigbee2MQTT device's own availability.
func availabilityKey(root string) string { return "availability|" + root }

// clientRoot is the root of the client that carries d.
func clientRoot(d *Device) string {
	if d.Protocol == ProtocolZigbee {
		return zigbeeBase(d)
	}
	return d.TopicRoot
}

// Start connects the service to a broker: it subscribes to every reply and
// presence topic of every protocol and to each bridge's topics (the
// transport re-subscribes after a reconnection), and from then on keeps
// presence in memory and in the database. Call it once.
func (s *Service) Start(ctx context.Context, t Transport) error {
	s.mu.Lock()
	if s.t != nil {
		s.mu.Unlock()
		return errors.New("devices: Start called twice")
	}
	s.t = t
	s.mu.Unlock()
	go s.presenceLoop(context.WithoutCancel(ctx))
	// The registry first: the retained presence of every client comes at
	// once when subscribing, and only registered keys are kept.
	if err := s.refreshRegistry(ctx); err != nil {
		return err
	}
	for _, f := range subscriptions {
		if err := t.Subscribe(f, s.handle); err != nil {
			return fmt.Errorf("subscribe %s: %w", f, err)
		}
	}
	if err := s.syncTopics(ctx); err != nil {
		return err
	}
	go s.syncLoop(context.WithoutCancel(ctx))
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
// nothing was heard from it (or its bridge) since Start. A device behind a
// Zigbee2MQTT bridge is online when its bridge is, unless its own
// availability says offline.
func (s *Service) Online(d *Device) (online, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onlineLocked(d)
}

func (s *Service) onlineLocked(d *Device) (online, known bool) {
	online, known = s.presence[presenceKey(d.Protocol, clientRoot(d))]
	if online && d.Protocol == ProtocolZigbee {
		if avail, ok := s.presence[availabilityKey(d.TopicRoot)]; ok && !avail {
			return false, true
		}
	}
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
	t, err := s.reachable(d)
	if err != nil {
		outcome = "offline"
		return nil, err
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

	if outcome, err = publish(ctx, t, d, cmd, msgs); err != nil {
		return nil, err
	}
	var res *Result
	res, outcome, err = await(ctx, p, timeout)
	return res, err
}

// reachable returns the transport that reaches d, or ErrOffline when d is
// retired, known offline or never heard of, or when no broker is connected.
func (s *Service) reachable(d *Device) (Transport, error) {
	if d.RetiredAt != nil {
		return nil, fmt.Errorf("device %s is retired: %w", d.ID, ErrOffline)
	}
	s.mu.Lock()
	t := s.t
	online, known := s.onlineLocked(d)
	s.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("device %s: not connected to a broker: %w", d.ID, ErrOffline)
	}
	// A device never heard of is refused at once, like one known offline:
	// waiting for an answer that cannot come would only keep a member at
	// the door.
	if !known {
		return nil, fmt.Errorf("device %s has not been seen online: %w", d.ID, ErrOffline)
	}
	if !online {
		return nil, fmt.Errorf("device %s is offline: %w", d.ID, ErrOffline)
	}
	return t, nil
}

// publish sends cmd's messages to d. On failure it returns the outcome
// Send counts: "offline" when the broker is not reachable, "error"
// otherwise.
func publish(ctx context.Context, t Transport, d *Device, cmd Command, msgs []outMsg) (outcome string, err error) {
	// The connection is checked right before sending: a command must not
	// sit in a client's queue and arrive after a reconnection.
	if !t.Connected() {
		return "offline", fmt.Errorf("device %s: broker connection is down: %w", d.ID, ErrOffline)
	}
	for _, m := range msgs {
		if err := t.Publish(ctx, m.topic, m.qos, m.payload); err != nil {
			outcome = "error"
			if errors.Is(err, ErrOffline) {
				outcome = "offline"
			}
			return outcome, fmt.Errorf("send %s to device %s: %w", cmd.Action, d.ID, err)
		}
	}
	return "", nil
}

// await waits for p's reply until timeout passes or ctx ends, and names
// the outcome Send counts.
func await(ctx context.Context, p *pending, timeout time.Duration) (res *Result, outcome string, err error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-p.done:
		if r.err != nil {
			return nil, "rejected", fmt.Errorf("device %s: %w", p.dev.ID, r.err)
		}
		return &Result{CommandID: p.cmd.ID, SentAt: p.sentAt, ConfirmedAt: r.at}, "confirmed", nil
	case <-timer.C:
		return nil, "timeout", fmt.Errorf("device %s: %s after %s: %w", p.dev.ID, p.cmd.Action, timeout, ErrTimeout)
	case <-ctx.Done():
		return nil, "canceled", fmt.Errorf("device %s: %w", p.dev.ID, ctx.Err())
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
	k := busyKey(d.Protocol, d.TopicRoot, d.Channel)
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

// complete hands a reply to the command waiting under key, once. decide
// says whether this message answers that command, and how; complete
// reports false when no command waits (a duplicate, late or foreign answer)
// or the message is not its answer.
func (s *Service) complete(key string, decide func(*pending) (reply, bool)) bool {
	s.mu.Lock()
	p, ok := s.pending[key]
	m := s.pending
	if !ok {
		p, ok = s.busy[key]
		m = s.busy
	}
	if !ok {
		s.mu.Unlock()
		return false
	}
	r, answers := decide(p)
	if !answers {
		s.mu.Unlock()
		return false
	}
	delete(m, key)
	s.mu.Unlock()
	p.done <- r
	return true
}

// answered is a decide function for replies that always answer.
func answered(r reply, from func(*pending) bool) func(*pending) (reply, bool) {
	return func(p *pending) (reply, bool) { return r, from == nil || from(p) }
}

// skipKnownPulse drops the PulseTime message when the device was last set
// to the same value: PulseTime is a stored setting, and rewriting it on
// every unlock wears the device's flash.
func (s *Service) skipKnownPulse(d *Device, msgs []outMsg) []outMsg {
	if len(msgs) < 2 {
		return msgs
	}
	k := busyKey(d.Protocol, d.TopicRoot, d.Channel)
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
