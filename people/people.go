// Package people is the front desk's view of the persons a site serves:
// the search over everyone with a relation to the site, one person's whole
// picture there, walk-ins registered at the desk (with or without an
// email) and the managers' private notes. It sits above the domains, like
// privacy, and reads them through the small interfaces below; who may do
// what is in rules.go.
//
// The search is a read model this package owns (readmodel.go): one SQL
// statement over users (identity's) and the tables that relate a person
// to a site (billing's memberships, day passes and packs, the ledger's
// credit lots, the calendar's reservations, the gate's access events, and
// site_people, the walk-ins registered here). Filtering by text and
// status and paginating in keyset order across five domains' relations
// cannot be done by asking each domain for ids and merging in Go without
// reading every related person of the site for every keystroke (50,000 at
// a large site); a single read-only statement can, with the indexes of
// migration 20261207000500. The owners keep every write and every rule;
// the read model only reads, and a domain changing one of these tables
// finds this package by grepping for the table's name. The picture of one
// person, which has no such constraint, goes through the domains' Go API.
package people

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// Identity is what people asks of accounts.
type Identity interface {
	CreateWalkIn(ctx context.Context, tx bun.IDB, in identity.WalkIn) (*identity.User, error)
	EditWalkIn(ctx context.Context, tx bun.IDB, userID string, e identity.WalkInEdit) (*identity.User, error)
	People(ctx context.Context, idb bun.IDB, ids []string) (map[string]identity.Person, error)
}

// Billing is what people reads of plans, memberships, passes and payments.
type Billing interface {
	MayEnter(ctx context.Context, userID, siteID string, t time.Time) (*billing.Entry, error)
	ListMemberships(ctx context.Context, userID string) ([]billing.Membership, error)
	ListDayPasses(ctx context.Context, userID string) ([]billing.DayPass, error)
	ListPacks(ctx context.Context, userID string) ([]billing.Pack, error)
	ListPayments(ctx context.Context, userID string) ([]billing.Payment, error)
	ListPlans(ctx context.Context, siteID string, includeInactive bool) ([]billing.Plan, error)
}

// Sites tells whether a site exists (calendar.DevicePlaces).
type Sites interface {
	SiteExists(ctx context.Context, idb bun.IDB, siteID string) (bool, error)
}

// Calendar is what people reads of bookings and qualifications.
type Calendar interface {
	ListReservations(ctx context.Context, p *identity.Principal, f calendar.ReservationFilter) ([]calendar.Reservation, string, error)
	ListQualifications(ctx context.Context, p *identity.Principal, siteID string) ([]calendar.Qualification, error)
	ListGrants(ctx context.Context, p *identity.Principal, qualID string) ([]calendar.Grant, error)
}

// Invoices lists a person's documents at a site.
type Invoices interface {
	List(ctx context.Context, f invoicing.InvoiceFilter) ([]invoicing.Invoice, string, error)
}

// Credits is the person's credit usable at a site.
type Credits interface {
	UsableAt(ctx context.Context, userID, siteID string) ([]ledger.CreditBalance, error)
}

// Visits tells when people last came to a site. The gate's door grants
// are one source (DoorVisits); check-ins at the desk or on arrival are
// another (calendar.CheckInVisits, which serve adds): a person's last
// visit is the latest any source knows.
type Visits interface {
	LastVisits(ctx context.Context, idb bun.IDB, siteID string, userIDs []string) (map[string]time.Time, error)
}

// Config is what the service needs, given at construction.
type Config struct {
	Identity Identity
	Billing  Billing
	Calendar Calendar
	Sites    Sites
	Invoices Invoices
	Credits  Credits
	// Visits: nil is DoorVisits alone.
	Visits []Visits
	// Movers move a merged guest's history (merge.go); serve lists every
	// domain that holds some.
	Movers []HistoryMover
	Now    func() time.Time
}

// Service is the front desk's people.
type Service struct {
	db  *bun.DB
	cfg Config
}

// New returns the service; every dependency but Visits is required.
func New(db *bun.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Identity == nil || cfg.Billing == nil || cfg.Calendar == nil || cfg.Sites == nil || cfg.Invoices == nil || cfg.Credits == nil {
		return nil, errors.New("people: DB, Identity, Billing, Calendar, Sites, Invoices and Credits are required")
	}
	if len(cfg.Visits) == 0 {
		cfg.Visits = []Visits{DoorVisits{}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: db, cfg: cfg}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
