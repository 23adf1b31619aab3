package calendar

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// Kinds of resource.
const (
	KindDesk    = "desk"    // one person
	KindRoom    = "room"    // booked whole; capacity is for display
	KindZone    = "zone"    // flex-desk area booked per seat
	KindMachine = "machine" // fablab machine, one user at a time
)

// Rules are a resource's booking rules. Durations are in minutes.
type Rules struct {
	// SlotMinutes: starts and ends fall on multiples of this, counted from
	// local midnight (default 30).
	SlotMinutes int `json:"slot_minutes"`
	MinMinutes  int `json:"min_minutes"` // default one slot
	// MaxMinutes: the longest reservation (default DefaultMaxMinutes of the
	// resource's kind). It holds for managers too; blocks have their own
	// bound, MaxBlockMinutes.
	MaxMinutes int `json:"max_minutes"`
	// HorizonDays: how far ahead a member may book (default 90): the
	// reservation must end by then.
	HorizonDays int `json:"horizon_days"`
	// MinNoticeMinutes: how long before the start a booking must be made.
	MinNoticeMinutes int `json:"min_notice_minutes"`
	// CancelDeadlineMinutes: cancelling later than this before the start is
	// allowed but marked late (billing decides what that costs).
	CancelDeadlineMinutes int `json:"cancel_deadline_minutes"`
	// BufferAfterMinutes: time kept free after each booking (cleaning, a
	// laser's cool-down).
	BufferAfterMinutes int `json:"buffer_after_minutes"`
	// LateCancelRefundPercent: the share of the credits a booking was paid
	// with that a late cancellation gives back (0 by default: none).
	LateCancelRefundPercent int `json:"late_cancel_refund_percent"`
	// ReleaseUncheckedAfterMinutes: a booking not checked in this long
	// after its start is cancelled ("not checked in"), freeing the slot
	// for the waiting list; 0 (the default) never releases. Not for
	// machines, whose session is the arrival.
	ReleaseUncheckedAfterMinutes int `json:"release_unchecked_after_minutes"`
}

// Bounds of the rules and of every reservation. Each number a client gives
// is bounded, so that no rule overflows a time.Duration (2^62 minutes of
// notice wrapped round into no notice at all), and no reservation lasts
// long enough to block a resource for good, to cost an absurd amount, or to
// reach past the instants availability computes with.
const (
	// MaxBookingMinutes bounds min_minutes and max_minutes: 31 days, a
	// month of a desk for a resource whose managers want that.
	MaxBookingMinutes = 31 * 24 * 60
	// MaxNoticeMinutes bounds min_notice_minutes and
	// cancel_deadline_minutes: 90 days.
	MaxNoticeMinutes = 90 * 24 * 60
	// MaxHorizonDays bounds horizon_days. It is also how far ahead managers
	// book, for members or for themselves, and block: they are not held to
	// a resource's horizon, but not to the year 9999 either.
	MaxHorizonDays = 730
	// MaxBlockMinutes bounds a manager's block of a resource: 92 days, a
	// quarter, long enough for a machine away for repair or a room being
	// refitted. A block is a reservation, checked and listed like one;
	// longer unavailability is a closure of the resource, or its retirement.
	MaxBlockMinutes = 92 * 24 * 60
	// MaxReleaseMinutes bounds release_unchecked_after_minutes: 12 hours.
	MaxReleaseMinutes = 12 * 60
)

// DefaultMaxMinutes is the longest reservation of a kind of resource whose
// rules set none: a day of a desk, a zone's seat or a room (a day's event),
// and eight hours of a machine (a long job; the machine is powered, and may
// be charged, for every minute of it). A manager sets max_minutes up to
// MaxBookingMinutes where longer bookings make sense.
func DefaultMaxMinutes(kind string) int {
	if kind == KindMachine {
		return 8 * 60
	}
	return 24 * 60
}

// DefaultRules are what a resource gets for rules it leaves at zero
// (max_minutes: DefaultMaxMinutes of its kind).
var DefaultRules = Rules{SlotMinutes: 30, HorizonDays: 90}

