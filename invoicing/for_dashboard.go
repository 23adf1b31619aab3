package invoicing

import (
	"context"
	"fmt"
	"time"
)

// What the dashboard (package dashboard) reads of a site's invoices. It
// decides nothing: dashboard's rules have decided who may read it.

// RevenueDocument is an invoice or credit note (whose amounts are
// negative) of a site: the invoice it corrects, when, and its totals.
type RevenueDocument struct {
	ID                string
	CorrectsInvoiceID string
	IssuedAt          time.Time
	TotalHTCents      int64
	TotalTTCCents     int64
}

// RevenueDocuments returns siteID's invoices and credit notes issued in
// [from, to), by issue time.
func (iv *Invoicer) RevenueDocuments(ctx context.Context, siteID string, from, to time.Time) ([]RevenueDocument, error) {
	var invs []Invoice
	if err := iv.db.NewSelect().Model(&invs).
		Column("id", "corrects_invoice_id", "issued_at", "total_ht_cents", "total_ttc_cents").
		Where("site_id = ? AND issued_at >= ? AND issued_at < ?", siteID, from, to).
		OrderExpr("issued_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard invoices: %w", err)
	}
	out := make([]RevenueDocument, len(invs))
	for i, in := range invs {
		out[i] = RevenueDocument{ID: in.ID, CorrectsInvoiceID: in.CorrectsInvoiceID, IssuedAt: in.IssuedAt,
			TotalHTCents: in.TotalHTCents, TotalTTCCents: in.TotalTTCCents}
	}
	return out, nil
}
