package dashboard

import (
	"context"
	"sort"
	"time"

	"github.com/relais-tierslieux/relais/billing"
)

// revenue sums the site's invoices and credit notes issued in the period
// by local month and by what they were for: the purpose of the payment
// that issued the invoice (membership, day_pass, pack, usage; a credit
// note counts under the invoice it corrects), "other" for the rest (a
// campaign's contributions). Credit notes are negative, so the sums are
// net of refunds.
func (s *Service) revenue(ctx context.Context, d *Dashboard, start, end, _ time.Time, loc *time.Location) error {
	docs, err := s.cfg.Invoices.RevenueDocuments(ctx, d.SiteID, start, end)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(docs))
	for _, doc := range docs {
		ids = append(ids, doc.ID)
		if doc.CorrectsInvoiceID != "" {
			ids = append(ids, doc.CorrectsInvoiceID)
		}
	}
	purposes, err := s.cfg.Billing.InvoicePurposes(ctx, ids)
	if err != nil {
		return err
	}
	type key struct{ month, kind string }
	sums := map[key]*Revenue{}
	for _, doc := range docs {
		of := doc.ID
		if doc.CorrectsInvoiceID != "" {
			of = doc.CorrectsInvoiceID
		}
		kind, ok := purposes[of]
		if !ok {
			kind = billing.PurposeOther
		}
		k := key{doc.IssuedAt.In(loc).Format("2006-01"), kind}
		if sums[k] == nil {
			sums[k] = &Revenue{Month: k.month, Kind: kind}
		}
		sums[k].HTCents += doc.TotalHTCents
		sums[k].TTCCents += doc.TotalTTCCents
	}
	d.Revenue = make([]Revenue, 0, len(sums))
	for _, r := range sums {
		d.Revenue = append(d.Revenue, *r)
	}
	sort.Slice(d.Revenue, func(i, j int) bool {
		a, b := d.Revenue[i], d.Revenue[j]
		return a.Month < b.Month || a.Month == b.Month && a.Kind < b.Kind
	})
	return nil
}