// withDefaults fills the rules left at zero for a resource of kind.
func (r Rules) withDefaults(kind string) Rules {
	if r.SlotMinutes == 0 {
		r.SlotMinutes = DefaultRules.SlotMinutes
	}
	if r.MinMinutes == 0 {
		r.MinMinutes = r.SlotMinutes
	}
	if r.MaxMinutes == 0 {
		// Never below the minimum: a resource booked for two days at least
		// may be booked for two days.
		r.MaxMinutes = max(DefaultMaxMinutes(kind), r.MinMinutes)
	}
	if r.HorizonDays == 0 {
		r.HorizonDays = DefaultRules.HorizonDays
	}
	return r
}

func (r Rules) validate(v *errs.Validator) {
	v.Check(r.SlotMinutes >= 5 && r.SlotMinutes <= 24*60 && (24*60)%r.SlotMinutes == 0, "rules.slot_minutes", "must divide a day into whole slots (5, 10, 15, 30, 60, …)")
	v.Check(r.MinMinutes >= r.SlotMinutes && r.MinMinutes <= MaxBookingMinutes && r.MinMinutes%max(r.SlotMinutes, 1) == 0,
		"rules.min_minutes", "must be a whole number of slots, at most %d (31 days)", MaxBookingMinutes)
	v.Check(r.MaxMinutes == 0 || (r.MaxMinutes >= r.MinMinutes && r.MaxMinutes <= MaxBookingMinutes && r.MaxMinutes%max(r.SlotMinutes, 1) == 0),
		"rules.max_minutes", "must be 0 (the default of the kind) or a whole number of slots from min_minutes to %d (31 days)", MaxBookingMinutes)
	v.Check(r.HorizonDays >= 1 && r.HorizonDays <= MaxHorizonDays, "rules.horizon_days", "must be between 1 and %d", MaxHorizonDays)
	v.Check(r.MinNoticeMinutes >= 0 && r.MinNoticeMinutes <= MaxNoticeMinutes, "rules.min_notice_minutes", "must be between 0 and %d (90 days)", MaxNoticeMinutes)
	v.Check(r.CancelDeadlineMinutes >= 0 && r.CancelDeadlineMinutes <= MaxNoticeMinutes, "rules.cancel_deadline_minutes", "must be between 0 and %d (90 days)", MaxNoticeMinutes)
	v.Check(r.BufferAfterMinutes >= 0 && r.BufferAfterMinutes <= 24*60, "rules.buffer_after_minutes", "must be between 0 and 1440")
	v.Check(r.LateCancelRefundPercent >= 0 && r.LateCancelRefundPercent <= 100, "rules.late_cancel_refund_percent", "must be between 0 and 100")
	v.Check(r.ReleaseUncheckedAfterMinutes >= 0 && r.ReleaseUncheckedAfterMinutes <= MaxReleaseMinutes, "rules.release_unchecked_after_minutes", "must be between 0 and %d", MaxReleaseMinutes)
}

// Resource is something bookable on a site.
type Resource struct {
	bun.BaseModel `bun:"table:resources,alias:res"`

	ID                string       `bun:"id,pk"`
	SiteID            string       `bun:"site_id"`
	Kind              string       `bun:"kind"`
	Name              string       `bun:"name"`
	Description       string       `bun:"description"`
	Capacity          int          `bun:"capacity"`
	Rules             Rules        `bun:"rules"`
	OpeningHours      OpeningHours `bun:"opening_hours"`
	QualificationID   *string      `bun:"qualification_id"`
	PricePerHourCents int64        `bun:"price_per_hour_cents"` // TTC, at VATRateBP
	MemberBookable    bool         `bun:"member_bookable"`
	CreatedAt         time.Time    `bun:"created_at"`
	UpdatedAt         time.Time    `bun:"updated_at"`
	RetiredAt         *time.Time   `bun:"retired_at"`
	// Version is bumped by every change (see resourceCache).
	Version int64 `bun:"version" json:"-"`

	// VATRateBP is the VAT rate of PricePerHourCents, which is TTC like
	// plans' prices: what one hour costs the member.
	VATRateBP int `bun:"vat_rate_bp"`
	// LegacyPriceHTCents is the HT hourly price of a resource priced before
	// prices were TTC (migration 20261207000700): charges keep the old
	// computation (HT rounded, then VAT) so that no member pays a cent more
	// or less, until a manager sets the price or the rate again.
	LegacyPriceHTCents *int64 `bun:"legacy_price_ht_cents" json:"-"`

	// Site is loaded only by getResourceAndSite, in the same query.
	Site *Site `bun:"rel:belongs-to,join:site_id=id"`
}

