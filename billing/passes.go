package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// DayPass gives one local calendar day on one site.
type DayPass struct {
	bun.BaseModel `bun:"table:day_passes,alias:dp"`

	ID        string    `bun:"id,pk"`
	UserID    string    `bun:"user_id"`
	PlanID    string    `bun:"plan_id"`
	SiteID    string    `bun:"site_id"`
	Day       string    `bun:"day"` // YYYY-MM-DD in the site's zone
	StartsAt  time.Time `bun:"starts_at"`
	EndsAt    time.Time `bun:"ends_at"`
	Status    string    `bun:"status"`
	Source    string    `bun:"source"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// Pack is prepaid time of one resource kind.
type Pack struct {
	bun.BaseModel `bun:"table:packs,alias:pk"`

	ID           string    `bun:"id,pk"`
	UserID       string    `bun:"user_id"`
	PlanID       string    `bun:"plan_id"`
	SiteID       *string   `bun:"site_id"`
	ResourceKind string    `bun:"resource_kind"`
	Minutes      int       `bun:"minutes"`
	ValidUntil   time.Time `bun:"valid_until"`
	Status       string    `bun:"status"`
	Source       string    `bun:"source"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// createDayPass inserts a pending day pass for day (YYYY-MM-DD) on the
// plan's site: that local day, whatever its length on DST days.
func (s *Service) createDayPass(ctx context.Context, tx bun.IDB, userID string, p *Plan, day string) (*DayPass, error) {
	if p.Kind != PlanDayPass || p.SiteID == nil {
		return nil, errs.Invalid("plan_id", "this plan is not a day pass")
	}
	site, err := calendar.LoadSite(ctx, tx, *p.SiteID)
	if err != nil {
		return nil, err
	}
	loc := site.Location()
	d, err := time.ParseInLocation("2006-01-02", day, loc)
	if err != nil {
		return nil, errs.Invalid("date", "must be a date such as 2026-03-10")
	}
	end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	now := s.now()
	if !end.After(now) {
		return nil, errs.Rule("date", "date_in_past", "this day is over")
	}
	if d.After(now.AddDate(1, 0, 0)) {
		return nil, errs.Rule("date", "date_too_far", "a day pass is sold at most a year ahead")
	}
	dp := &DayPass{ID: id.New(), UserID: userID, PlanID: p.ID, SiteID: *p.SiteID, Day: day, StartsAt: d.UTC(), EndsAt: end.UTC(),
		Status: StatusPending, Source: SourceOnSite, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(dp).Exec(ctx); err != nil {
		if db.IsForeignKey(err) {
			return nil, errs.Invalid("user_id", "no such user")
		}
		return nil, fmt.Errorf("insert day pass: %w", err)
	}
	return dp, nil
}

func (s *Service) createPack(ctx context.Context, tx bun.IDB, userID string, p *Plan) (*Pack, error) {
	if p.Kind != PlanPack {
		return nil, errs.Invalid("plan_id", "this plan is not a pack")
	}
	now := s.now()
	pk := &Pack{ID: id.New(), UserID: userID, PlanID: p.ID, SiteID: p.SiteID, ResourceKind: p.Includes.PackResourceKind,
		Minutes: p.Includes.PackMinutes, ValidUntil: now.AddDate(0, 0, p.Includes.PackValidDays), Status: StatusPending,
		Source: SourceOnSite, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(pk).Exec(ctx); err != nil {
		if db.IsForeignKey(err) {
			return nil, errs.Invalid("user_id", "no such user")
		}
		return nil, fmt.Errorf("insert pack: %w", err)
	}
	return pk, nil
}

// ListDayPasses returns a user's day passes from the given day on.
func (s *Service) ListDayPasses(ctx context.Context, userID string) ([]DayPass, error) {
	ps := []DayPass{}
	if err := s.db.NewSelect().Model(&ps).Where("user_id = ?", userID).Order("starts_at DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list day passes: %w", err)
	}
	return ps, nil
}

// ListPacks returns a user's packs.
func (s *Service) ListPacks(ctx context.Context, userID string) ([]Pack, error) {
	ps := []Pack{}
	if err := s.db.NewSelect().Model(&ps).Where("user_id = ?", userID).Order("created_at DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list packs: %w", err)
	}
	return ps, nil
}
