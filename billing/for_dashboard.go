package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// What the dashboard (package dashboard) reads of billing: members and
// what each invoice was for. It decides nothing: dashboard's rules have
// decided who may read the figures.

// MemberFigures are a site's members: Active, members with a membership
// of the site active at the time asked; New, members whose first
// membership of the site was created in the period.
type MemberFigures struct {
	Active int
	New    int
}

// Members counts siteID's members (memberships of the site's plans;
// network-wide plans are no site's) at now and over [from, to).
func (s *Service) Members(ctx context.Context, siteID string, from, to, now time.Time) (MemberFigures, error) {
	var f MemberFigures
	err := s.db.NewSelect().Model((*Membership)(nil)).ColumnExpr("COUNT(DISTINCT user_id)").
		Where("site_id = ? AND status = ?", siteID, StatusActive).
		Where("current_period_start IS NULL OR current_period_start <= ?", now).Scan(ctx, &f.Active)
	if err != nil {
		return f, fmt.Errorf("dashboard active members: %w", err)
	}
	first := s.db.NewSelect().Model((*Membership)(nil)).ColumnExpr("user_id, MIN(created_at) AS first_at").
		Where("site_id = ?", siteID).GroupExpr("user_id")
	err = s.db.NewSelect().TableExpr("(?) AS f", first).ColumnExpr("COUNT(*)").
		Where("f.first_at >= ? AND f.first_at < ?", from, to).Scan(ctx, &f.New)
	if err != nil {
		return f, fmt.Errorf("dashboard new members: %w", err)
	}
	return f, nil
}

// PurposeOther is the kind of an invoice no payment of billing issued (a
// campaign's contribution).
const PurposeOther = "other"

// InvoicePurposes returns what each of invoiceIDs was paid for, from the
// payment that issued it: membership, day_pass, pack or usage. Invoices no
// payment names are left out (see PurposeOther).
func (s *Service) InvoicePurposes(ctx context.Context, invoiceIDs []string) (map[string]string, error) {
	out := make(map[string]string, len(invoiceIDs))
	for len(invoiceIDs) > 0 {
		batch := invoiceIDs[:min(len(invoiceIDs), 500)]
		invoiceIDs = invoiceIDs[len(batch):]
		var ps []Payment
		if err := s.db.NewSelect().Model(&ps).Column("invoice_id", "purpose").
			Where("invoice_id IN (?)", bun.In(batch)).Scan(ctx); err != nil {
			return nil, fmt.Errorf("dashboard invoice purposes: %w", err)
		}
		for _, p := range ps {
			if p.InvoiceID != nil {
				out[*p.InvoiceID] = p.Purpose
			}
		}
	}
	return out, nil
}