// Exclusive reports whether one reservation takes the whole resource.
func (r *Resource) Exclusive() bool { return r.Kind != KindZone }

// NewResource is what a manager gives to create a resource.
type NewResource struct {
	Kind              string
	Name              string
	Description       string
	Capacity          int
	Rules             Rules
	OpeningHours      OpeningHours
	QualificationID   *string
	PricePerHourCents int64 // TTC
	// VATRateBP defaults to 2000 (20 %), or 0 on a VAT-exempt site.
	VATRateBP      *int
	MemberBookable *bool
}

// ResourceVATRates are the French VAT rates a resource may carry, in basis
// points (as invoicing.VATRates, which calendar cannot import).
var ResourceVATRates = []int{0, 550, 1000, 2000}

// resourceVATRate checks rate (nil: the default) against the site.
func resourceVATRate(v *errs.Validator, site *Site, rate *int) int {
	if rate == nil {
		if site.Legal.VATExempt {
			return 0
		}
		return 2000
	}
	v.Check(slices.Contains(ResourceVATRates, *rate), "vat_rate_bp", "must be one of 0, 550, 1000, 2000")
	if site.Legal.VATExempt {
		v.Check(*rate == 0, "vat_rate_bp", "the site is VAT-exempt")
	}
	return *rate
}

