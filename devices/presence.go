package devices

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// presenceEvent is one presence message, queued for the database.
type presenceEvent struct {
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

// presenceQueue bounds the backlog of presence writes: a flood of status
// messages must not grow memory without limit; a dropped write is counted
// and the next message of the device repairs it.
const presenceQueue = 1024

// presenceMessage records a client's presence message in memory at once (so
// Send refuses an offline device without waiting for the database) and
// queues the database write. Payloads that are neither online nor offline
// are ignored.
func (s *Service) presenceMessage(p Protocol, root string, online, offline bool) {
	if !online && !offline {
		s.ignored(p, "bad_presence")
		return
	}
	s.mu.Lock()
	s.presence[presenceKey(p, root)] = online
	if online && p == ProtocolTasmota {
		// It may have restarted with other settings: set PulseTime again.
		prefix := string(p) + "|" + root + "|"
		for k := range s.pulses {
			if strings.HasPrefix(k, prefix) {
				delete(s.pulses, k)
			}
		}
	}
	s.mu.Unlock()
	s.queuePresence(presenceEvent{protocol: p, root: root, online: online, at: s.now()})
}

// availabilityMessage records a Zigbee2MQTT device's own availability
// (off by default in Zigbee2MQTT, and left as it was when the bridge dies:
// the bridge's state decides first).
func (s *Service) availabilityMessage(base, root string, online, offline bool) {
	if !online && !offline {
		s.ignored(ProtocolZigbee, "bad_presence")
		return
	}
	s.mu.Lock()
	s.presence[availabilityKey(root)] = online
	s.mu.Unlock()
	s.queuePresence(presenceEvent{protocol: ProtocolZigbee, root: root, online: online, at: s.now(), availability: true, base: base})
}

func (s *Service) queuePresence(ev presenceEvent) {
	select {
	case s.presenceCh <- ev:
	default:
		s.metrics.presenceDropped.Inc()
		s.log.Warn("presence queue full: a device presence write was dropped", "protocol", ev.protocol, "root", ev.root)
	}
}

// presenceLoop writes presence to the database one event at a time, in
// arrival order, and calls the OnPresence callbacks for real transitions.
func (s *Service) presenceLoop(ctx context.Context) {
	defer close(s.loopDone)
	for {
		select {
		case <-s.stop:
			return
		case ev := <-s.presenceCh:
			if err := s.recordPresence(ctx, ev); err != nil {
				s.log.Error("record device presence", "protocol", ev.protocol, "root", ev.root, "err", err)
			}
		}
	}
}

// recordPresence writes a presence message. Rows flip with conditional
// UPDATEs: with several replicas receiving the same retained message, only
// the one whose UPDATE changed a row reports the transition, and a replica
// lagging behind cannot apply a message older than the last one applied
// (presence_at; replicas' clocks are assumed closer than the gap between
// two presence messages of one client).
func (s *Service) recordPresence(ctx context.Context, ev presenceEvent) error {
	var changed []Device
	if ev.availability {
		// The device is online when it and its bridge are.
		s.mu.Lock()
		bridgeOn := s.presence[presenceKey(ProtocolZigbee, ev.base)]
		s.mu.Unlock()
		where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("protocol = ?", ProtocolZigbee).Where("topic_root = ?", ev.root).Where("retired_at IS NULL").
				Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
		}
		var err error
		if changed, err = s.flip(ctx, "devices", where, ev.online && bridgeOn, ev.at); err != nil {
			return err
		}
	} else {
		where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("protocol = ?", ev.protocol).Where("topic_root = ?", ev.root).Where("bridge_id IS NULL").
				Where("retired_at IS NULL").Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
		}
		var err error
		if changed, err = s.flip(ctx, "devices", where, ev.online, ev.at); err != nil {
			return err
		}
		behind, err := s.flipBridge(ctx, ev)
		if err != nil {
			return err
		}
		changed = append(changed, behind...)
	}
	s.mu.Lock()
	fns := append([]func(context.Context, Device, bool, time.Time){}, s.onPresence...)
	s.mu.Unlock()
	for _, d := range changed {
		if !d.Online {
			s.metrics.offline.WithLabelValues(string(d.Kind)).Inc()
		}
		for _, fn := range fns {
			fn(ctx, d, d.Online, ev.at)
		}
	}
	return nil
}

// flip sets online on the rows of table that where selects, returning
// those (of devices) that changed; rows that did not change still record
// the message as the latest (and, online, when the client was last heard of).
func (s *Service) flip(ctx context.Context, table string, where func(*bun.UpdateQuery) *bun.UpdateQuery,
	online bool, at time.Time) ([]Device, error) {
	set := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		q = q.Set("presence_at = ?", at)
		if online {
			q = q.Set("last_seen_at = ?", at)
		}
		return q
	}
	var changed []Device
	q := set(s.db.NewUpdate().Table(table)).Set("online = ?", online).Set("updated_at = ?", at).Where("online <> ?", online)
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
		if _, err := where(set(s.db.NewUpdate().Table(table))).Exec(ctx); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

// flipBridge applies a client's presence to the bridge of that root, if
// one is in service, and when the bridge changed, to every device behind
// it: online with the bridge unless a Zigbee2MQTT device's own
// availability says offline.
func (s *Service) flipBridge(ctx context.Context, ev presenceEvent) ([]Device, error) {
	var bridgeID string
	err := s.db.NewSelect().Table("bridges").Column("id").Where("protocol = ?", ev.protocol).
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
	flipped, err := s.flip(ctx, "bridges", where, ev.online, ev.at)
	if err != nil || len(flipped) == 0 {
		return nil, err
	}
	var ds []Device
	if err := s.db.NewSelect().Model(&ds).Column("id", "topic_root").Where("bridge_id = ?", bridgeID).
		Where("retired_at IS NULL").Scan(ctx); err != nil {
		return nil, err
	}
	var changed []Device
	for _, d := range ds {
		s.mu.Lock()
		avail, known := s.presence[availabilityKey(d.TopicRoot)]
		s.mu.Unlock()
		on := ev.online && (!known || avail)
		q := s.db.NewUpdate().Table("devices").Set("online = ?", on).Set("updated_at = ?", ev.at).Set("presence_at = ?", ev.at).
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

// OnPresence registers fn, called once per real presence transition of a
// device (online → offline or back) seen by this replica's database write.
// Register callbacks before Start.
func (s *Service) OnPresence(fn func(ctx context.Context, d Device, online bool, at time.Time)) {
	s.mu.Lock()
	s.onPresence = append(s.onPresence, fn)
	s.mu.Unlock()
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
