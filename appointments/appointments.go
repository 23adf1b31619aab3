// Package appointments is the visio-guichet and the permanences: partners
// (public services and associations: CAF, France Travail, CPAM…) with their
// purposes and the documents each asks to bring, their agents, the windows
// in which they receive at a site on a resource, the slots those windows
// offer where the resource is free, and residents' appointments, each of
// which holds its resource through the calendar as a block. Who may do what
// is in rules.go. It sits above calendar and identity and below api.
package appointments

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
)

// Video modes of a partner.
const (
	VideoNone      = "none"       // met in person, or the link is given otherwise
	VideoAgentRoom = "agent_room" // each agent's fixed room URL
	// VideoGenerated: each appointment its own room, the partner's
	// VideoBaseURL followed by a random name of 128 bits (video.go).
	VideoGenerated = "generated"
)

// Appointment statuses and outcomes.
const (
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"

	OutcomeHeld     = "held"
	OutcomeNoShow   = "no_show"
	OutcomeFollowUp = "follow_up"
)

// Bounds.
const (
	MaxName       = 200
	MaxPurposes   = 50
	MaxDocuments  = 30
	MaxDocument   = 300
	MaxNote       = 1000
	MaxURL        = 500
	MinSlot       = 5
	MaxSlot       = 240
	MaxSlotsRange = 62 * 24 * time.Hour // GET slots: at most 62 days
	MaxWindowDays = 366                 // a date range without weekday
)

// Calendar is what appointments asks of the calendar.
type Calendar interface {
	GetSite(ctx context.Context, siteID string) (*calendar.Site, error)
	GetResource(ctx context.Context, resourceID string) (*calendar.Resource, error)
	FreeForAppointments(ctx context.Context, siteID, resourceID string, from, to time.Time) ([]calendar.FreeInterval, error)
	ReserveForAppointment(ctx context.Context, tx bun.Tx, actorID, siteID, resourceID string, start, end time.Time, note string) (*calendar.Reservation, error)
	ReleaseForAppointment(ctx context.Context, tx bun.Tx, actorID, reservationID, reason string) error
}

// Accounts names people and finds them by email (identity.Service).
type Accounts interface {
	People(ctx context.Context, idb bun.IDB, ids []string) (map[string]identity.Person, error)
	ContactByEmail(ctx context.Context, idb bun.IDB, email string) (identity.Contact, error)
}

// Config is what the service needs.
type Config struct {
	Calendar Calendar
	Accounts Accounts
	// Events hears of appointments booked, moved and cancelled, in their
	// transaction (notify's mails); nil tells nobody.
	Events events.Publisher
	Now    func() time.Time
}

// Service runs partners and appointments.
type Service struct {
	db  *bun.DB
	cfg Config
}

// New returns the service; Calendar and Accounts are required.
func New(db *bun.DB, cfg Config) (*Service, error) {
	if db == nil || cfg.Calendar == nil || cfg.Accounts == nil {
		return nil, errors.New("appointments: DB, Calendar and Accounts are required")
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