func validateResource(v *errs.Validator, r *Resource) {
	r.Name = strings.TrimSpace(r.Name)
	v.Check(r.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(r.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(utf8.RuneCountInString(r.Description) <= 4000, "description", "must be at most 4000 characters")
	switch r.Kind {
	case KindDesk, KindMachine, KindKit:
		v.Check(r.Capacity == 1, "capacity", "must be 1 for a %s", r.Kind)
	case KindRoom:
		v.Check(r.Capacity >= 1 && r.Capacity <= 1000, "capacity", "must be between 1 and 1000 people")
	case KindZone:
		v.Check(r.Capacity >= 1 && r.Capacity <= 1000, "capacity", "must be between 1 and 1000 seats")
	default:
		v.Add("kind", "must be desk, room, zone, machine or kit")
	}
	if r.QualificationID != nil && r.Kind != KindMachine {
		v.Add("qualification_id", "only machines require a qualification")
	}
	v.Check(r.PricePerHourCents >= 0 && r.PricePerHourCents <= 1_000_000, "price_per_hour_cents", "must be between 0 and 1000000")
	r.Rules.validate(v)
	if r.Kind == KindMachine && r.Rules.ReleaseUncheckedAfterMinutes != 0 {
		v.Add("rules.release_unchecked_after_minutes", "a machine is not checked in: its session is the arrival")
	}
	_ = v.Merge(r.OpeningHours.Validate("opening_hours"))
}

// CreateResource adds a resource to siteID, for p who edits the site.
func (svc *Service) CreateResource(ctx context.Context, p *identity.Principal, siteID string, in NewResource) (*Resource, error) {
	if err := mayEditSite(p, siteID); err != nil {
		return nil, err
	}
	site, err := svc.GetSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	if err := checkKindAtSite(site, in.Kind); err != nil {
		return nil, err
	}
	var v errs.Validator
	rate := resourceVATRate(&v, site, in.VATRateBP)
	now := svc.now()
	r := &Resource{
		ID: id.New(), SiteID: siteID, Kind: in.Kind, Name: in.Name, Description: in.Description,
		Capacity: in.Capacity, Rules: in.Rules.withDefaults(in.Kind), OpeningHours: in.OpeningHours,
		QualificationID: in.QualificationID, PricePerHourCents: in.PricePerHourCents, VATRateBP: rate, MemberBookable: true,
		CreatedAt: now, UpdatedAt: now,
	}
	// A kit is lent by the team, not booked by members, unless its
	// managers say otherwise.
	r.MemberBookable = r.Kind != KindKit
	if r.Capacity == 0 && (r.Kind == KindDesk || r.Kind == KindMachine || r.Kind == KindKit) {
		r.Capacity = 1
	}
	if in.MemberBookable != nil {
		r.MemberBookable = *in.MemberBookable
	}
	validateResource(&v, r)
	if r.QualificationID != nil {
		if q, err := svc.getQualification(ctx, svc.db, *r.QualificationID); err != nil || q.SiteID != siteID {
			v.Add("qualification_id", "no such qualification on this site")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := svc.db.NewInsert().Model(r).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert resource: %w", err)
	}
	return r, nil
}

var errResourceNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "resource_not_found", Detail: "no such resource"}

// GetResource returns a resource, retired or not, deciding nothing: what
// other domains read of a resource. Callers acting for someone use
// ReadResource.
func (svc *Service) GetResource(ctx context.Context, resourceID string) (*Resource, error) {
	return getResource(ctx, svc.db, resourceID, false)
}

// ReadResource returns a resource, retired or not, that p may know exists
// (see mayReadResource).
func (svc *Service) ReadResource(ctx context.Context, p *identity.Principal, resourceID string) (*Resource, error) {
	res, err := getResource(ctx, svc.db, resourceID, false)
	if err != nil {
		return nil, err
	}
	if err := mayReadResource(p, res); err != nil {
		return nil, err
	}
	return res, nil
}

// getResource reads a resource. With lockZone, a zone's row is locked for
// the rest of the transaction (PostgreSQL; SQLite transactions already hold
// the write lock): counting a zone's free seats and taking some must not
// interleave. Desks, rooms and machines need no lock — the exclusion
// constraint refuses a second overlapping reservation — so bookings of one
// of them do not queue behind each other.
func getResource(ctx context.Context, idb bun.IDB, resourceID string, lockZone bool) (*Resource, error) {
	if !id.Valid(resourceID) {
		return nil, errResourceNotFound
	}
	var r Resource
	if err := idb.NewSelect().Model(&r).Where("id = ?", resourceID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errResourceNotFound
		}
		return nil, fmt.Errorf("get resource: %w", err)
	}
	if lockZone && !r.Exclusive() && !db.IsSQLite(idb) {
		if _, err := idb.NewSelect().Model((*Resource)(nil)).Column("id").Where("id = ?", resourceID).For("UPDATE").Exec(ctx); err != nil {
			return nil, fmt.Errorf("lock zone: %w", err)
		}
	}
	return &r, nil
}

// getResourceAndSite reads a resource and its site in one query (the
// booking path's first read), locking a zone's row as getResource does.
func getResourceAndSite(ctx context.Context, idb bun.IDB, resourceID string) (*Resource, *Site, error) {
	if !id.Valid(resourceID) {
		return nil, nil, errResourceNotFound
	}
	var r Resource
	if err := idb.NewSelect().Model(&r).Relation("Site").Where("res.id = ?", resourceID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, nil, errResourceNotFound
		}
		return nil, nil, fmt.Errorf("get resource: %w", err)
	}
	if !r.Exclusive() && !db.IsSQLite(idb) {
		if _, err := idb.NewSelect().Model((*Resource)(nil)).Column("id").Where("id = ?", resourceID).For("UPDATE").Exec(ctx); err != nil {
			return nil, nil, fmt.Errorf("lock zone: %w", err)
		}
	}
	site := r.Site
	r.Site = nil
	return &r, site, nil
}

// ResourceFilter narrows ListResources.
type ResourceFilter struct {
	Kind           string
	IncludeRetired bool
}

// ListResources returns the resources of a site, by kind then name, for p
// who may know the site exists.
func (svc *Service) ListResources(ctx context.Context, p *identity.Principal, siteID string, f ResourceFilter) ([]Resource, error) {
	if err := mayReadSite(p, siteID); err != nil {
		return nil, err
	}
	if _, err := svc.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	rs := []Resource{}
	q := svc.db.NewSelect().Model(&rs).Where("site_id = ?", siteID).Order("kind", "name", "id")
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if !f.IncludeRetired {
		q = q.Where("retired_at IS NULL")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list resources: %w", err)
	}
	return rs, nil
}

