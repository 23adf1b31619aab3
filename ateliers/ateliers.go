// Package ateliers is what a tiers lieu teaches: ateliers of its public
// digital space (initiation, online procedures, seniors' workshops) and
// fablab trainings. An atelier belongs to a site, occupies resources at
// each of its sessions (reserved through the calendar as blocks, so it
// never collides with a booking), takes a number of people — members or
// guests of the services (people.Guest) — with a waiting list promoted in
// order, and records who came; a training that teaches a machine's
// qualification grants it to those marked present. Who may do what is in
// rules.go. It sits above calendar and billing and below api.
package ateliers

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/ledger"
)

// Audiences: who may register themselves.
const (
	AudiencePublic     = "public"     // anyone with an account; listed without sign-in
	AudienceMembers    = "members"    // holders of a membership or day pass at the site
	AudienceInvitation = "invitation" // only the site's managers register people
)

// Registration statuses and attendance.
const (
	StatusConfirmed  = "confirmed"
	StatusWaitlisted = "waitlisted"
	StatusCancelled  = "cancelled"

	Present = "present"
	Absent  = "absent"
	Excused = "excused"
)

// Bounds of what an atelier may ask.
const (
	MaxSeats    = 500
	MaxSessions = 60 // a school year of weekly sessions
	MaxTitle    = 200
	MaxDesc     = 5000
	MaxResource = 10
	MaxPrice    = 100_000_00 // 100,000 € TTC
	MaxMonths   = 120
	// MaxSessionMinutes: a session is at most a day long.
	MaxSessionMinutes = 24 * 60
)

// Calendar is what ateliers asks of the calendar.
type Calendar interface {
	GetSite(ctx context.Context, siteID string) (*calendar.Site, error)
	ReserveForAtelier(ctx context.Context, tx bun.Tx, p *identity.Principal, siteID string, resourceIDs []string, start, end time.Time, note string) ([]*calendar.Reservation, error)
	ReleaseForAtelier(ctx context.Context, tx bun.Tx, actorID string, reservationIDs []string, reason string) error
	GrantOnAttendance(ctx context.Context, tx bun.IDB, qualID, userID, grantedBy string, at time.Time, expiresAt *time.Time) error
	QualificationSite(ctx context.Context, idb bun.IDB, qualID string) (string, error)
}

// Rights tells whether a person holds a membership or day pass at a site
// (billing.Service.MayEnter), for the ateliers of audience "members".
type Rights interface {
	MayEnter(ctx context.Context, userID, siteID string, t time.Time) (*billing.Entry, error)
}

// Accounts names people and tells that they exist (identity.Service.People).
type Accounts interface {
	People(ctx context.Context, idb bun.IDB, ids []string) (map[string]identity.Person, error)
}

// Pricings: what a registration costs (see pricing.go).
const (
	PricingFree     = "free"
	PricingPrice    = "price"    // price_cents TTC, a charge paid at the desk or online
	PricingIncluded = "included" // in the plans of plan_ids
	PricingCredits  = "credits"  // credit_cents of money credit, spent at registration
)

// Payments is what ateliers asks of billing (billing.Service) to price a
// registration, inside the registration's transaction.
type Payments interface {
	HoldsPlan(ctx context.Context, idb bun.IDB, userID string, planIDs []string, t time.Time) (bool, error)
	CheckPlans(ctx context.Context, idb bun.IDB, field string, planIDs []string) error
	ChargeAtelier(ctx context.Context, idb bun.IDB, c billing.AtelierCharge) error
	VoidAtelierCharge(ctx context.Context, idb bun.IDB, registrationID string) error
	PayAtelierWithCredit(ctx context.Context, idb bun.IDB, a ledger.AtelierSpend) (bool, error)
	RefundAtelierCredit(ctx context.Context, idb bun.IDB, userID, registrationID string) error
}

// Config is what the service needs, given at construction.
type Config struct {
	Calendar Calendar
	Rights   Rights
	Payments Payments
	Accounts Accounts
	// Events hears of registrations confirmed, promoted and cancelled, in
	// their transaction (notify's mails); nil tells nobody.
	Events events.Publisher
	Now    func() time.Time
}

// Service runs ateliers.
type Service struct {
	db  *bun.DB
	cfg Config
}

// New returns the service; Calendar, Rights, Payments and Accounts are
// required.
func New(db *bun.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Calendar == nil || cfg.Rights == nil || cfg.Payments == nil || cfg.Accounts == nil {
		return nil, errors.New("ateliers: DB, Calendar, Rights, Payments and Accounts are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	return &Service{db: db, cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
