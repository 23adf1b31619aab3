package billing

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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
	// DiscountCents was taken off the list price (AmountCents is the net
	// received); DiscountReason says why.
	DiscountCents  int64      `bun:"discount_cents"`
	DiscountReason string     `bun:"discount_reason"`
	CreatedAt      time.Time  `bun:"created_at"`
	PaidAt         *time.Time `bun:"paid_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
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
	// Discount, when set, lowers the plan's price for this sale: the only
	// way a manager sells at another price than the plan's.
	Discount *Discount
}

// Discount is taken off a plan's price at the desk: an amount TTC or a
// whole percentage (1 to 100), never both, with a mandatory reason.
type Discount struct {
	AmountCents int64
	Percent     int
	Reason      string
}

// maxDiscountReason is the longest reason, in characters.
const maxDiscountReason = 500

// cents is the discount on priceCents: a percentage is rounded half up
// to the cent. The result is checked against the price by the caller.
func (d *Discount) cents(priceCents int64) int64 {
	if d == nil {
		return 0
	}
	if d.Percent != 0 {
		return (2*priceCents*int64(d.Percent) + 100) / 200
	}
	return d.AmountCents
}

// checkDiscount checks a discount's own fields; it is nil or valid after.
func checkDiscount(v *errs.Validator, d *Discount) {
	if d == nil {
		return
	}
	d.Reason = strings.TrimSpace(d.Reason)
	v.Check(d.Reason != "", "discount.reason", "is required with a discount")
	v.Check(utf8.RuneCountInString(d.Reason) <= maxDiscountReason, "discount.reason", "must be at most %d characters", maxDiscountReason)
	switch {
	case d.Percent != 0 && d.AmountCents != 0:
		v.Add("discount", "give amount_cents or percent, not both")
	case d.Percent != 0:
		v.Check(d.Percent >= 1 && d.Percent <= 100, "discount.percent", "must be a whole percentage between 1 and 100")
	default:
		v.Check(d.AmountCents > 0, "discount.amount_cents", "must be positive")
	}
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
	v.Check(in.AmountCents >= 0 && in.AmountCents <= maxPlanPriceCents, "amount_cents", "must be the plan's price less any discount, between 0 and %d", maxPlanPriceCents)
	checkDiscount(&v, in.Discount)
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
	discount := in.Discount.cents(p.PriceCents)
	if discount > p.PriceCents {
		return nil, errs.Invalid("discount.amount_cents", "must not exceed the plan's price, %d", p.PriceCents)
	}
	if in.AmountCents != p.PriceCents-discount {
		// The amount is never free: only a discount, with its reason,
		// changes it.
		return nil, errs.Invalid("amount_cents", "must be the plan's price less the discount, %d", p.PriceCents-discount)
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
		if in.Discount != nil {
			pay.DiscountCents, pay.DiscountReason = discount, in.Discount.Reason
		}
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
