package devices

import (
	"context"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// presenceEvent is one presence message, queued for the database.
type presenceEvent struct {
	protocol Protocol
	site     string // relais protocol only
	address  string
	online   bool
	at       time.Time
}

// presenceQueue bounds the backlog of presence writes: a flood of status
// messages must not grow memory without limit; a dropped write is counted
// and the next message of the device repairs it.
const presenceQueue = 1024

// presenceMessage records a presence message in memory at once (so Send
// refuses an offline device without waiting for the database) and queues
// the database write. Payloads that are neither online nor offline are ignored.
func (s *Service) presenceMessage(p Protocol, site, address string, online, offline bool) {
	if !online && !offline {
		s.ignored(p, "bad_presence")
		return
	}
	if p != ProtocolRelais {
		site = ""
	}
	s.mu.Lock()
	s.presence[presenceKey(p, site, address)] = online
	if online && p == ProtocolTasmota {
		// It may have restarted with other settings: set PulseTime again.
		prefix := identityKey(p, "", address, 0)
		prefix = prefix[:len(prefix)-1]
		for k := range s.pulses {
			if strings.HasPrefix(k, prefix) {
				delete(s.pulses, k)
			}
		}
	}
	s.mu.Unlock()
	select {
	case s.presenceCh <- presenceEvent{protocol: p, site: site, address: address, online: online, at: s.now()}:
	default:
		s.metrics.presenceDropped.Inc()
		s.log.Warn("presence queue full: a device presence write was dropped", "protocol", p, "address", address)
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
				s.log.Error("record device presence", "protocol", ev.protocol, "address", ev.address, "err", err)
			}
		}
	}
}

// recordPresence flips devices.online with a conditional UPDATE: with
// several replicas receiving the same retained message, only the one whose
// UPDATE changed the row reports the transition, and a replica lagging
// behind cannot apply a message older than the last one applied
// (presence_at; replicas' clocks are assumed closer than the gap between
// two presence messages of one device).
func (s *Service) recordPresence(ctx context.Context, ev presenceEvent) error {
	where := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		q = q.Where("protocol = ?", ev.protocol).Where("address = ?", ev.address).Where("retired_at IS NULL").
			Where("(presence_at IS NULL OR presence_at < ?)", ev.at)
		if ev.protocol == ProtocolRelais {
			q = q.Where("site_id = ?", ev.site)
		}
		return q
	}
	set := func(q *bun.UpdateQuery) *bun.UpdateQuery {
		q = q.Set("presence_at = ?", ev.at)
		if ev.online {
			q = q.Set("last_seen_at = ?", ev.at)
		}
		return q
	}
	var changed []Device
	q := set(s.db.NewUpdate().Table("devices")).Set("online = ?", ev.online).Set("updated_at = ?", ev.at).
		Where("online <> ?", ev.online)
	if _, err := where(q).Returning("*").Exec(ctx, &changed); err != nil {
		return err
	}
	if len(changed) == 0 {
		// No transition: remember the message as the latest (and, online,
		// when the device was last heard of).
		_, err := where(set(s.db.NewUpdate().Table("devices"))).Exec(ctx)
		return err
	}
	s.mu.Lock()
	fns := append([]func(context.Context, Device, bool, time.Time){}, s.onPresence...)
	s.mu.Unlock()
	for _, d := range changed {
		if !ev.online {
			s.metrics.offline.WithLabelValues(string(d.Kind)).Inc()
		}
		for _, fn := range fns {
			fn(ctx, d, ev.online, ev.at)
		}
	}
	return nil
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
