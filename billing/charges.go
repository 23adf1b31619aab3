package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
)

// OpenCharges lists the pay-per-use charges not yet paid, of a site and/or
// a member (at least one of the two), oldest first.
func (s *Service) OpenCharges(ctx context.Context, siteID, userID string) ([]UsageCharge, error) {
	cs := []UsageCharge{}
	q := s.db.NewSelect().Model(&cs).Where("status = 'open'").Order("created_at", "id")
	if siteID != "" {
		q = q.Where("site_id = ?", siteID)
	}
	if userID != "" {
		q = q.Where("user_id = ?", userID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list charges: %w", err)
	}
	return cs, nil
}

// Settlement is a manager settling a member's open pay-per-use charges at
// the desk.
type Settlement struct {
	SiteID     string
	UserID     string
	Method     string
	Reference  string
	RecordedBy string
	Buyer      *invoicing.Buyer
}

// SettleCharges takes payment on site for every open charge of a member at
// a site and issues one invoice with a line per charge, in one
// transaction: a charge is paid and invoiced exactly once.
func (s *Service) SettleCharges(ctx context.Context, in Settlement) (*Payment, error) {
	var v errs.Validator
	v.Check(slices.Contains([]string{MethodCash, MethodCheque, MethodTransfer, MethodCard}, in.Method), "method", "must be cash, cheque, transfer or card")
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
	var out *Payment
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		// Charges being paid online are left to that payment.
		cs, err := lockFreeCharges(ctx, tx, in.SiteID, in.UserID, s.heldSince())
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return errs.Rule("user_id", "nothing_to_settle", "this member owes nothing at this site (or is paying it online now)")
		}
		var total int64
		ids := make([]string, len(cs))
		for i, c := range cs {
			total += c.AmountCents
			ids[i] = c.ID
		}
		now := s.now()
		site := in.SiteID
		pay := &Payment{ID: id.New(), UserID: in.UserID, SiteID: &site, Purpose: "usage", AmountCents: total, Method: in.Method,
			Provider: SourceOnSite, Status: "succeeded", Reference: strings.TrimSpace(in.Reference), RecordedBy: &in.RecordedBy,
			Buyer: in.Buyer, CreatedAt: now, PaidAt: &now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(pay).Exec(ctx); err != nil {
			return fmt.Errorf("insert payment: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*UsageCharge)(nil)).Set("status = 'invoiced', payment_id = ?", pay.ID).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("mark charges: %w", err)
		}
		invoiceID, err := s.issueChargesInvoice(ctx, tx, pay, cs)
		if err != nil {
			return err
		}
		pay.InvoiceID = &invoiceID
		if _, err := tx.NewUpdate().Model(pay).Column("invoice_id").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("link invoice: %w", err)
		}
		out = pay
		return nil
	})
	return out, err
}
