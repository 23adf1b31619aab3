package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Payment methods, the invoice's own (it prints and exports them).
const (
	MethodCard     = invoicing.MethodCard
	MethodSEPA     = invoicing.MethodSEPA
	MethodCash     = invoicing.MethodCash
	MethodCheque   = invoicing.MethodCheque
	MethodTransfer = invoicing.MethodTransfer
)

// Payment is money received (or awaited) for a plan.
type Payment struct {
	bun.BaseModel `bun:"table:payments,alias:pay"`

	ID                      string           `bun:"id,pk"`
	UserID                  string           `bun:"user_id"`
	SiteID                  *string          `bun:"site_id"`
	Purpose                 string           `bun:"purpose"`
	TargetID                *string          `bun:"target_id"`
	PlanID                  *string          `bun:"plan_id"`
	AmountCents             int64            `bun:"amount_cents"`
	Method                  string           `bun:"method"`
	Provider                string           `bun:"provider"`
	Status                  string           `bun:"status"`
	Reference               string           `bun:"reference"`
	RecordedBy              *string          `bun:"recorded_by"`
	StripeCheckoutSessionID *string          `bun:"stripe_checkout_session_id"`
	StripePaymentIntentID   *string          `bun:"stripe_payment_intent_id"`
	InvoiceID               *string          `bun:"invoice_id"`
	Buyer                   *invoicing.Buyer `bun:"buyer,type:json"`
	CreatedAt               time.Time        `bun:"created_at"`
	PaidAt                  *time.Time       `bun:"paid_at"`
	UpdatedAt               time.Time        `bun:"updated_at"`
}

// OnSitePayment is a payment a manager takes at the desk.
type OnSitePayment struct {
	SiteID      string
	UserID      string
	PlanID      string
	Date        string // day passes: the local day, YYYY-MM-DD
	Method      string // cash, cheque, transfer or card (a terminal)
	AmountCents int64
	Reference   string // cheque number, transfer reference
	RecordedBy  string
	// Buyer is who the invoice is made out to: the billing address, and a
	// business's SIREN and VAT number. The name defaults to the account's.
	Buyer *invoicing.Buyer
}

// Purchase is what a payment bought.
type Purchase struct {
	Payment    *Payment
	Membership *Membership
	DayPass    *DayPass
	Pack       *Pack
	// PlanChange, with Membership, is the prorated difference of an upgrade.
	PlanChange *PlanChange
}

// PlanChange is an upgrade paid for the rest of a period: from Start to
// End, To's price instead of From's (From nil when Stripe's invoice does
// not name it).
type PlanChange struct {
	From, To   *Plan
	Start, End time.Time
}

// RecordOnSitePayment records a payment taken on site and grants what it
// pays for — the same membership, pass or pack, and the same invoice, as an
// online payment — all in one transaction. Paying again for the plan of an
// on-site membership renews it for the next month.
func (s *Service) RecordOnSitePayment(ctx context.Context, in OnSitePayment) (*Purchase, error) {
	var v errs.Validator
	switch in.Method {
	case MethodCash, MethodCheque, MethodTransfer, MethodCard:
	default:
		v.Add("method", "must be cash, cheque, transfer or card")
	}
	v.Check(in.AmountCents > 0 && in.AmountCents <= maxPlanPriceCents, "amount_cents", "must be the plan's price, between 1 and %d", maxPlanPriceCents)
	v.Check(len(in.Reference) <= 200, "reference", "must be at most 200 bytes")
	v.Check(in.UserID != "", "user_id", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var err error
	if in.Buyer, err = s.defaultBuyer(ctx, in.UserID, in.Buyer); err != nil {
		return nil, err
	}
	if err := checkBuyer(in.Buyer); err != nil {
		return nil, err
	}
	p, err := s.GetPlan(ctx, in.PlanID)
	if err != nil {
		return nil, errs.Invalid("plan_id", "no such plan")
	}
	if !p.Covers(in.SiteID) {
		return nil, errs.Invalid("plan_id", "this plan is not sold on this site")
	}
	if !p.Active {
		return nil, errs.Invalid("plan_id", "this plan is no longer on sale")
	}
	if in.AmountCents != p.PriceCents {
		return nil, errs.Invalid("amount_cents", "must be the plan's price, %d", p.PriceCents)
	}
	out := &Purchase{}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		var target string
		switch p.Kind {
		case PlanMembership:
			m, err := s.onSiteMembership(ctx, tx, in.UserID, p)
			if err != nil {
				return err
			}
			out.Membership, target = m, m.ID
		case PlanDayPass:
			dp, err := s.createDayPass(ctx, tx, in.UserID, p, in.Date)
			if err != nil {
				return err
			}
			dp.Status, dp.UpdatedAt = StatusActive, now
			if _, err := tx.NewUpdate().Model(dp).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("activate day pass: %w", err)
			}
			out.DayPass, target = dp, dp.ID
		case PlanPack:
			pk, err := s.createPack(ctx, tx, in.UserID, p)
			if err != nil {
				return err
			}
			pk.Status, pk.UpdatedAt = StatusActive, now
			if _, err := tx.NewUpdate().Model(pk).Column("status", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("activate pack: %w", err)
			}
			out.Pack, target = pk, pk.ID
		}
		site := in.SiteID
		pay := &Payment{ID: id.New(), UserID: in.UserID, SiteID: &site, Purpose: p.Kind, TargetID: &target, PlanID: &p.ID,
			AmountCents: in.AmountCents, Method: in.Method, Provider: SourceOnSite, Status: "succeeded",
			Reference: strings.TrimSpace(in.Reference), RecordedBy: &in.RecordedBy, Buyer: in.Buyer, CreatedAt: now, PaidAt: &now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(pay).Exec(ctx); err != nil {
			return fmt.Errorf("insert payment: %w", err)
		}
		out.Payment = pay
		invoiceID, err := s.issueInvoice(ctx, tx, pay, p, out)
		if err != nil {
			return err
		}
		pay.InvoiceID = &invoiceID
		if _, err := tx.NewUpdate().Model(pay).Column("invoice_id").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("link invoice: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// onSiteMembership activates a new membership, or renews the member's
// on-site membership of the same plan for the following month.
func (s *Service) onSiteMembership(ctx context.Context, tx bun.IDB, userID string, p *Plan) (*Membership, error) {
	var existing Membership
	q := tx.NewSelect().Model(&existing).Where("user_id = ? AND plan_id = ? AND source = ? AND status IN (?)",
		userID, p.ID, SourceOnSite, bun.In([]string{StatusActive, StatusPastDue, StatusSuspended})).Order("created_at DESC").Limit(1)
	err := db.ForUpdate(q).Scan(ctx)
	switch {
	case err == nil:
		if existing.Status == StatusSuspended || existing.CurrentPeriodEnd == nil || existing.CurrentPeriodEnd.Before(s.now()) {
			// A lapsed membership restarts today rather than paying for the gap.
			return &existing, s.activate(ctx, tx, &existing, s.now())
		}
		return &existing, s.renew(ctx, tx, &existing)
	case !isNoRows(err):
		return nil, fmt.Errorf("find membership: %w", err)
	}
	m, err := s.createMembership(ctx, tx, userID, p, SourceOnSite)
	if err != nil {
		return nil, err
	}
	return m, s.activate(ctx, tx, m, s.now())
}

// ListPayments returns a user's payments, newest first.
func (s *Service) ListPayments(ctx context.Context, userID string) ([]Payment, error) {
	ps := []Payment{}
	if err := s.db.NewSelect().Model(&ps).Where("user_id = ?", userID).Order("created_at DESC", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return ps, nil
}
