// Package ledger is the credits ledger: append-only and double-entry.
// Credit is created as lots (a grant, a campaign's reward, a gift), and
// every movement (credit, vest, void, spend, release, gift, grant,
// withdraw, expire) writes entries that move amounts of lots between
// accounts and sum to zero on every lot. A member's balance is the sum of
// their account's entries.
//
// ledger owns the credit_lots, credit_movements, credit_entries and
// credit_holders tables. It asks identity about accounts and calendar about
// sites through the small interfaces below; billing spends credit for
// bookings and campaigns credit rewards through the functions that take a
// bun.IDB, inside their own transactions.
package ledger

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// Accounts is what the ledger asks of identity: whom credit goes to.
// identity.Service implements it.
type Accounts interface {
	// HoldAccount keeps the account from being deleted until tx ends, or
	// returns errs.ErrNotFound.
	HoldAccount(ctx context.Context, tx bun.IDB, userID string) (identity.Contact, error)
	// ContactByEmail finds the account, not deleted, of an email.
	ContactByEmail(ctx context.Context, idb bun.IDB, email string) (identity.Contact, error)
	// Contact returns one account, for the name on a statement.
	Contact(ctx context.Context, idb bun.IDB, userID string) (identity.Contact, error)
}

// Sites is what the ledger asks of calendar: whether a site exists, before
// a manager grants credit usable there. calendar.DevicePlaces implements it.
type Sites interface {
	SiteExists(ctx context.Context, idb bun.IDB, siteID string) (bool, error)
}

// Config is what the ledger needs.
type Config struct {
	Now func() time.Time
	// Jobs schedules each lot's expiry at its date (required). ExpireDue,
	// run hourly, stays the safety net behind it.
	Jobs     *jobs.Queue
	Accounts Accounts
	Sites    Sites
	// Events receives the ledger's events (events.go) inside each
	// movement's transaction; nil publishes nothing.
	Events events.Publisher
}

// Service is the credits ledger.
type Service struct {
	db       *bun.DB
	now      func() time.Time
	jobs     *jobs.Queue
	accounts Accounts
	sites    Sites
	events   events.Publisher
}

// New returns the ledger. cfg.Jobs is required: without it, credit would
// expire only when the hourly ExpireDue comes round.
func New(bdb *bun.DB, cfg Config) *Service {
	if cfg.Jobs == nil {
		panic("ledger: New needs Config.Jobs")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Events == nil {
		cfg.Events = events.Discard
	}
	return &Service{db: bdb, now: func() time.Time { return cfg.Now().UTC() }, jobs: cfg.Jobs, accounts: cfg.Accounts, sites: cfg.Sites,
		events: cfg.Events}
}
