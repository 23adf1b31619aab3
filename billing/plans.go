// Package billing decides what a member has paid for and may use, takes the
// money (Stripe online, or cash, cheque and transfer on site) and issues the
// paperwork French law asks for.
package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/journal"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Plan kinds.
const (
	PlanMembership = "membership" // monthly, renewed until cancelled
	PlanDayPass    = "day_pass"   // one local day on one site
	PlanPack       = "pack"       // prepaid minutes of a resource kind
)

// Door access windows.
const (
	DoorAlways       = "24_7"
	DoorOpeningHours = "opening_hours"
	DoorNone         = "none"
)

// Allowance is time included in a membership each month, for a kind of
// resource ("8 h of meeting room per month").
type Allowance struct {
	ResourceKind     string `json:"resource_kind"`
	MinutesPerPeriod int    `json:"minutes_per_period"`
}

// Quotas bound how much a member books. Zero means no bound.
type Quotas struct {
	MaxConcurrentReservations int `json:"max_concurrent_reservations"`
	MaxMinutesPerDay          int `json:"max_minutes_per_day"`
	MaxMinutesPerWeek         int `json:"max_minutes_per_week"`
	HorizonDays               int `json:"horizon_days"`
}

// maxPlanPriceCents bounds a plan's price, TTC: 100 000 €.
const maxPlanPriceCents = 10_000_000

// Bounds of quotas: a member's upcoming reservations, and minutes of them
// a day or a week (31 days of minutes, as an allowance's minutes a period).
const (
	maxConcurrentReservations = 1000
	maxQuotaMinutes           = 31 * 24 * 60
)

// Includes says what a plan gives.
type Includes struct {
	// ResourceKinds may be booked at no extra cost (beyond allowances).
	ResourceKinds []string    `json:"resource_kinds"`
	Allowances    []Allowance `json:"allowances"`
	Quotas        Quotas      `json:"quotas"`
	DoorAccess    string      `json:"door_access"`
	// PayPerUse: beyond what is included, bookings are charged at the
	// resource's hourly price instead of refused.
	PayPerUse bool `json:"pay_per_use"`
	// Packs: minutes of one resource kind, valid for some days.
	PackResourceKind string `json:"pack_resource_kind,omitempty"`
	PackMinutes      int    `json:"pack_minutes,omitempty"`
	PackValidDays    int    `json:"pack_valid_days,omitempty"`
}

