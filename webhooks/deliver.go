package webhooks

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// payload is the body of every delivery: the Standard Webhooks shape
// (type, timestamp, data) with the event's id and site.
type payload struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	SiteID    *string   `json:"site_id"`
	Data      any       `json:"data"`
}

// fanoutArgs is one published event, waiting to be copied to the
// endpoints that want it.
type fanoutArgs struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	SiteID  string `json:"site_id,omitempty"`
	// Body is []byte, so base64 in the job's JSON: PostgreSQL keeps job
	// arguments as jsonb, which would reorder a raw object's keys.
	Body []byte `json:"body"`
}

func (fanoutArgs) Kind() string { return "relais.webhook_fanout" }

// deliverArgs is one delivery to send.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

func (deliverArgs) Kind() string { return "relais.webhook_deliver" }

// JobsFor implements jobs.Source: one fan-out job per event (a booking
// pays one job, whatever the number of endpoints); the job finds the
// endpoints and queues their deliveries. serve gives the domains
// jobs.Queue.Publisher over webhooks and notify, which inserts both's jobs
// in the caller's transaction in one statement; outside a transaction (a
// door's decision, recorded in one statement on its own, and device
// presence) the job is inserted on its own, after the change: a crash
// between the two loses that event's webhook, never the change.
func (s *Service) JobsFor(e events.Event) ([]river.InsertManyParams, error) {
	pl := payload{ID: e.ID, Type: e.Type, Timestamp: e.At.UTC(), Data: e.Data}
	if e.SiteID != "" {
		pl.SiteID = &e.SiteID
	}
	body, err := json.Marshal(pl)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", e.Type, err)
	}
	return []river.InsertManyParams{{Args: fanoutArgs{EventID: e.ID, Type: e.Type, SiteID: e.SiteID, Body: body}}}, nil
}

// JobKinds implements jobs.Source.
func (s *Service) JobKinds() []river.JobArgs { return []river.JobArgs{fanoutArgs{}} }

// Publish implements events.Publisher for a domain given webhooks alone
// (campaigns): JobsFor's job, inserted through the queue.
func (s *Service) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	return s.self.Publish(ctx, idb, e)
}

// AddWorkers registers the fan-out and delivery workers.
func (s *Service) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &fanoutWorker{svc: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &deliverWorker{svc: s})
}

type fanoutWorker struct {
	river.WorkerDefaults[fanoutArgs]
	svc *Service
}

// Work queues one delivery per enabled endpoint that wants the event: the
// endpoints of its site and the network-wide ones. It is idempotent: a
// delivery exists once per endpoint and event (unique index), and its job
// is queued with it.
func (w *fanoutWorker) Work(ctx context.Context, job *river.Job[fanoutArgs]) error {
	s, a := w.svc, job.Args
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var eps []Endpoint
		q := tx.NewSelect().Model(&eps).Column("id", "events").Where("enabled")
		if a.SiteID != "" {
			q = q.Where("site_id = ? OR site_id IS NULL", a.SiteID)
		} else {
			q = q.Where("site_id IS NULL")
		}
		if err := q.Order("id").Scan(ctx); err != nil {
			return fmt.Errorf("endpoints for %s: %w", a.Type, err)
		}
		now := s.now()
		for _, ep := range eps {
			if !matches(ep.Events, a.Type) {
				continue
			}
			d := &Delivery{ID: id.New(), EndpointID: ep.ID, EventID: a.EventID, EventType: a.Type,
				Payload: a.Body, Status: DeliveryPending, CreatedAt: now}
			res, err := tx.NewInsert().Model(d).On("CONFLICT (endpoint_id, event_id) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("insert delivery: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // queued by an earlier run of this job
			}
			if err := s.queueDelivery(ctx, tx, d.ID); err != nil {
				return err
			}
		}
		return nil
	})
}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	svc *Service
}

// Timeout leaves room for the HTTP client's own timeout.
func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return totalTimeout + 10*time.Second
}

// NextRetry spaces the attempts of a delivery over three days.
func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	d := w.svc.retryDelays
	i := min(max(job.Attempt-1, 0), len(d)-1)
	return time.Now().Add(d[i])
}

// Work sends the delivery once. A failure is recorded, then returned so
// that River retries; the endpoint is disabled when it has failed for the
// whole failure window, and then the delivery gives up.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	s := w.svc
	d := new(Delivery)
	if err := s.db.NewSelect().Model(d).Where("id = ?", job.Args.DeliveryID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil // its endpoint was deleted
		}
		return fmt.Errorf("get delivery: %w", err)
	}
	ep := new(Endpoint)
	if err := s.db.NewSelect().Model(ep).Where("id = ?", d.EndpointID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return fmt.Errorf("get endpoint: %w", err)
	}
	if !ep.Enabled {
		return s.record(ctx, d, attempt{status: DeliveryFailed, err: "endpoint disabled"})
	}
	at := s.send(ctx, ep, d)
	if at.ok() {
		at.status = DeliverySucceeded
		if err := s.record(ctx, d, at); err != nil {
			return err
		}
		_, err := s.db.NewUpdate().Model((*Endpoint)(nil)).Set("failing_since = NULL").
			Where("id = ? AND failing_since IS NOT NULL", ep.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("clear endpoint failures: %w", err)
		}
		return nil
	}
	at.status = DeliveryPending
	if job.Attempt >= job.MaxAttempts {
		at.status = DeliveryFailed
	}
	disabled, err := s.failed(ctx, ep)
	if err != nil {
		return err
	}
	if disabled {
		at.status = DeliveryFailed
	}
	if err := s.record(ctx, d, at); err != nil {
		return err
	}
	if disabled {
		return nil
	}
	return fmt.Errorf("webhook delivery %s to endpoint %s: %s", d.ID, ep.ID, at.describe())
}

