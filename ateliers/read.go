package ateliers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Get is one atelier: public and members' ones for anyone, signed in or
// not; invitation-only ones for those who run them.
func (s *Service) Get(ctx context.Context, p *identity.Principal, atelierID string) (*Atelier, error) {
	a, err := s.load(ctx, s.db, atelierID)
	if err != nil {
		return nil, err
	}
	if !mayRead(p, a) {
		return nil, errAtelierNotFound
	}
	return a, nil
}

// MaxAgendaDays bounds an agenda's window.
const MaxAgendaDays = 366

// List is a site's agenda: the ateliers with a session in [from, to)
// (from now and for 90 days when not given). Without the right to see all (the site's managers,
// the admins), invitation-only ones are left out: the public agenda a
// town's website links to.
func (s *Service) List(ctx context.Context, p *identity.Principal, siteID string, from, to time.Time) ([]*Atelier, error) {
	if _, err := s.cfg.Calendar.GetSite(ctx, siteID); err != nil || !id.Valid(siteID) {
		return nil, errSiteNotFound
	}
	if from.IsZero() {
		from = s.now()
	}
	if to.IsZero() {
		to = from.Add(90 * 24 * time.Hour)
	}
	if !to.After(from) || to.Sub(from) > MaxAgendaDays*24*time.Hour {
		return nil, errs.Invalid("to", "must be after from, at most %d days later", MaxAgendaDays)
	}
	return s.list(ctx, p, siteID, from, to)
}

// list is List without its bounds (the feed's window is its own).
func (s *Service) list(ctx context.Context, p *identity.Principal, siteID string, from, to time.Time) ([]*Atelier, error) {
	q := s.db.NewSelect().Model((*Atelier)(nil)).Where("site_id = ? AND status = ?", siteID, "active").
		Where("id IN (SELECT atelier_id FROM atelier_sessions WHERE starts_at < ? AND ends_at > ?)", to, from)
	if p == nil || !(p.IsSystem() || (!p.IsAPIKey() && p.ManagesSite(siteID))) {
		q = q.Where("audience <> ?", AudienceInvitation)
	}
	var as []*Atelier
	if err := q.Order("created_at", "id").Limit(500).Scan(ctx, &as); err != nil {
		return nil, fmt.Errorf("list ateliers: %w", err)
	}
	if err := s.fill(ctx, s.db, as); err != nil {
		return nil, err
	}
	return as, nil
}

// Categories lists the network's kinds of atelier, in their order.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	out := []Category{}
	if err := s.db.NewSelect().Model(&out).Order("position", "name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list categories: %w", err)
	}
	return out, nil
}

// AddCategory adds a kind of atelier to the network's list: admins.
func (s *Service) AddCategory(ctx context.Context, p *identity.Principal, name string) (*Category, error) {
	if !p.IsAdmin() && !p.IsSystem() {
		return nil, errs.ErrForbidden
	}
	name = strings.TrimSpace(name)
	var v errs.Validator
	v.Check(name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(name) <= 100, "name", "must be at most %d characters", 100)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var last int
	if err := s.db.NewSelect().Model((*Category)(nil)).ColumnExpr("COALESCE(MAX(position), 0)").Scan(ctx, &last); err != nil {
		return nil, fmt.Errorf("read categories: %w", err)
	}
	c := &Category{ID: id.New(), Name: name, Position: last + 1, CreatedAt: s.now()}
	if _, err := s.db.NewInsert().Model(c).Exec(ctx); err != nil {
		if db.IsUnique(err) {
			return nil, errs.Problemf(errs.ErrConflict, "category_exists", "a category has this name")
		}
		return nil, fmt.Errorf("insert category: %w", err)
	}
	return c, nil
}
