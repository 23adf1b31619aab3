package closings

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
)

// computeTotals fills c's counts and totals from the entity's documents
// issued in [PeriodStart, PeriodEnd) and the payments of its sites paid in
// it. Amounts are the documents' own (credit notes negative), so the
// figures are those printed on them.
func computeTotals(ctx context.Context, idb bun.IDB, c *Closing) error {
	var docs []struct {
		Kind          string `bun:"kind"`
		PaymentMethod string `bun:"payment_method"`
		TotalHT       int64  `bun:"total_ht_cents"`
		TotalVAT      int64  `bun:"total_vat_cents"`
		TotalTTC      int64  `bun:"total_ttc_cents"`
		Breakdown     string `bun:"vat_breakdown"`
	}
	err := idb.NewSelect().Table("invoices").
		Column("kind", "payment_method", "total_ht_cents", "total_vat_cents", "total_ttc_cents").
		ColumnExpr("CAST(vat_breakdown AS TEXT) AS vat_breakdown").
		Where("entity_key = ? AND issued_at >= ? AND issued_at < ?", c.EntityKey, c.PeriodStart, c.PeriodEnd).
		Scan(ctx, &docs)
	if err != nil {
		return fmt.Errorf("read documents: %w", err)
	}
	methods, rates := map[string]int64{}, map[int]*RateTotal{}
	for _, d := range docs {
		if d.Kind == "credit_note" {
			c.CreditNotesCount++
		} else {
			c.InvoicesCount++
		}
		c.TotalHTCents += d.TotalHT
		c.TotalVATCents += d.TotalVAT
		c.TotalTTCCents += d.TotalTTC
		method := d.PaymentMethod
		if method == "" {
			method = "unpaid"
		}
		methods[method] += d.TotalTTC
		var br []RateTotal
		if err := json.Unmarshal([]byte(d.Breakdown), &br); err != nil {
			return fmt.Errorf("read a document's VAT breakdown: %w", err)
		}
		for _, r := range br {
			t := rates[r.RateBP]
			if t == nil {
				t = &RateTotal{RateBP: r.RateBP}
				rates[r.RateBP] = t
			}
			t.HTCents += r.HTCents
			t.VATCents += r.VATCents
			t.TTCCents += r.TTCCents
		}
	}
	c.ByMethod, c.ByRate = sortedMethods(methods), sortedRates(rates)
	n, err := countPayments(ctx, idb, c.EntityKey, c.PeriodStart, c.PeriodEnd)
	c.PaymentsCount = n
	return err
}

func sortedMethods(m map[string]int64) []MethodTotal {
	out := []MethodTotal{}
	for k, v := range m {
		out = append(out, MethodTotal{Method: k, TTCCents: v})
	}
	slices.SortFunc(out, func(a, b MethodTotal) int { return cmpString(a.Method, b.Method) })
	return out
}

func sortedRates(m map[int]*RateTotal) []RateTotal {
	out := []RateTotal{}
	for _, v := range m {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b RateTotal) int { return a.RateBP - b.RateBP })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// countPayments counts the payments settled at the entity's sites in
// [from, to) (succeeded, or since refunded: the refund is a credit note).
func countPayments(ctx context.Context, idb bun.IDB, siren string, from, to time.Time) (int64, error) {
	sites, err := calendar.EntitySites(ctx, idb, siren)
	if err != nil || len(sites) == 0 {
		return 0, err
	}
	n, err := idb.NewSelect().Table("payments").
		Where("site_id IN (?) AND status IN ('succeeded', 'refunded') AND paid_at >= ? AND paid_at < ?", bun.In(sites), from, to).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count payments: %w", err)
	}
	return int64(n), nil
}

// grandTotalBefore sums every document's TTC issued before t.
func grandTotalBefore(ctx context.Context, idb bun.IDB, siren string, t time.Time) (int64, error) {
	var sum []int64
	if err := idb.NewSelect().Table("invoices").ColumnExpr("COALESCE(SUM(total_ttc_cents), 0)").
		Where("entity_key = ? AND issued_at < ?", siren, t).Scan(ctx, &sum); err != nil {
		return 0, fmt.Errorf("grand total: %w", err)
	}
	if len(sum) == 0 {
		return 0, nil
	}
	return sum[0], nil
}
