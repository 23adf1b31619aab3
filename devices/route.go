package devices

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// handle receives every message on the subscribed topics. It runs on the
// transport's delivery goroutine and never blocks: replies complete a
// buffered channel, presence becomes its client's pending write.
func (s *Service) handle(m Message) {
	levels := strings.Split(m.Topic, "/")
	if s.routeZigbee(m, levels) {
		return
	}
	switch {
	case len(levels) == 4 && levels[0] == "relais" && levels[3] == "ack":
		s.handleRelaisAck(strings.Join(levels[:3], "/"), m)
	case len(levels) == 4 && levels[0] == "relais" && levels[3] == "status":
		s.presenceMessage(ProtocolRelais, strings.Join(levels[:3], "/"), string(m.Payload) == "online", string(m.Payload) == "offline")
	case len(levels) == 3 && levels[0] == "stat":
		s.handleTasmotaStat(levels[1], levels[2], m)
	case len(levels) == 3 && levels[0] == "tele" && levels[2] == "LWT":
		s.presenceMessage(ProtocolTasmota, levels[1], string(m.Payload) == "Online", string(m.Payload) == "Offline")
	case len(levels) == 3 && levels[0] == ShellyReplyPrefix && levels[2] == "rpc":
		s.handleShellyReply(levels[1], m)
	case len(levels) >= 2 && levels[len(levels)-1] == "online" && !reservedRoots[levels[0]]:
		// A Shelly's <topic_prefix>/online; the prefix may hold '/'.
		s.presenceMessage(ProtocolShelly, strings.TrimSuffix(m.Topic, "/online"), string(m.Payload) == "true", string(m.Payload) == "false")
	}
}

func (s *Service) ignored(p Protocol, reason string) {
	s.metrics.ignored.WithLabelValues(string(p), reason).Inc()
}

// A retained reply was published before relais subscribed: it cannot
// answer a command sent since, and a device must not be able to leave one
// to confirm the next command in advance.
func (s *Service) retainedReply(p Protocol, m Message) bool {
	if m.Retained {
		s.ignored(p, "retained")
	}
	return m.Retained
}

func (s *Service) handleRelaisAck(root string, m Message) {
	if s.retainedReply(ProtocolRelais, m) {
		return
	}
	var a relaisAck
	if err := json.Unmarshal(m.Payload, &a); err != nil || a.ID == "" {
		s.ignored(ProtocolRelais, "malformed")
		return
	}
	r := reply{at: s.now()}
	if !a.OK {
		r.err = fmt.Errorf("%w: %s", ErrRejected, a.Error)
	}
	// The ack must come from the device the command went to: with a broker
	// without ACLs another device could otherwise confirm it.
	from := func(p *pending) bool { return p.dev.TopicRoot == root }
	if !s.complete(a.ID, answered(r, from)) {
		s.ignored(ProtocolRelais, "unknown_id")
		s.log.Debug("device answer ignored: no command waits for it", "protocol", ProtocolRelais, "topic", m.Topic, "id", a.ID)
	}
}

// handleShellyReply takes an answer on relais-rpc/<client id>/rpc: the
// client is the Shelly (or Shelly bridge) the request went to.
func (s *Service) handleShellyReply(clientID string, m Message) {
	if s.retainedReply(ProtocolShelly, m) {
		return
	}
	var r shellyResponse
	if err := json.Unmarshal(m.Payload, &r); err != nil || r.ID == 0 {
		s.ignored(ProtocolShelly, "malformed")
		return
	}
	rep := reply{at: s.now()}
	if r.Error != nil {
		rep.err = fmt.Errorf("%w: %d %s", ErrRejected, r.Error.Code, r.Error.Message)
	}
	from := func(p *pending) bool { return p.dev.clientID() == clientID }
	if !s.complete(fmt.Sprintf("shelly:%d", r.ID), answered(rep, from)) {
		s.ignored(ProtocolShelly, "unknown_id")
		s.log.Debug("device answer ignored: no command waits for it", "protocol", ProtocolShelly, "client", clientID, "id", r.ID)
	}
}

// handleTasmotaStat confirms the command in flight when the device reports
// the state it asked for: stat/<topic>/RESULT {"POWER1":"ON"} or
// stat/<topic>/POWER1 ON. Tasmota sends both; the second finds nothing in
// flight and is ignored.
func (s *Service) handleTasmotaStat(root, leaf string, m Message) {
	if s.retainedReply(ProtocolTasmota, m) {
		return
	}
	switch {
	case leaf == "RESULT":
		// Which channel? Try the slot of each channel in flight for this device.
		s.mu.Lock()
		var chans []int
		for _, p := range s.busy {
			if p.dev.Protocol == ProtocolTasmota && p.dev.TopicRoot == root {
				chans = append(chans, p.dev.Channel)
			}
		}
		s.mu.Unlock()
		for _, c := range chans {
			if v, ok := tasmotaPowerValue(m.Payload, c); ok {
				s.confirmTasmota(root, c, v)
			}
		}
	case strings.HasPrefix(leaf, "POWER"):
		var ch int
		if n := strings.TrimPrefix(leaf, "POWER"); n != "" {
			if _, err := fmt.Sscan(n, &ch); err != nil {
				return
			}
		}
		s.confirmTasmota(root, ch, strings.ToUpper(strings.TrimSpace(string(m.Payload))))
	}
}

