// Package campaigns runs a site's crowdfunding campaigns: their tiers and
// deadlines, contributions paid online (through billing's Stripe payments)
// or imported from another platform's export, their invoices, receipts and
// refunds, and the credit they earn in the ledger, pending until an
// all-or-nothing campaign reaches its goal.
//
// campaigns owns the campaigns and campaign_contributions tables. It asks
// identity about accounts through Accounts, the ledger for credit, the
// invoicer for invoices, credit notes and the numbers a receipt cites
// (Invoicer), and billing for online payments.
package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// Accounts is what campaigns ask of identity. identity.Service implements
// it.
type Accounts interface {
	// Contact names a member who contributes online.
	Contact(ctx context.Context, idb bun.IDB, userID string) (identity.Contact, error)
	// ContactsByEmail finds the members of imported contributions.
	ContactsByEmail(ctx context.Context, idb bun.IDB, emails []string) (map[string]identity.Contact, error)
	// VerifiedEmail is the member's email once they have proved it theirs.
	VerifiedEmail(ctx context.Context, idb bun.IDB, userID string) (string, bool, error)
}

// Invoicer is what campaigns ask of invoicing: issue a contribution's
// invoice and the credit note of its refund inside the caller's
// transaction, and the numbers its receipt cites. *invoicing.Invoicer
// implements it.
type Invoicer interface {
	Issue(ctx context.Context, tx bun.IDB, in invoicing.InvoiceInput) (*invoicing.Invoice, error)
	IssueCreditNote(ctx context.Context, tx bun.IDB, originalID string, in invoicing.CreditNoteInput) (*invoicing.Invoice, error)
	// Numbers returns an invoice's number and those of the credit notes
	// that correct it, in order.
	Numbers(ctx context.Context, idb bun.IDB, invoiceID string) (number string, creditNotes []string, err error)
}

// Config is what campaigns need.
type Config struct {
	Now func() time.Time
	// Jobs schedules each campaign's settlement at its deadline
	// (required). Housekeeping, run hourly, stays the safety net behind it.
	Jobs   *jobs.Queue
	Ledger *ledger.Service
	// Invoicer issues the invoices of online contributions and the credit
	// notes of their refunds (required: a paid contribution is invoiced).
	Invoicer Invoicer
	Accounts Accounts
	// Events receives campaign.settled in the settlement's transaction
	// (required; events.Discard for none).
	Events events.Publisher
}

// Contributions is the part of campaigns that records what Stripe reports
// about online contributions (billing.ContributionEvents). It is built
// before billing, which delivers it those events; the Service, built after
// billing, takes payments through billing and shares it.
type Contributions struct {
	db       *bun.DB
	now      func() time.Time
	jobs     *jobs.Queue
	ledger   *ledger.Service
	invoicer Invoicer
	accounts Accounts
	events   events.Publisher
}

// NewContributions returns what billing's webhooks call. cfg.Jobs,
// cfg.Ledger, cfg.Invoicer, cfg.Accounts and cfg.Events are required.
func NewContributions(bdb *bun.DB, cfg Config) *Contributions {
	switch {
	case cfg.Jobs == nil:
		panic("campaigns: NewContributions needs Config.Jobs")
	case cfg.Ledger == nil:
		panic("campaigns: NewContributions needs Config.Ledger")
	case cfg.Invoicer == nil:
		panic("campaigns: NewContributions needs Config.Invoicer")
	case cfg.Accounts == nil:
		panic("campaigns: NewContributions needs Config.Accounts")
	case cfg.Events == nil:
		panic("campaigns: NewContributions needs Config.Events")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Contributions{events: cfg.Events, db: bdb, now: func() time.Time { return cfg.Now().UTC() }, jobs: cfg.Jobs, ledger: cfg.Ledger,
		invoicer: cfg.Invoicer, accounts: cfg.Accounts}
}

// Service runs campaigns.
type Service struct {
	*Contributions
	// payments takes contributions online and refunds them.
	payments *billing.Service
}

// New returns the campaigns service over its Contributions, taking online
// payments through billing.
func New(contributions *Contributions, payments *billing.Service) *Service {
	return &Service{Contributions: contributions, payments: payments}
}

var _ billing.ContributionEvents = (*Contributions)(nil)

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// paris is where imported dates are read when the campaign's site is not
// known.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		return time.UTC
	}
	return loc
}()
