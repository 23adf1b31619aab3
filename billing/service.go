package billing

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// DefaultGraceDays is how long a membership whose payment failed keeps
// working (past_due) before it is suspended.
const DefaultGraceDays = 7

// Config is what the billing service needs, given at construction.
type Config struct {
	Now       func() time.Time
	GraceDays int
	// Invoicer issues the invoice of every payment and the credit note of
	// every refund, in the payment's transaction, so that a payment never
	// exists without its invoice (a failed invoice rolls the payment back).
	// Required.
	Invoicer Invoicer
	// Accounts gives the names and emails of members, whose accounts are
	// identity's. Required.
	Accounts Accounts
	// Stripe connects online payment. Without a secret key online checkout
	// and refunds are unavailable (members pay on site); without a webhook
	// secret no event can be verified.
	Stripe StripeConfig
	// Ledger holds the credit that pays bookings. Required.
	Ledger *ledger.Service
	// Contributions records what Stripe reports about campaigns'
	// contributions (campaigns.Contributions). Nil: billing without
	// campaigns treats those events as about unknown payments.
	Contributions ContributionEvents
	// Events receives payment, invoice and membership events inside each
	// change's transaction (required; events.Discard for none).
	Events events.Publisher
}

// Accounts is what billing reads of members' accounts: the name and email
// an invoice or a Stripe customer carries, and the managers' list of
// members. *identity.Service implements it; each method runs in idb.
type Accounts interface {
	Contact(ctx context.Context, idb bun.IDB, userID string) (identity.Contact, error)
	Contacts(ctx context.Context, idb bun.IDB, ids []string) (map[string]identity.Contact, error)
	// BillingAddress is the buyer a member keeps on their account, or nil.
	BillingAddress(ctx context.Context, idb bun.IDB, userID string) (*identity.BillingAddress, error)
}

// Invoicer is what billing asks of invoicing: issue a document inside the
// caller's transaction. *invoicing.Invoicer implements it.
type Invoicer interface {
	Issue(ctx context.Context, tx bun.IDB, in invoicing.InvoiceInput) (*invoicing.Invoice, error)
	IssueCreditNote(ctx context.Context, tx bun.IDB, originalID string, in invoicing.CreditNoteInput) (*invoicing.Invoice, error)
}

// Service implements billing's use cases.
type Service struct {
	db *bun.DB
	// ledger holds members' credit; billing spends and gives it through
	// the ledger's functions that run in billing's transaction.
	ledger *ledger.Service
	// contributions receives the webhooks' contribution events.
	contributions ContributionEvents
	now           func() time.Time
	grace         time.Duration
	// invoicer issues the invoices and credit notes of payments, refunds
	// and contributions.
	invoicer Invoicer
	accounts Accounts
	events   events.Publisher
	// stripe is the online payment provider; its api is nil without a
	// secret key.
	stripe *stripeClient
	// plans keeps what plans give, by id (see entitlementPlan).
	plans sync.Map
	// columns lists the models' columns for the prepared reads of rightsAt.
	columns struct{ memberships, passes, packs string }
}

// New returns a billing Service. It panics without cfg.Invoicer (billing
// cannot take a payment it cannot invoice) or cfg.Accounts.
func New(bdb *bun.DB, cfg Config) *Service {
	if cfg.Invoicer == nil {
		panic("billing.New: Config.Invoicer is required")
	}
	if cfg.Accounts == nil {
		panic("billing.New: Config.Accounts is required")
	}
	if cfg.Events == nil {
		panic("billing.New: Config.Events is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GraceDays == 0 {
		cfg.GraceDays = DefaultGraceDays
	}
	if cfg.Contributions == nil {
		cfg.Contributions = noContributions{}
	}
	s := &Service{db: bdb, ledger: cfg.Ledger, contributions: cfg.Contributions, now: func() time.Time { return cfg.Now().UTC() },
		grace: time.Duration(cfg.GraceDays) * 24 * time.Hour, invoicer: cfg.Invoicer, accounts: cfg.Accounts, events: cfg.Events, stripe: newStripeClient(cfg.Stripe)}
	if bdb != nil {
		s.columns.memberships = db.Columns[Membership](bdb, "")
		s.columns.passes = db.Columns[DayPass](bdb, "")
		s.columns.packs = db.Columns[Pack](bdb, "")
	}
	return s
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// addMonths moves t by n calendar months in loc, keeping the wall-clock
// time; a period starting on 31 January ends on 28 (or 29) February.
func addMonths(t time.Time, n int, loc *time.Location) time.Time {
	l := t.In(loc)
	y, m, d := l.Date()
	first := time.Date(y, m+time.Month(n), 1, l.Hour(), l.Minute(), l.Second(), 0, loc)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, l.Hour(), l.Minute(), l.Second(), 0, loc)
}

var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}()

func siteLocation(ctx context.Context, idb bun.IDB, siteID *string) *time.Location {
	if siteID == nil {
		return paris
	}
	site, err := calendar.LoadSite(ctx, idb, *siteID)
	if err != nil {
		return paris
	}
	return site.Location()
}

// Now is billing's clock, for documents the api renders (a statement's
// date) to agree with what billing records.
func (s *Service) Now() time.Time { return s.now() }