func (s *Service) confirmTasmota(root string, ch int, state string) {
	decide := func(p *pending) (reply, bool) {
		ok := (state == "ON" || state == "OFF") && (state == "ON") == p.cmd.Action.on()
		return reply{at: s.now()}, ok
	}
	if !s.complete(busyKey(ProtocolTasmota, root, ch), decide) {
		s.ignored(ProtocolTasmota, "not_in_flight")
	}
}

// routeZigbee handles a message under a Zigbee2MQTT bridge's base topic,
// and reports whether it was one. Bases never nest (see topics.go), so the
// first that matches is the only one.
func (s *Service) routeZigbee(m Message, levels []string) bool {
	s.mu.Lock()
	n := 0
	for i := 1; i < len(levels) && n == 0; i++ {
		if s.zigbeeBases[strings.Join(levels[:i], "/")] {
			n = i
		}
	}
	s.mu.Unlock()
	if n == 0 {
		return false
	}
	base, rest := strings.Join(levels[:n], "/"), levels[n:]
	last := rest[len(rest)-1]
	switch {
	case rest[0] == "bridge":
		switch strings.Join(rest, "/") {
		case "bridge/state":
			v := zigbeePresence(m.Payload)
			s.presenceMessage(ProtocolZigbee, base, v == "online", v == "offline")
		case "bridge/logging":
			if !m.Retained {
				s.handleZigbeeLog(base, m.Payload)
			}
		}
	case len(rest) > 1 && last == "availability":
		v := zigbeePresence(m.Payload)
		s.availabilityMessage(base, strings.TrimSuffix(m.Topic, "/availability"), v == "online", v == "offline")
	case len(rest) > 1 && (last == "set" || last == "get"):
		// Commands, ours among them: Zigbee2MQTT subscribes to <base>/#.
	default:
		s.handleZigbeeState(m)
	}
	return true
}

// zigbeePresence reads a Zigbee2MQTT availability or bridge state: JSON
// {"state":"online"} since 2.0, the bare word before.
func zigbeePresence(payload []byte) string {
	var v struct {
		State string `json:"state"`
	}
	if json.Unmarshal(payload, &v) != nil {
		return strings.TrimSpace(string(payload))
	}
	return v.State
}

// zigbeeReport is what Zigbee2MQTT publishes on a lock's or plug's topic.
type zigbeeReport struct {
	State     string `json:"state"`
	LockState string `json:"lock_state"`
	DoorState string `json:"door_state"`
}

// ErrJammed: a lock reported a bolt neither locked nor unlocked.
var ErrJammed = fmt.Errorf("%w: the lock reports a jammed bolt (not fully locked or unlocked)", ErrRejected)

// zigbeeAnswer decides whether a report answers the command p, and how.
// A lock's lock_state is the truth when present: Zigbee2MQTT reports
// state "UNLOCK" for every lock_state but "locked", so a jammed bolt
// (not_fully_locked) would otherwise read as an unlock.
func zigbeeAnswer(p *pending, v zigbeeReport) (err error, answers bool) {
	if p.dev.Kind == KindLock {
		switch {
		case v.LockState == "not_fully_locked" || v.DoorState == "error_jammed":
			return ErrJammed, true
		case v.LockState != "":
			return nil, v.LockState == map[bool]string{true: "unlocked", false: "locked"}[p.cmd.Action == ActionUnlock]
		}
		return nil, v.State == zigbeeState(p.cmd.Action)
	}
	return nil, v.State == map[bool]string{true: "ON", false: "OFF"}[p.cmd.Action.on()]
}

func (s *Service) handleZigbeeState(m Message) {
	if s.retainedReply(ProtocolZigbee, m) {
		return
	}
	var v zigbeeReport
	if json.Unmarshal(m.Payload, &v) != nil {
		s.ignored(ProtocolZigbee, "malformed")
		return
	}
	decide := func(p *pending) (reply, bool) {
		err, ok := zigbeeAnswer(p, v)
		return reply{at: s.now(), err: err}, ok
	}
	if !s.complete(busyKey(ProtocolZigbee, m.Topic, 0), decide) {
		s.ignored(ProtocolZigbee, "not_in_flight")
	}
}

// zigbeeFailure is the message Zigbee2MQTT logs when a command to a device
// fails (lib/extension/publish.ts): the command then never gets a state.
var zigbeeFailure = regexp.MustCompile(`^Publish '[^']*' '[^']*' to '(.+)' failed: (.*)$`)

