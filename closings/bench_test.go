package closings_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
)

// benchPayment is the payments row the seed writes.
type benchPayment struct {
	bun.BaseModel `bun:"table:payments"`
	ID            string    `bun:"id"`
	UserID        string    `bun:"user_id"`
	SiteID        string    `bun:"site_id"`
	Purpose       string    `bun:"purpose"`
	AmountCents   int64     `bun:"amount_cents"`
	Method        string    `bun:"method"`
	Provider      string    `bun:"provider"`
	Status        string    `bun:"status"`
	InvoiceID     string    `bun:"invoice_id"`
	CreatedAt     time.Time `bun:"created_at"`
	PaidAt        time.Time `bun:"paid_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// BenchmarkYearlyClosing100k closes a year of 100,000 documents of one
// entity (95,000 invoices, each with its payment, and 5,000 credit notes,
// spread over 2026). The documents are written straight into the tables
// (not through Issue, whose chaining would make seeding take minutes);
// the closing reads them as it reads issued ones. Each iteration seeds a
// new entity outside the timer, so every closing is a first one.
//
//	RELAIS_TEST_DATABASE_URL='postgres://…' go test ./closings/ -run '^$' -bench YearlyClosing -benchtime 3x
func BenchmarkYearlyClosing100k(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	e.clock.Set(at(2027, 1, 1, 1))
	b.ReportAllocs()
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		siren := seedEntity(b, e, i, 100_000)
		runtime.GC()
		b.StartTimer()
		done := make(chan uint64)
		go func() { done <- samplePeak() }()
		c, err := e.svc.Close(ctx, siren, "2026", "")
		stopSampling <- struct{}{}
		if p := <-done; p > peak {
			peak = p
		}
		if err != nil {
			b.Fatal(err)
		}
		if n := c.InvoicesCount + c.CreditNotesCount; n != 100_000 {
			b.Fatalf("closed %d documents", n)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

var stopSampling = make(chan struct{})

// samplePeak samples the heap in use every 10 ms until told to stop.
func samplePeak() uint64 {
	var peak uint64
	var m runtime.MemStats
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak {
			peak = m.HeapInuse
		}
		select {
		case <-stopSampling:
			return peak
		case <-t.C:
		}
	}
}

// seedEntity creates a site of a new entity and n documents over 2026.
func seedEntity(b *testing.B, e *env, i, n int) string {
	ctx := context.Background()
	siren := fmt.Sprintf("55210%04d", i) // not Luhn-checked here: written directly
	site, err := e.cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "Bench " + siren, Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "1 rue", PostalCode: "23000", City: "Guéret", Country: "FR"}, Legal: e.site.Legal})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.db.ExecContext(ctx, "UPDATE sites SET legal = ? WHERE id = ?", fmt.Sprintf(`{"siren":%q}`, siren), site.ID); err != nil {
		b.Fatal(err)
	}
	start, step := at(2026, 1, 1, 0), time.Duration(365*24*int64(time.Hour)/int64(n))
	var invs []invoicing.Invoice
	var pays []benchPayment
	flush := func() {
		if len(invs) > 0 {
			if _, err := e.db.NewInsert().Model(&invs).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if len(pays) > 0 {
			if _, err := e.db.NewInsert().Model(&pays).Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		invs, pays = invs[:0], pays[:0]
	}
	var lastInvoice string
	for k := 0; k < n; k++ {
		when := start.Add(time.Duration(k) * step).UTC()
		inv := invoicing.Invoice{ID: id.New(), EntityKey: siren, SiteID: site.ID, Number: fmt.Sprintf("2026-%06d", k+1), Year: 2026, Seq: int64(k + 1),
			ChainIndex: int64(k + 1), Kind: invoicing.KindInvoice, IssuedAt: when, ServiceFrom: day(when), ServiceTo: day(when),
			BuyerName: "Client", Currency: "EUR", TotalHTCents: 2083, TotalVATCents: 417, TotalTTCCents: 2500,
			VATBreakdown:  []invoicing.RateTotal{{RateBP: 2000, HTCents: 2083, VATCents: 417, TTCCents: 2500}},
			PaymentMethod: []string{"cash", "card", "cheque"}[k%3], PaidAt: &when, Mentions: []string{}, Canonical: "-", Hash: "-", CreatedAt: when}
		if k%20 == 19 { // one document in twenty is a credit note of the invoice before it
			inv.Kind, inv.CorrectsInvoiceID = invoicing.KindCreditNote, lastInvoice
			inv.TotalHTCents, inv.TotalVATCents, inv.TotalTTCCents = -2083, -417, -2500
			inv.VATBreakdown = []invoicing.RateTotal{{RateBP: 2000, HTCents: -2083, VATCents: -417, TTCCents: -2500}}
		} else {
			lastInvoice = inv.ID
			pays = append(pays, benchPayment{ID: id.New(), UserID: e.user, SiteID: site.ID, Purpose: "day_pass", AmountCents: 2500,
				Method: inv.PaymentMethod, Provider: "onsite", Status: "succeeded", InvoiceID: inv.ID, CreatedAt: when, PaidAt: when, UpdatedAt: when})
		}
		invs = append(invs, inv)
		if len(invs) == 1000 {
			flush()
		}
	}
	flush()
	return siren
}
