package closings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// Who may read and close an entity's cash journal: admins, and the
// managers of any site of that entity (not API keys: closing is a person's
// act, and archives hold every member's invoices). Anyone else is told
// the entity does not exist.

// Entity is an entity's cash journal as one principal may use it; only
// EntityFor gives one, after deciding.
type Entity struct {
	s     *Service
	p     *identity.Principal
	siren string
	sites []string
}

// EntityFor returns the entity siren for p, or entity_not_found.
func (s *Service) EntityFor(ctx context.Context, p *identity.Principal, siren string) (*Entity, error) {
	if p == nil || p.IsAPIKey() || siren == "" {
		return nil, errEntityNotFound
	}
	sites, err := calendar.EntitySites(ctx, s.db, siren)
	if err != nil {
		return nil, err
	}
	if len(sites) == 0 {
		return nil, errEntityNotFound
	}
	if !p.IsAdmin() && !managesAny(p, sites) {
		return nil, errEntityNotFound
	}
	return &Entity{s: s, p: p, siren: siren, sites: sites}, nil
}

func managesAny(p *identity.Principal, sites []string) bool {
	for _, id := range sites {
		if p.ManagesSite(id) {
			return true
		}
	}
	return false
}

// SIREN is the entity's.
func (e *Entity) SIREN() string { return e.siren }

// Close closes a period that is over (see Service.Close) in the caller's
// name.
func (e *Entity) Close(ctx context.Context, period string) (*Closing, error) {
	return e.s.Close(ctx, e.siren, period, e.p.UserID)
}

// ListFilter selects closings: a kind, and periods starting in [From, To).
type ListFilter struct {
	Kind     string
	From, To time.Time
}

// List returns the entity's closings matching f, oldest first (at most a
// few thousand: one per day, month and year).
func (e *Entity) List(ctx context.Context, f ListFilter) ([]Closing, error) {
	if f.Kind != "" && f.Kind != KindDay && f.Kind != KindMonth && f.Kind != KindYear {
		return nil, errs.Invalid("kind", "must be day, month or year")
	}
	out := []Closing{}
	q := e.s.db.NewSelect().Model(&out).Where("entity_key = ?", e.siren)
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if !f.From.IsZero() {
		q = q.Where("period_start >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("period_start < ?", f.To.UTC())
	}
	if err := q.Order("period_start", "kind").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list closings: %w", err)
	}
	return out, nil
}

// Get returns one of the entity's closings.
func (e *Entity) Get(ctx context.Context, closingID string) (*Closing, error) {
	var c Closing
	err := e.s.db.NewSelect().Model(&c).Where("id = ? AND entity_key = ?", closingID, e.siren).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errClosingNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get closing: %w", err)
	}
	return &c, nil
}

// Journal returns a page of the entity's technical events journal in
// [from, to), after the entry after.
func (e *Entity) Journal(ctx context.Context, from, to time.Time, after string, limit int) ([]journal.Entry, error) {
	return journal.List(ctx, e.s.db, journal.Filter{EntityKey: e.siren, SiteIDs: e.sites, From: from, To: to, After: after, Limit: limit})
}