// handleZigbeeLog fails at once the command in flight to a device that
// Zigbee2MQTT says it could not reach, instead of waiting for the timeout.
func (s *Service) handleZigbeeLog(base string, payload []byte) {
	var v struct {
		Level   string `json:"level"`
		Message string `json:"message"`
	}
	if json.Unmarshal(payload, &v) != nil || v.Level != "error" {
		return
	}
	sub := zigbeeFailure.FindStringSubmatch(v.Message)
	if sub == nil {
		return
	}
	r := reply{at: s.now(), err: fmt.Errorf("%w: Zigbee2MQTT: %s", ErrRejected, sub[2])}
	s.complete(busyKey(ProtocolZigbee, base+"/"+sub[1], 0), answered(r, nil))
}

// DefaultTopicSync is how often each replica reads the bridges and Shelly
// prefixes registered through other replicas, to subscribe to their topics.
const DefaultTopicSync = 5 * time.Second

// syncTopics reads the presence registry (refreshRegistry), subscribes to
// the topics of every Zigbee2MQTT bridge and every Shelly whose prefix has
// several levels (the fixed wildcards do not reach them), and unsubscribes
// from those retired.
func (s *Service) syncTopics(ctx context.Context) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	// Before subscribing: a new bridge's retained messages find its keys.
	if err := s.refreshRegistry(ctx); err != nil {
		return err
	}
	var rows []struct {
		Protocol Protocol
		Root     string
	}
	err := s.db.NewRaw(`SELECT protocol, address AS root FROM bridges
		WHERE retired_at IS NULL AND (protocol = 'zigbee2mqtt' OR (protocol = 'shelly' AND address LIKE '%/%'))
		UNION ALL
		SELECT protocol, topic_root AS root FROM devices
		WHERE retired_at IS NULL AND bridge_id IS NULL AND protocol = 'shelly' AND topic_root LIKE '%/%'`).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("read bridge topics: %w", err)
	}
	want := map[string]bool{}
	bases := map[string]bool{}
	for _, r := range rows {
		if r.Protocol == ProtocolZigbee {
			want[r.Root+"/#"] = true
			bases[r.Root] = true
		} else {
			want[r.Root+"/online"] = true
		}
	}
	s.mu.Lock()
	t := s.t
	s.zigbeeBases = bases
	recheck := s.conflicted == nil || len(s.conflicted) > 0
	s.mu.Unlock()
	if recheck {
		if err := s.refreshConflicts(ctx); err != nil {
			return err
		}
	}
	for f := range want {
		if !s.dynamicSubs[f] {
			if err := t.Subscribe(f, s.handle); err != nil {
				return fmt.Errorf("subscribe %s: %w", f, err)
			}
			s.dynamicSubs[f] = true
		}
	}
	for f := range s.dynamicSubs {
		if !want[f] {
			if err := t.Unsubscribe(f); err != nil {
				return fmt.Errorf("unsubscribe %s: %w", f, err)
			}
			delete(s.dynamicSubs, f)
		}
	}
	return nil
}

// refreshConflicts finds the clients in service that break the topic rules
// (Check) and keeps them from logging in: their ACL could reach another
// client's topics. They can only come from rows older than the rules, so
// this runs at start and, while there are any, at every sync.
func (s *Service) refreshConflicts(ctx context.Context) error {
	cs, err := clientsInService(ctx, s.db)
	if err != nil {
		return err
	}
	found := map[string]string{}
	s.mu.Lock()
	before := s.conflicted
	s.mu.Unlock()
	for _, c := range conflicts(cs) {
		if _, seen := found[c.ID]; seen {
			continue
		}
		found[c.ID] = c.Problem
		if _, known := before[c.ID]; !known {
			s.log.Error("MQTT client refused until it moves: its topics break the rules (see `relais devices check`)",
				"id", c.ID, "bridge", c.Bridge, "site_id", c.SiteID, "name", c.Name, "problem", c.Problem)
		}
	}
	s.mu.Lock()
	s.conflicted = found
	s.mu.Unlock()
	return nil
}

// topicsChanged subscribes at once to what a registration through this
// replica changed; other replicas follow within DefaultTopicSync.
func (s *Service) topicsChanged() {
	s.mu.Lock()
	started := s.t != nil
	s.mu.Unlock()
	if !started {
		return
	}
	if err := s.syncTopics(context.Background()); err != nil {
		s.log.Error("subscribe to bridge topics", "err", err)
	}
}

func (s *Service) syncLoop(ctx context.Context) {
	tick := time.NewTicker(s.topicSync)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
			if err := s.syncTopics(ctx); err != nil {
				s.log.Error("subscribe to bridge topics", "err", err)
			}
		}
	}
}

// dynamicFilters lists the filters syncTopics subscribed to, sorted (tests).
func (s *Service) dynamicFilters() []string {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	var fs []string
	for f := range s.dynamicSubs {
		fs = append(fs, f)
	}
	slices.Sort(fs)
	return fs
}