// Plan is something a member can buy. PriceCents is the price the member
// pays (TTC); HT and VAT derive from it and the rate.
type Plan struct {
	bun.BaseModel `bun:"table:plans,alias:pl"`

	ID          string   `bun:"id,pk"`
	SiteID      *string  `bun:"site_id"` // nil: valid on every site of the network
	Kind        string   `bun:"kind"`
	Name        string   `bun:"name"`
	Description string   `bun:"description"`
	PriceCents  int64    `bun:"price_cents"`
	VATRateBP   int      `bun:"vat_rate_bp"`
	Includes    Includes `bun:"includes"`
	Active      bool     `bun:"active"`
	// The Stripe Product and monthly Price of a membership plan, once it
	// has been sold online (see stripePrice).
	StripeProductID *string   `bun:"stripe_product_id"`
	StripePriceID   *string   `bun:"stripe_price_id"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
}

// PriceHT is the plan's price without VAT.
func (p *Plan) PriceHT() int64 { ht, _ := invoicing.SplitTTC(p.PriceCents, p.VATRateBP); return ht }

// Covers reports whether the plan is valid on siteID.
func (p *Plan) Covers(siteID string) bool { return p.SiteID == nil || *p.SiteID == siteID }

func validKind(k string) bool {
	return k == calendar.KindDesk || k == calendar.KindRoom || k == calendar.KindZone || k == calendar.KindMachine
}

func validatePlan(v *errs.Validator, p *Plan, vatExempt bool) {
	p.Name = strings.TrimSpace(p.Name)
	v.Check(p.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(p.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(p.Kind == PlanMembership || p.Kind == PlanDayPass || p.Kind == PlanPack, "kind", "must be membership, day_pass or pack")
	v.Check(p.PriceCents >= 0 && p.PriceCents <= maxPlanPriceCents, "price_cents", "must be between 0 and %d (100 000 €)", maxPlanPriceCents)
	checkVATRate(v, p.VATRateBP, vatExempt)
	in := &p.Includes
	for i, k := range in.ResourceKinds {
		v.Check(validKind(k), fmt.Sprintf("includes.resource_kinds[%d]", i), "must be desk, room, zone or machine")
	}
	for i, a := range in.Allowances {
		v.Check(validKind(a.ResourceKind), fmt.Sprintf("includes.allowances[%d].resource_kind", i), "must be desk, room, zone or machine")
		v.Check(a.MinutesPerPeriod > 0 && a.MinutesPerPeriod <= 31*24*60, fmt.Sprintf("includes.allowances[%d].minutes_per_period", i), "must be between 1 and 44640")
	}
	// Quotas are bounded like the rules they tighten: past a bound a quota
	// no longer limits anything (no reservation lasts longer than
	// calendar.MaxBookingMinutes or ends later than calendar.MaxHorizonDays
	// ahead), and 2^62 days ahead overflowed a date into the past.
	q := in.Quotas
	v.Check(q.MaxConcurrentReservations >= 0 && q.MaxConcurrentReservations <= maxConcurrentReservations,
		"includes.quotas.max_concurrent_reservations", "must be between 0 (no limit) and %d", maxConcurrentReservations)
	v.Check(q.MaxMinutesPerDay >= 0 && q.MaxMinutesPerDay <= maxQuotaMinutes,
		"includes.quotas.max_minutes_per_day", "must be between 0 (no limit) and %d", maxQuotaMinutes)
	v.Check(q.MaxMinutesPerWeek >= 0 && q.MaxMinutesPerWeek <= maxQuotaMinutes,
		"includes.quotas.max_minutes_per_week", "must be between 0 (no limit) and %d", maxQuotaMinutes)
	v.Check(q.HorizonDays >= 0 && q.HorizonDays <= calendar.MaxHorizonDays,
		"includes.quotas.horizon_days", "must be between 0 (no limit) and %d", calendar.MaxHorizonDays)
	if in.DoorAccess == "" {
		in.DoorAccess = DoorOpeningHours
	}
	v.Check(in.DoorAccess == DoorAlways || in.DoorAccess == DoorOpeningHours || in.DoorAccess == DoorNone,
		"includes.door_access", "must be 24_7, opening_hours or none")
	if p.Kind == PlanPack {
		v.Check(validKind(in.PackResourceKind), "includes.pack_resource_kind", "must be desk, room, zone or machine")
		v.Check(in.PackMinutes > 0 && in.PackMinutes <= 1000*60, "includes.pack_minutes", "must be between 1 and 60000")
		v.Check(in.PackValidDays > 0 && in.PackValidDays <= 3*366, "includes.pack_valid_days", "must be between 1 and 1098")
	}
	if p.Kind == PlanDayPass {
		v.Check(p.SiteID != nil, "site_id", "a day pass is for one site")
	}
}

// checkVATRate: a French rate, and 0 for a VAT-exempt entity.
func checkVATRate(v *errs.Validator, rateBP int, vatExempt bool) {
	v.Check(slices.Contains(invoicing.VATRates, rateBP), "vat_rate_bp", "must be 0, 550, 1000 or 2000 (basis points)")
	if vatExempt {
		v.Check(rateBP == 0, "vat_rate_bp", "must be 0: the site's entity is VAT-exempt")
	}
}

// NewPlan is what a manager or admin gives to create a plan.
type NewPlan struct {
	SiteID      *string
	Kind        string
	Name        string
	Description string
	PriceCents  int64
	VATRateBP   *int
	Includes    Includes
}

// CreatePlan adds a plan. VAT defaults to 20 %, or 0 for a VAT-exempt site.
func (s *Service) CreatePlan(ctx context.Context, in NewPlan) (*Plan, error) {
	vatExempt := false
	if in.SiteID != nil {
		site, err := calendar.LoadSite(ctx, s.db, *in.SiteID)
		if err != nil {
			return nil, err
		}
		vatExempt = site.Legal.VATExempt
	}
	rate := 2000
	if vatExempt {
		rate = 0
	}
	if in.VATRateBP != nil {
		rate = *in.VATRateBP
	}
	now := s.now()
	p := &Plan{ID: id.New(), SiteID: in.SiteID, Kind: in.Kind, Name: in.Name, Description: in.Description,
		PriceCents: in.PriceCents, VATRateBP: rate, Includes: in.Includes, Active: true, CreatedAt: now, UpdatedAt: now}
	var v errs.Validator
	validatePlan(&v, p, vatExempt)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// The plan and its journal entry commit together: a plan on sale whose
	// price and rate the technical journal does not hold would break the
	// cash journal's record (art. 286 I-3° bis CGI), and an entry for a
	// plan that was rolled back would record what never was.
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(p).Exec(ctx); err != nil {
			return fmt.Errorf("insert plan: %w", err)
		}
		return journal.Record(ctx, tx, journal.Entry{OccurredAt: now, SiteID: journal.Str(p.SiteID), Action: "create", ObjectKind: "plan", ObjectID: p.ID,
			Field: "price_cents vat_rate_bp", After: fmt.Sprintf("%d %d", p.PriceCents, p.VATRateBP)})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

var errPlanNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "plan_not_found", Detail: "no such plan"}

// GetPlan returns a plan.
func (s *Service) GetPlan(ctx context.Context, planID string) (*Plan, error) {
	return getPlan(ctx, s.db, planID)
}

// entitlementPlan is getPlan for deciding what a membership, pass or pack
// gives. What a plan gives (its kind, site and Includes) never changes once
// it is created (only whether it is on sale does, and its Stripe ids), so
// every booking need not read it again: it is kept for the process's life.
// Callers must use only those fields.
func (s *Service) entitlementPlan(ctx context.Context, idb bun.IDB, planID string) (*Plan, error) {
	if p, ok := s.plans.Load(planID); ok {
		return p.(*Plan), nil
	}
	p, err := getPlan(ctx, idb, planID)
	if err != nil {
		return nil, err
	}
	s.plans.Store(planID, p)
	return p, nil
}

func getPlan(ctx context.Context, idb bun.IDB, planID string) (*Plan, error) {
	if !id.Valid(planID) {
		return nil, errPlanNotFound
	}
	var p Plan
	if err := idb.NewSelect().Model(&p).Where("id = ?", planID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errPlanNotFound
		}
		return nil, fmt.Errorf("get plan: %w", err)
	}
	return &p, nil
}

// ListPlans returns the active plans valid on siteID (network plans too),
// or every active plan when siteID is empty.
func (s *Service) ListPlans(ctx context.Context, siteID string, includeInactive bool) ([]Plan, error) {
	ps := []Plan{}
	q := s.db.NewSelect().Model(&ps).Order("kind", "price_cents", "id")
	if siteID != "" {
		q = q.Where("site_id IS NULL OR site_id = ?", siteID)
	}
	if !includeInactive {
		q = q.Where("active")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return ps, nil
}

// PlanUpdate is a change of a plan; a nil field is left as it is.
type PlanUpdate struct {
	// Active puts the plan on sale or retires it; members who hold it
	// keep it.
	Active *bool
	// VATRateBP is the rate of the plan's next sales. Its price stays the
	// TTC the member pays, so HT and VAT are split anew from it. What was
	// sold keeps its rate: an invoice holds its own lines and is never
	// changed, and a sale is invoiced at the rate in force when it is paid
	// (VAT on services is due on payment, art. 269 2 c CGI), renewals and
	// online payments completed after the change included.
	VATRateBP *int
}

// UpdatePlan applies up to a plan, and records each change in the
// technical journal in the same transaction.
func (s *Service) UpdatePlan(ctx context.Context, planID string, up PlanUpdate) (*Plan, error) {
	var out *Plan
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		p, err := getPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		was := *p
		if up.Active != nil {
			p.Active = *up.Active
		}
		if up.VATRateBP != nil {
			p.VATRateBP = *up.VATRateBP
			vatExempt := false
			if p.SiteID != nil {
				site, err := calendar.LoadSite(ctx, tx, *p.SiteID)
				if err != nil {
					return err
				}
				vatExempt = site.Legal.VATExempt
			}
			var v errs.Validator
			checkVATRate(&v, p.VATRateBP, vatExempt)
			if err := v.Err(); err != nil {
				return err
			}
		}
		out = p
		if p.Active == was.Active && p.VATRateBP == was.VATRateBP {
			return nil
		}
		p.UpdatedAt = s.now()
		if _, err := tx.NewUpdate().Model(p).Column("active", "vat_rate_bp", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update plan: %w", err)
		}
		base := journal.Entry{OccurredAt: p.UpdatedAt, SiteID: journal.Str(p.SiteID), ObjectKind: "plan", ObjectID: p.ID}
		if err := journal.Changed(ctx, tx, base, "active", was.Active, p.Active); err != nil {
			return err
		}
		return journal.Changed(ctx, tx, base, "vat_rate_bp", was.VATRateBP, p.VATRateBP)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