// attempt is the outcome of one POST.
type attempt struct {
	status   string
	code     int
	body     string
	err      string
	duration time.Duration
}

func (a attempt) ok() bool { return a.err == "" && a.code >= 200 && a.code < 300 }

func (a attempt) describe() string {
	if a.err != "" {
		return a.err
	}
	return "HTTP " + strconv.Itoa(a.code)
}

// send POSTs the delivery, signed now with the endpoint's current secret.
func (s *Service) send(ctx context.Context, ep *Endpoint, d *Delivery) attempt {
	ts := time.Now().Unix()
	sig, err := Sign(ep.Secret, d.EventID, ts, d.Payload)
	if err != nil {
		return attempt{err: err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return attempt{err: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Relais-Webhooks/1")
	req.Header.Set("webhook-id", d.EventID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return attempt{err: err.Error(), duration: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxLoggedBody))
	// Drain a little more so the connection can be reused, no more.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return attempt{code: resp.StatusCode, body: strings.ToValidUTF8(string(b), "\uFFFD"), duration: time.Since(start)}
}

// record writes an attempt's outcome to the delivery log.
func (s *Service) record(ctx context.Context, d *Delivery, a attempt) error {
	now := s.now()
	d.Status, d.ResponseCode, d.ResponseBody, d.Error = a.status, a.code, a.body, a.err
	d.DurationMS, d.LastAttempt = a.duration.Milliseconds(), &now
	if len(d.Error) > 1000 {
		d.Error = strings.ToValidUTF8(d.Error[:1000], "")
	}
	_, err := s.db.NewUpdate().Model(d).WherePK().Set("attempts = attempts + 1").
		Column("status", "response_code", "response_body", "error", "duration_ms", "last_attempt_at").Exec(ctx)
	if err != nil {
		return fmt.Errorf("record delivery attempt: %w", err)
	}
	return nil
}

// failed notes a failed attempt on the endpoint and disables it when
// every attempt has failed for the failure window; it reports whether it
// did.
func (s *Service) failed(ctx context.Context, ep *Endpoint) (bool, error) {
	now := s.now()
	disabled := false
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := db.ForUpdate(tx.NewSelect().Model(ep).WherePK()).Scan(ctx); err != nil {
			return fmt.Errorf("lock endpoint: %w", err)
		}
		if ep.FailingSince == nil {
			ep.FailingSince = &now
		}
		if ep.Enabled && now.Sub(*ep.FailingSince) >= s.failureWindow {
			ep.Enabled, disabled = false, true
			ep.DisabledReason = fmt.Sprintf("every delivery failed since %s", ep.FailingSince.Format(time.RFC3339))
		}
		ep.UpdatedAt = now
		_, err := tx.NewUpdate().Model(ep).WherePK().Column("failing_since", "enabled", "disabled_reason", "updated_at").Exec(ctx)
		if err != nil {
			return fmt.Errorf("note endpoint failure: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if disabled {
		s.tellDisabled(ctx, ep)
	}
	return disabled, nil
}

// tellDisabled logs a disabled endpoint and mails its site's managers.
// The mail is a courtesy: failing to send it changes nothing (the log and
// the endpoint's disabled_reason say it all).
func (s *Service) tellDisabled(ctx context.Context, ep *Endpoint) {
	s.log.WarnContext(ctx, "webhook endpoint disabled", "endpoint_id", ep.ID, "url", ep.URL, "reason", ep.DisabledReason)
	if ep.SiteID == nil {
		return
	}
	managers, err := s.managers.ListManagers(ctx, identity.System(), *ep.SiteID)
	if err != nil {
		s.log.WarnContext(ctx, "webhook endpoint disabled: managers unknown", "endpoint_id", ep.ID, "err", err)
		return
	}
	for _, m := range managers {
		if m.Email == "" {
			continue // an account created at a desk without an email
		}
		msg := mail.Message{To: m.Email, Subject: "Relais\u00a0: un webhook a été désactivé",
			Body: fmt.Sprintf("Le webhook %s (%s) a été désactivé\u00a0: %s.\n"+
				"Réactivez-le (PATCH /v1/webhooks/%s {\"enabled\": true}) une fois le récepteur réparé.\n",
				ep.ID, ep.URL, ep.DisabledReason, ep.ID)}
		if err := s.mail.Send(ctx, msg); err != nil {
			s.log.WarnContext(ctx, "webhook endpoint disabled: mail failed", "endpoint_id", ep.ID, "to", m.Email, "err", err)
		}
	}
}
