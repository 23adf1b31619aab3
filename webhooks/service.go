// Package webhooks sends Relais's events to the endpoints managers and
// admins register, following the Standard Webhooks specification: each
// delivery is a JSON POST signed with HMAC-SHA256 (webhook-id,
// webhook-timestamp, webhook-signature), retried with backoff over three
// days through River, logged, and an endpoint failing for three days in a
// row is disabled and its site's managers are told.
package webhooks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// DefaultRetryDelays are the waits before each retry of a delivery: the
// Standard Webhooks suggestion (5 s, 5 min, 30 min, 2 h, 5 h, 10 h…)
// stretched with 10-hour steps until the last attempt comes about three
// days (77.6 h) after the first.
var DefaultRetryDelays = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour,
	10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// DefaultFailureWindow: an endpoint whose every attempt failed for this
// long (no success in between, whatever the event) is disabled.
const DefaultFailureWindow = 72 * time.Hour

// deliveryRetention: deliveries older than this are pruned.
const deliveryRetention = 30 * 24 * time.Hour

// Limits of an endpoint's fields.
const (
	MaxEvents           = 32
	MaxDescriptionBytes = 500
	MaxEndpointsPerSite = 50
)

// Managers is what webhooks asks identity: who manages a site, to tell
// them an endpoint was disabled. *identity.Service implements it.
type Managers interface {
	ListManagers(ctx context.Context, p *identity.Principal, siteID string) ([]identity.User, error)
}

// Config configures New.
type Config struct {
	// Jobs queues the fan-out and delivery jobs (required).
	Jobs *jobs.Queue
	// Managers and Mail tell a site's managers that an endpoint of theirs
	// was disabled (required; Mail may be mail.Log).
	Managers Managers
	Mail     mail.Sender
	// AllowPrivate lets endpoints be http:// and reach private, loopback
	// and link-local addresses (--webhook-allow-private): for tests and
	// networks whose tools live on the LAN.
	AllowPrivate bool
	Now          func() time.Time
	Logger       *slog.Logger
	// RetryDelays and FailureWindow default to DefaultRetryDelays and
	// DefaultFailureWindow; tests shorten them.
	RetryDelays   []time.Duration
	FailureWindow time.Duration
}

// Service manages endpoints and delivers events to them.
type Service struct {
	db   *bun.DB
	jobs *jobs.Queue
	// self publishes through jobs with this Service as its one source.
	self          events.Publisher
	managers      Managers
	mail          mail.Sender
	allowPrivate  bool
	now           func() time.Time
	log           *slog.Logger
	retryDelays   []time.Duration
	failureWindow time.Duration
	client        *http.Client
}