// ResourceUpdate changes some fields; nil fields stay.
type ResourceUpdate struct {
	Name               *string
	Description        *string
	Capacity           *int
	Rules              *Rules
	OpeningHours       OpeningHours
	ClearOpeningHours  bool
	QualificationID    *string
	ClearQualification bool
	PricePerHourCents  *int64 // TTC
	VATRateBP          *int
	MemberBookable     *bool
	Retired            *bool
}

// UpdateResource applies up. Retiring keeps the resource and its history but
// refuses new bookings; existing future reservations stay for the manager to
// move or cancel. p must edit the resource (see mayEditResource).
func (svc *Service) UpdateResource(ctx context.Context, p *identity.Principal, resourceID string, up ResourceUpdate) (*Resource, error) {
	defer svc.resources.invalidate() // after the change is committed
	var out *Resource
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := getResource(ctx, tx, resourceID, true)
		if err != nil {
			return err
		}
		if err := mayEditResource(p, r); err != nil {
			return err
		}
		if up.Name != nil {
			r.Name = *up.Name
		}
		if up.Description != nil {
			r.Description = *up.Description
		}
		if up.Capacity != nil {
			r.Capacity = *up.Capacity
		}
		if up.Rules != nil {
			r.Rules = up.Rules.withDefaults(r.Kind)
		}
		if up.OpeningHours != nil {
			r.OpeningHours = up.OpeningHours
		}
		if up.ClearOpeningHours {
			r.OpeningHours = nil
		}
		if up.QualificationID != nil {
			r.QualificationID = up.QualificationID
		}
		if up.ClearQualification {
			r.QualificationID = nil
		}
		var v errs.Validator
		if up.PricePerHourCents != nil || up.VATRateBP != nil {
			if err := svc.setResourcePrice(ctx, tx, r, &v, up); err != nil {
				return err
			}
		}
		if up.MemberBookable != nil {
			r.MemberBookable = *up.MemberBookable
		}
		now := svc.now()
		if up.Retired != nil {
			switch {
			case *up.Retired && r.RetiredAt == nil:
				r.RetiredAt = &now
			case !*up.Retired:
				r.RetiredAt = nil
			}
		}
		validateResource(&v, r)
		if up.QualificationID != nil {
			if q, err := svc.getQualification(ctx, tx, *up.QualificationID); err != nil || q.SiteID != r.SiteID {
				v.Add("qualification_id", "no such qualification on this site")
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		r.UpdatedAt = now
		if _, err := tx.NewUpdate().Model(r).WherePK().ExcludeColumn("id", "site_id", "kind", "created_at").
			Value("version", "version + 1").Exec(ctx); err != nil {
			return fmt.Errorf("update resource: %w", err)
		}
		out = r
		return nil
	})
	return out, err
}

// setResourcePrice applies a new TTC price or VAT rate; either ends the
// legacy HT computation of a migrated resource (see LegacyPriceHTCents).
func (svc *Service) setResourcePrice(ctx context.Context, tx bun.IDB, r *Resource, v *errs.Validator, up ResourceUpdate) error {
	// Price changes go to the technical journal (issue 15's cash rules).
	entry := journal.Entry{OccurredAt: svc.now(), SiteID: r.SiteID, ObjectKind: "resource", ObjectID: r.ID}
	if up.PricePerHourCents != nil {
		if err := journal.Changed(ctx, tx, entry, "price_per_hour_cents", r.PricePerHourCents, *up.PricePerHourCents); err != nil {
			return err
		}
		r.PricePerHourCents = *up.PricePerHourCents
	}
	if up.VATRateBP != nil {
		site, err := getSite(ctx, tx, r.SiteID)
		if err != nil {
			return err
		}
		rate := resourceVATRate(v, site, up.VATRateBP)
		if err := journal.Changed(ctx, tx, entry, "vat_rate_bp", r.VATRateBP, rate); err != nil {
			return err
		}
		r.VATRateBP = rate
	}
	r.LegacyPriceHTCents = nil
	return nil
}
