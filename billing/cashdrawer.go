package billing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// DrawerFilter selects the payments of a site's cash-drawer view: those
// received (paid_at) in [From, To), of one method if Method is set, a page
// of Limit after the payment After (newest first).
type DrawerFilter struct {
	SiteID   string
	From, To time.Time
	Method   string
	After    string
	Limit    int
}

// DrawerPayment is one payment as the desk reads it: who paid, for what,
// the invoice it is on and how much of it was given back.
type DrawerPayment struct {
	stripePayment  `bun:",extend"` // with its refunded_cents
	UserName       string          `bun:"user_name"`
	UserEmail      string          `bun:"user_email"`
	PlanName       *string         `bun:"plan_name"`
	InvoiceNumber  *string         `bun:"invoice_number"`
	RecordedByName *string         `bun:"recorded_by_name"`
}

// MethodTotal sums the payments of one method over the whole range.
type MethodTotal struct {
	Method        string `bun:"method"`
	Count         int64  `bun:"n"`
	AmountCents   int64  `bun:"amount_cents"`
	RefundedCents int64  `bun:"refunded_cents"`
}

// Drawer is a page of payments and the totals of the whole range.
type Drawer struct {
	Payments []DrawerPayment
	Totals   []MethodTotal
	Next     string // the last payment's id when there may be more
}

var drawerMethods = []string{MethodCard, MethodSEPA, MethodCash, MethodCheque, MethodTransfer}

// SitePaymentsFor is the cash-drawer view of a site, for its managers
// (and API keys of the site with invoices:read).
func (s *Service) SitePaymentsFor(ctx context.Context, p *identity.Principal, f DrawerFilter) (*Drawer, error) {
	if !mayReadCharges(p, f.SiteID) {
		return nil, refuseSite(p, f.SiteID)
	}
	if _, err := calendar.LoadSite(ctx, s.db, f.SiteID); err != nil {
		return nil, err
	}
	return s.SitePayments(ctx, f)
}

// SitePayments lists the money received at a site: every payment with a
// paid_at in the range (whatever was refunded of it later), newest first,
// and the totals per method of the whole range, not just the page.
func (s *Service) SitePayments(ctx context.Context, f DrawerFilter) (*Drawer, error) {
	var v errs.Validator
	v.Check(f.Method == "" || slices.Contains(drawerMethods, f.Method), "method", "must be one of card, sepa, cash, cheque, transfer")
	v.Check(f.From.IsZero() || f.To.IsZero() || f.To.After(f.From), "to", "must be after from")
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := &Drawer{Payments: []DrawerPayment{}, Totals: []MethodTotal{}}
	q := s.db.NewSelect().Model(&out.Payments).
		ColumnExpr("pay.*").
		ColumnExpr("u.name AS user_name, u.email AS user_email, pl.name AS plan_name, inv.number AS invoice_number, rb.name AS recorded_by_name").
		Join("LEFT JOIN users AS u ON u.id = pay.user_id").
		Join("LEFT JOIN users AS rb ON rb.id = pay.recorded_by").
		Join("LEFT JOIN plans AS pl ON pl.id = pay.plan_id").
		Join("LEFT JOIN invoices AS inv ON inv.id = pay.invoice_id")
	q = drawerWhere(q, f)
	if f.After != "" {
		var at time.Time
		if err := s.db.NewSelect().Table("payments").Column("paid_at").Where("id = ?", f.After).Scan(ctx, &at); err != nil {
			return nil, errs.Invalid("cursor", "is not one this API returned")
		}
		q = q.Where("(pay.paid_at < ? OR (pay.paid_at = ? AND pay.id < ?))", at, at, f.After)
	}
	if err := q.OrderExpr("pay.paid_at DESC, pay.id DESC").Limit(f.Limit).Scan(ctx); err != nil {
		return nil, fmt.Errorf("list site payments: %w", err)
	}
	if n := len(out.Payments); n > 0 && n == f.Limit {
		out.Next = out.Payments[n-1].ID
	}
	t := s.db.NewSelect().TableExpr("payments AS pay").
		ColumnExpr("pay.method, COUNT(*) AS n, SUM(pay.amount_cents) AS amount_cents, SUM(pay.refunded_cents) AS refunded_cents").
		GroupExpr("pay.method").OrderExpr("pay.method")
	if err := drawerWhere(t, f).Scan(ctx, &out.Totals); err != nil {
		return nil, fmt.Errorf("total site payments: %w", err)
	}
	return out, nil
}

// drawerWhere is the range of the list and of its totals alike.
func drawerWhere(q *bun.SelectQuery, f DrawerFilter) *bun.SelectQuery {
	q = q.Where("pay.site_id = ? AND pay.paid_at IS NOT NULL", f.SiteID)
	if !f.From.IsZero() {
		q = q.Where("pay.paid_at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("pay.paid_at < ?", f.To)
	}
	if f.Method != "" {
		q = q.Where("pay.method = ?", f.Method)
	}
	return q
}