// New returns a Service.
func New(d *bun.DB, cfg Config) *Service {
	if cfg.Jobs == nil || cfg.Managers == nil || cfg.Mail == nil {
		panic("webhooks: New needs Config.Jobs, Managers and Mail")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if len(cfg.RetryDelays) == 0 {
		cfg.RetryDelays = DefaultRetryDelays
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = DefaultFailureWindow
	}
	s := &Service{
		db: d, jobs: cfg.Jobs, managers: cfg.Managers, mail: cfg.Mail, allowPrivate: cfg.AllowPrivate,
		now: func() time.Time { return cfg.Now().UTC() }, log: cfg.Logger,
		retryDelays: slices.Clone(cfg.RetryDelays), failureWindow: cfg.FailureWindow,
		client: newClient(cfg.AllowPrivate),
	}
	s.self = cfg.Jobs.Publisher(s)
	return s
}

// NewEndpoint is what a manager gives to register an endpoint.
type NewEndpoint struct {
	SiteID      string // empty: network-wide (admins)
	URL         string
	Events      []string
	Description string
}

// checkEvents validates and normalises a subscription list.
func checkEvents(list []string) ([]string, error) {
	if len(list) == 0 || len(list) > MaxEvents {
		return nil, errs.Invalid("events", "must list between 1 and %d event types", MaxEvents)
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if !validPattern(e) {
			return nil, errs.Invalid("events", "unknown event type %q", e)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func checkDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxDescriptionBytes || !utf8.ValidString(s) {
		return "", errs.Invalid("description", "must be at most %d bytes of text", MaxDescriptionBytes)
	}
	return s, nil
}

// Create registers an endpoint. The returned endpoint carries its secret:
// the only time it leaves Relais (see RotateSecret).
func (s *Service) Create(ctx context.Context, p *identity.Principal, n NewEndpoint) (*Endpoint, error) {
	if !mayManage(p, n.SiteID) {
		return nil, errs.ErrForbidden
	}
	u, err := checkURL(ctx, n.URL, s.allowPrivate)
	if err != nil {
		return nil, errs.Invalid("url", "%s", err.Error())
	}
	evs, err := checkEvents(n.Events)
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(n.Description)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := &Endpoint{ID: id.New(), URL: u, Events: evs, Description: desc, Secret: newSecret(), Enabled: true,
		CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	if n.SiteID != "" {
		e.SiteID = &n.SiteID
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewSelect().Model((*Endpoint)(nil))
		if e.SiteID == nil {
			q = q.Where("site_id IS NULL")
		} else {
			q = q.Where("site_id = ?", n.SiteID)
		}
		count, err := q.Count(ctx)
		if err != nil {
			return fmt.Errorf("count endpoints: %w", err)
		}
		if count >= MaxEndpointsPerSite {
			return errs.Rule("url", "too_many_endpoints", "a site has at most %d webhook endpoints", MaxEndpointsPerSite)
		}
		if _, err := tx.NewInsert().Model(e).Exec(ctx); err != nil {
			if db.IsForeignKey(err) {
				return errs.ErrNotFound // no such site
			}
			return fmt.Errorf("insert endpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// get reads an endpoint p may manage; others are told it does not exist.
func (s *Service) get(ctx context.Context, idb bun.IDB, p *identity.Principal, endpointID string, forUpdate bool) (*Endpoint, error) {
	if !id.Valid(endpointID) {
		return nil, errs.ErrNotFound
	}
	e := new(Endpoint)
	q := idb.NewSelect().Model(e).Where("id = ?", endpointID)
	if forUpdate {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.ErrNotFound
		}
		return nil, fmt.Errorf("get endpoint: %w", err)
	}
	if !mayManageEndpoint(p, e) {
		return nil, errs.ErrNotFound
	}
	return e, nil
}

// Get returns an endpoint (without its secret's use: callers never show it).
func (s *Service) Get(ctx context.Context, p *identity.Principal, endpointID string) (*Endpoint, error) {
	return s.get(ctx, s.db, p, endpointID, false)
}

// ListSite returns a site's endpoints, for its managers and admins.
func (s *Service) ListSite(ctx context.Context, p *identity.Principal, siteID string) ([]Endpoint, error) {
	if !mayManage(p, siteID) {
		return nil, errs.ErrForbidden
	}
	var out []Endpoint
	if err := s.db.NewSelect().Model(&out).Where("site_id = ?", siteID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

// List returns every endpoint p may manage: all of them for admins, those
// of their sites for managers.
func (s *Service) List(ctx context.Context, p *identity.Principal) ([]Endpoint, error) {
	if p == nil || p.IsAPIKey() || (!p.IsAdmin() && !p.IsManager()) {
		return nil, errs.ErrForbidden
	}
	var out []Endpoint
	q := s.db.NewSelect().Model(&out).Order("id")
	if !p.IsAdmin() {
		q = q.Where("site_id IN (?)", bun.In(p.ManagedSites))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

// Patch changes an endpoint; nil fields stay.
type Patch struct {
	URL         *string
	Events      []string // nil keeps them
	Description *string
	// Enabled true re-enables a disabled endpoint and forgets its failures.
	Enabled *bool
}

// Update applies a Patch.
func (s *Service) Update(ctx context.Context, p *identity.Principal, endpointID string, ch Patch) (*Endpoint, error) {
	var out *Endpoint
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.get(ctx, tx, p, endpointID, true)
		if err != nil {
			return err
		}
		if ch.URL != nil {
			if e.URL, err = checkURL(ctx, *ch.URL, s.allowPrivate); err != nil {
				return errs.Invalid("url", "%s", err.Error())
			}
		}
		if ch.Events != nil {
			if e.Events, err = checkEvents(ch.Events); err != nil {
				return err
			}
		}
		if ch.Description != nil {
			if e.Description, err = checkDescription(*ch.Description); err != nil {
				return err
			}
		}
		if ch.Enabled != nil {
			if *ch.Enabled && !e.Enabled {
				e.FailingSince, e.DisabledReason = nil, ""
			}
			e.Enabled = *ch.Enabled
		}
		e.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(e).WherePK().
			Column("url", "events", "description", "enabled", "failing_since", "disabled_reason", "updated_at").Exec(ctx); err != nil {
			return fmt.Errorf("update endpoint: %w", err)
		}
		out = e
		return nil
	})
	return out, err
}

// RotateSecret gives an endpoint a new secret and returns the endpoint
// carrying it, once. Deliveries are signed with the new secret from now
// on, including retries of earlier events.
func (s *Service) RotateSecret(ctx context.Context, p *identity.Principal, endpointID string) (*Endpoint, error) {
	var out *Endpoint
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.get(ctx, tx, p, endpointID, true)
		if err != nil {
			return err
		}
		e.Secret, e.UpdatedAt = newSecret(), s.now()
		if _, err := tx.NewUpdate().Model(e).WherePK().Column("secret", "updated_at").Exec(ctx); err != nil {
			return fmt.Errorf("rotate endpoint secret: %w", err)
		}
		out = e
		return nil
	})
	return out, err
}

// Delete removes an endpoint and its delivery log; its pending delivery
// jobs find nothing and end.
func (s *Service) Delete(ctx context.Context, p *identity.Principal, endpointID string) error {
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.get(ctx, tx, p, endpointID, true)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Delivery)(nil)).Where("endpoint_id = ?", e.ID).Exec(ctx); err != nil {
			return fmt.Errorf("delete deliveries: %w", err)
		}
		if _, err := tx.NewDelete().Model(e).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("delete endpoint: %w", err)
		}
		return nil
	})
}

// Deliveries returns a page of an endpoint's delivery log, newest first;
// after is the last id of the previous page.
func (s *Service) Deliveries(ctx context.Context, p *identity.Principal, endpointID, after string, limit int) ([]Delivery, string, error) {
	if _, err := s.get(ctx, s.db, p, endpointID, false); err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []Delivery
	q := s.db.NewSelect().Model(&out).Where("endpoint_id = ?", endpointID).Order("id DESC").Limit(limit + 1)
	if after != "" {
		q = q.Where("id < ?", after)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// Redeliver sends a delivery again, now, with its retries, whatever its
// state: the same webhook-id and body, a fresh timestamp and signature.
// A disabled endpoint must be enabled first.
func (s *Service) Redeliver(ctx context.Context, p *identity.Principal, endpointID, deliveryID string) (*Delivery, error) {
	var out *Delivery
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := s.get(ctx, tx, p, endpointID, false)
		if err != nil {
			return err
		}
		if !e.Enabled {
			return errs.Rule("webhook_id", "endpoint_disabled", "enable the endpoint before redelivering")
		}
		d := new(Delivery)
		if !id.Valid(deliveryID) {
			return errs.ErrNotFound
		}
		if err := tx.NewSelect().Model(d).Where("id = ? AND endpoint_id = ?", deliveryID, e.ID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.ErrNotFound
			}
			return fmt.Errorf("get delivery: %w", err)
		}
		d.Status = DeliveryPending
		if _, err := tx.NewUpdate().Model(d).WherePK().Column("status").Exec(ctx); err != nil {
			return fmt.Errorf("redeliver: %w", err)
		}
		if err := s.queueDelivery(ctx, tx, d.ID); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

func (s *Service) queueDelivery(ctx context.Context, tx bun.Tx, deliveryID string) error {
	_, err := s.jobs.InsertTx(ctx, tx, deliverArgs{DeliveryID: deliveryID},
		&river.InsertOpts{MaxAttempts: len(s.retryDelays) + 1})
	return err
}

// Prune deletes deliveries older than 30 days (a jobs.Pruner).
func (s *Service) Prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*Delivery)(nil)).Where("created_at < ?", now.Add(-deliveryRetention)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return res.RowsAffected()
}
