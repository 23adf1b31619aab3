package devices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
)

// presenceEvent is one presence message awaiting its database write.
type presenceEvent struct {
	key      string // presenceKey or availabilityKey: one pending write per key
	protocol Protocol
	// root is the client's root; for an availability message, the
	// Zigbee2MQTT device's.
	root   string
	online bool
	at     time.Time
	// availability marks a Zigbee2MQTT device's own availability; base is
	// its bridge's base topic.
	availability bool
	base         string
}

// heldPresence is a message for a key the registry this replica read does
// not hold (yet): seq orders it against registry reads (see refreshRegistry).
type heldPresence struct {
	ev  presenceEvent
	seq uint64
}

const (
	// presenceBatch is how many presence writes share one transaction: a
	// storm costs one commit (one disk flush) per batch, not per device,
	// and a batch holds SQLite's write lock for a few milliseconds only.
	presenceBatch = 256
	// heldCap bounds the messages held for keys not in the registry read
	// last: a client cannot grow memory by inventing names under its
	// topics (a Zigbee2MQTT bridge owns <base>/#, any client owns every
	// topic on a broker without ACLs). A message beyond it is ignored and
	// counted; a device registered through another replica in the last
	// seconds could then be missed until its next presence message.
	heldCap = 1024
	// presenceRetry is how long the writer waits after a failed write
	// (the database down) before trying again.
	presenceRetry = time.Second
)

// presenceMessage records a client's presence message in memory at once (so
// Send refuses an offline device without waiting for the database) and
// marks the database write pending. Payloads that are neither online nor
// offline are ignored.
func (s *Service) presenceMessage(p Protocol, root string, online, offline bool) {
	if !online && !offline {
		s.ignored(p, "bad_presence")
		return
	}
	s.admit(presenceEvent{key: presenceKey(p, root), protocol: p, root: root, online: online, at: s.now()})
}

// availabilityMessage records a Zigbee2MQTT device's own availability
// (off by default in Zigbee2MQTT, and left as it was when the bridge dies:
// the bridge's state decides first).
func (s *Service) availabilityMessage(base, root string, online, offline bool) {
	if !online && !offline {
		s.ignored(ProtocolZigbee, "bad_presence")
		return
	}
	s.admit(presenceEvent{key: availabilityKey(root), protocol: ProtocolZigbee, root: root, online: online, at: s.now(),
		availability: true, base: base})
}

// admit applies a presence message of a registered client, and holds one of
// a key the registry read last does not hold until the next read says
// whether it is registered.
func (s *Service) admit(ev presenceEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.registry[ev.key] {
		s.applyLocked(ev)
		return
	}
	if _, held := s.held[ev.key]; !held && len(s.held) >= heldCap {
		s.ignored(ev.protocol, "unregistered")
		return
	}
	s.heldSeq++
	s.held[ev.key] = heldPresence{ev: ev, seq: s.heldSeq}
}

// applyLocked sets the in-memory presence and makes the event the pending
// write of its key: the last message wins, so a storm costs one write per
// device however many messages it sends, and nothing is dropped. Memory is
// bounded by the keys of the registry.
func (s *Service) applyLocked(ev presenceEvent) {
	s.presence[ev.key] = ev.online
	if ev.online && ev.protocol == ProtocolTasmota && !ev.availability {
		// It may have restarted with other settings: set PulseTime again.
		prefix := string(ev.protocol) + "|" + ev.root + "|"
		for k := range s.pulses {
			if strings.HasPrefix(k, prefix) {
				delete(s.pulses, k)
			}
		}
	}
	if old, ok := s.pendingPresence[ev.key]; ok {
		s.metrics.presenceCoalesced.Inc()
		// Messages arrive in order; keep the newest time should the clock
		// have stepped back.
		if old.at.After(ev.at) {
			ev.at = old.at
		}
	}
	s.pendingPresence[ev.key] = ev
	s.setPendingGauge()
	select {
	case s.presenceWake <- struct{}{}:
	default: // the writer is already woken: it takes the whole set
	}
}

func (s *Service) setPendingGauge() {
	s.metrics.presencePending.Set(float64(len(s.pendingPresence) + s.presenceWriting))
}

