package calendar

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Closure is a period when a whole site is closed (a holiday, works).
type Closure struct {
	bun.BaseModel `bun:"table:site_closures,alias:closure"`

	ID        string    `bun:"id,pk"`
	SiteID    string    `bun:"site_id"`
	StartsAt  time.Time `bun:"starts_at"`
	EndsAt    time.Time `bun:"ends_at"`
	Reason    string    `bun:"reason"`
	CreatedAt time.Time `bun:"created_at"`
}

// MaxClosureDays bounds a closure's length and how far ahead it may end:
// bookings reach at most MaxHorizonDays ahead, so a closure beyond them
// closes nothing anyone could book, and every interval the API takes is
// bounded. A closure may start in the past (one under way, or recorded
// late), within a year.
const MaxClosureDays = MaxHorizonDays + 365

// checkClosure validates a closure of a site or of a resource, made at now.
func checkClosure(now, start, end time.Time, reason string) error {
	var v errs.Validator
	v.Check(!start.IsZero(), "starts_at", "is required")
	v.Check(!end.IsZero(), "ends_at", "is required")
	v.Check(end.After(start), "ends_at", "must be after starts_at")
	v.Check(start.IsZero() || !start.Before(now.AddDate(-1, 0, 0)), "starts_at", "must be at most a year ago")
	v.Check(end.IsZero() || !end.After(now.AddDate(0, 0, MaxClosureDays)), "ends_at", "must be at most %d days ahead", MaxClosureDays)
	v.Check(len(reason) <= 500, "reason", "must be at most 500 bytes")
	return v.Err()
}

// AddClosure closes siteID over [start, end), for p who edits the site.
func (svc *Service) AddClosure(ctx context.Context, p *identity.Principal, siteID string, start, end time.Time, reason string) (*Closure, error) {
	if err := mayEditSite(p, siteID); err != nil {
		return nil, err
	}
	if _, err := svc.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	if err := checkClosure(svc.now(), start, end, reason); err != nil {
		return nil, err
	}
	c := &Closure{ID: id.New(), SiteID: siteID, StartsAt: start.UTC(), EndsAt: end.UTC(), Reason: strings.TrimSpace(reason), CreatedAt: svc.now()}
	if _, err := svc.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert closure: %w", err)
	}
	return c, nil
}

// ListClosures returns the closures of siteID that overlap [from, to); a
// zero bound is open, for p who may know the site exists.
func (svc *Service) ListClosures(ctx context.Context, p *identity.Principal, siteID string, from, to time.Time) ([]Closure, error) {
	if err := mayReadSite(p, siteID); err != nil {
		return nil, err
	}
	if _, err := svc.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	closures := []Closure{}
	q := svc.db.NewSelect().Model(&closures).Where("site_id = ?", siteID).Order("starts_at", "id")
	if !from.IsZero() {
		q = q.Where("ends_at > ?", from.UTC())
	}
	if !to.IsZero() {
		q = q.Where("starts_at < ?", to.UTC())
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list closures: %w", err)
	}
	return closures, nil
}

var errClosureNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "closure_not_found", Detail: "no such closure on this site"}

// GetClosure returns one closure of siteID, for p who may know the site
// exists.
func (svc *Service) GetClosure(ctx context.Context, p *identity.Principal, siteID, closureID string) (*Closure, error) {
	if err := mayReadSite(p, siteID); err != nil {
		return nil, err
	}
	if !id.Valid(closureID) {
		return nil, errClosureNotFound
	}
	var c Closure
	if err := svc.db.NewSelect().Model(&c).Where("id = ? AND site_id = ?", closureID, siteID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errClosureNotFound
		}
		return nil, fmt.Errorf("get closure: %w", err)
	}
	return &c, nil
}

// DeleteClosure reopens what a closure closed, for p who edits the site.
func (svc *Service) DeleteClosure(ctx context.Context, p *identity.Principal, siteID, closureID string) error {
	if err := mayEditSite(p, siteID); err != nil {
		return err
	}
	res, err := svc.db.NewDelete().Model((*Closure)(nil)).Where("id = ? AND site_id = ?", closureID, siteID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete closure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errClosureNotFound
	}
	return nil
}

// AddResourceClosure closes one resource over [start, end) (maintenance),
// for p who edits the resource.
func (svc *Service) AddResourceClosure(ctx context.Context, p *identity.Principal, resourceID string, start, end time.Time, reason string) (*ResourceClosure, error) {
	r, err := svc.GetResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	if err := mayEditResource(p, r); err != nil {
		return nil, err
	}
	if err := checkClosure(svc.now(), start, end, reason); err != nil {
		return nil, err
	}
	c := &ResourceClosure{ID: id.New(), ResourceID: resourceID, StartsAt: start.UTC(), EndsAt: end.UTC(), Reason: strings.TrimSpace(reason), CreatedAt: svc.now()}
	if _, err := svc.db.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert resource closure: %w", err)
	}
	return c, nil
}

// ListResourceClosures returns the closures of a resource overlapping
// [from, to), for p who may read the resource.
func (svc *Service) ListResourceClosures(ctx context.Context, p *identity.Principal, resourceID string, from, to time.Time) ([]ResourceClosure, error) {
	if _, err := svc.ReadResource(ctx, p, resourceID); err != nil {
		return nil, err
	}
	cs := []ResourceClosure{}
	q := svc.db.NewSelect().Model(&cs).Where("resource_id = ?", resourceID).Order("starts_at", "id")
	if !from.IsZero() {
		q = q.Where("ends_at > ?", from.UTC())
	}
	if !to.IsZero() {
		q = q.Where("starts_at < ?", to.UTC())
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list resource closures: %w", err)
	}
	return cs, nil
}

// DeleteResourceClosure reopens what a resource closure closed, for p who
// edits the resource.
func (svc *Service) DeleteResourceClosure(ctx context.Context, p *identity.Principal, resourceID, closureID string) error {
	r, err := svc.GetResource(ctx, resourceID)
	if err != nil {
		return err
	}
	if err := mayEditResource(p, r); err != nil {
		return err
	}
	res, err := svc.db.NewDelete().Model((*ResourceClosure)(nil)).Where("id = ? AND resource_id = ?", closureID, resourceID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete resource closure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errClosureNotFound
	}
	return nil
}