// refreshRegistry reads the presence keys of every client in service (the
// devices that log in by themselves, the bridges, and the Zigbee2MQTT
// devices' availability) and settles the held messages: those now
// registered are applied; those that arrived before this read began and
// that it does not hold are not of a client in service (a client logs in,
// and so speaks, only once registered) and are forgotten. The in-memory
// presence of clients retired or moved is forgotten too.
func (s *Service) refreshRegistry(ctx context.Context) error {
	s.mu.Lock()
	seq := s.heldSeq
	s.mu.Unlock()
	var rows []struct {
		Protocol Protocol
		Root     string
		Behind   bool
	}
	err := s.db.NewRaw(`SELECT protocol, topic_root AS root, bridge_id IS NOT NULL AS behind FROM devices
		WHERE retired_at IS NULL
		UNION ALL
		SELECT protocol, address AS root, FALSE AS behind FROM bridges WHERE retired_at IS NULL`).Scan(ctx, &rows)
	if err != nil {
		return fmt.Errorf("read the presence registry: %w", err)
	}
	registry := make(map[string]bool, len(rows))
	for _, r := range rows {
		switch {
		case r.Behind && r.Protocol == ProtocolZigbee:
			registry[availabilityKey(r.Root)] = true
		case !r.Behind:
			registry[presenceKey(r.Protocol, r.Root)] = true
		}
		// A Tasmota's or Shelly's relays behind a bridge share its key.
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.registry = registry
	for k, h := range s.held {
		switch {
		case registry[k]:
			s.applyLocked(h.ev)
			delete(s.held, k)
		case h.seq <= seq:
			delete(s.held, k)
		}
	}
	for k := range s.presence {
		if !registry[k] {
			delete(s.presence, k)
		}
	}
	return nil
}

// presenceLoop writes the pending presence to the database: each time it is
// woken it takes the whole pending set and writes it in batches, then
// calls Config.OnPresence for real transitions.
func (s *Service) presenceLoop(ctx context.Context) {
	defer close(s.loopDone)
	for {
		select {
		case <-s.stop:
			return
		case <-s.presenceWake:
		}
		if err := s.writePending(ctx); err != nil {
			s.log.Error("record device presence; retrying", "err", err)
			select {
			case <-s.stop:
				return
			case <-time.After(presenceRetry):
			}
			// What failed is pending again: wake the next pass for it.
			select {
			case s.presenceWake <- struct{}{}:
			default:
			}
		}
	}
}

// transition is a device's presence change a batch committed.
type transition struct {
	d  Device
	at time.Time
}

// writePending writes the pending set as it is now, in batches of one
// transaction each. Clients' own presence goes first, then Zigbee2MQTT
// devices' availability, which is decided with their bridge's state. What
// a failed batch left unwritten is pending again, unless a newer message
// of its key came meanwhile.
func (s *Service) writePending(ctx context.Context) error {
	s.mu.Lock()
	evs := make([]presenceEvent, 0, len(s.pendingPresence))
	for _, ev := range s.pendingPresence {
		evs = append(evs, ev)
	}
	clear(s.pendingPresence)
	s.presenceWriting = len(evs)
	s.mu.Unlock()
	slices.SortFunc(evs, func(a, b presenceEvent) int {
		if a.availability != b.availability {
			if a.availability {
				return 1
			}
			return -1
		}
		return a.at.Compare(b.at)
	})
	for len(evs) > 0 {
		batch := evs[:min(presenceBatch, len(evs))]
		var changed []transition
		err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			changed = changed[:0]
			for _, ev := range batch {
				ds, err := s.recordPresence(ctx, tx, ev)
				if err != nil {
					return fmt.Errorf("%s %s: %w", ev.protocol, ev.root, err)
				}
				for _, d := range ds {
					changed = append(changed, transition{d, ev.at})
				}
			}
			return nil
		})
		s.mu.Lock()
		if err != nil {
			for _, ev := range evs {
				if _, newer := s.pendingPresence[ev.key]; !newer {
					s.pendingPresence[ev.key] = ev
				}
			}
			s.presenceWriting = 0
			s.setPendingGauge()
			s.mu.Unlock()
			return err
		}
		s.presenceWriting -= len(batch)
		s.setPendingGauge()
		s.mu.Unlock()
		evs = evs[len(batch):]
		for _, c := range changed {
			if !c.d.Online {
				s.metrics.offline.WithLabelValues(string(c.d.Kind)).Inc()
			}
			if s.onPresence != nil {
				s.onPresence(ctx, c.d, c.d.Online, c.at)
			}
		}
	}
	return nil
}

// recordPresence writes a presence message in the transaction tx and
// returns the devices whose presence it changed. Rows flip with conditional
// UPDATEs: with several replicas receiving the same retained message, only
// the one whose UPDATE changed a row reports the transition, and a replica
// lagging behind cannot apply a message older than the last one applied
// (presence_at; replicas' clocks are assumed closer than the gap between
// two presence messages of one client).
func (s *Service) recordPresence(ctx context.Context, tx bun.IDB, ev presenceEvent) ([]Device, error) {
	if ev.availability {
		// The device is online when it and its bridge are.
		s.mu.Lock()
		bridgeOn := s.presence[presenceKey(ProtocolZigbee, ev.base)]
		s.mu.Unlock()
		where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("protocol = ?", ProtocolZigbee).Where("topic_root = ?", ev.root).Where("retired_at IS NULL").
				Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
		}
		return flip(ctx, tx, "devices", where, ev.online && bridgeOn, ev.at)
	}
	where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("protocol = ?", ev.protocol).Where("topic_root = ?", ev.root).Where("bridge_id IS NULL").
			Where("retired_at IS NULL").Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
	}
	changed, err := flip(ctx, tx, "devices", where, ev.online, ev.at)
	if err != nil {
		return nil, err
	}
	behind, err := s.flipBridge(ctx, tx, ev)
	if err != nil {
		return nil, err
	}
	return append(changed, behind...), nil
}

// flip sets online on the rows of table that where selects, returning
// those (of devices) that changed; rows that did not change still record
// the message as the latest (and, online, when the client was last heard of).
func flip(ctx context.Context, idb bun.IDB, table string, where func(*bun.UpdateQuery) *bun.UpdateQuery,
	online bool, at time.Time) ([]Device, error) {
	set := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		q = q.Set("presence_at = ?", at)
		if online {
			q = q.Set("last_seen_at = ?", at)
		}
		return q
	}
	var changed []Device
	q := set(idb.NewUpdate().Table(table)).Set("online = ?", online).Set("updated_at = ?", at).Where("online <> ?", online)
	if table == "devices" {
		if _, err := where(q).Returning("*").Exec(ctx, &changed); err != nil {
			return nil, err
		}
	} else {
		res, err := where(q).Exec(ctx)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			changed = make([]Device, n) // only counted: see flipBridge
		}
	}
	if len(changed) == 0 {
		if _, err := where(set(idb.NewUpdate().Table(table))).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// flipBridge applies a client's presence to the bridge of that root, if
// one is in service, and when the bridge changed, to every device behind
// it: online with the bridge unless a Zigbee2MQTT device's own
// availability says offline.
func (s *Service) flipBridge(ctx context.Context, idb bun.IDB, ev presenceEvent) ([]Device, error) {
	var bridgeID string
	err := idb.NewSelect().Table("bridges").Column("id").Where("protocol = ?", ev.protocol).
		Where("address = ?", ev.root).Where("retired_at IS NULL").Limit(1).Scan(ctx, &bridgeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // no bridge at this root: a device that logs in by itself
	}
	if err != nil {
		return nil, err
	}
	where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		return q.Where("id = ?", bridgeID).Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
	}
	flipped, err := flip(ctx, idb, "bridges", where, ev.online, ev.at)
	if err != nil || len(flipped) == 0 {
		return nil, err
	}
	var ds []Device
	if err := idb.NewSelect().Model(&ds).Column("id", "topic_root").Where("bridge_id = ?", bridgeID).
		Where("retired_at IS NULL").Scan(ctx); err != nil {
		return nil, err
	}
	var changed []Device
	for _, d := range ds {
		s.mu.Lock()
		avail, known := s.presence[availabilityKey(d.TopicRoot)]
		s.mu.Unlock()
		on := ev.online && (!known || avail)
		q := idb.NewUpdate().Table("devices").Set("online = ?", on).Set("updated_at = ?", ev.at).Set("presence_at = ?", ev.at).
			Where("id = ?", d.ID).Where("online <> ?", on)
		if on {
			q = q.Set("last_seen_at = ?", ev.at)
		}
		var got []Device
		if _, err := q.Returning("*").Exec(ctx, &got); err != nil {
			return nil, err
		}
		changed = append(changed, got...)
	}
	return changed, nil
}

// Close stops the presence writer and waits for it. Commands in flight end
// by their timeouts.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.mu.Lock()
		started := s.t != nil
		s.mu.Unlock()
		if started {
			<-s.loopDone
		}
	})
}
