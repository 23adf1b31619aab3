package invoicing_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/pdftest"
	"github.com/relais-tierslieux/relais/invoicing"
)

var parisZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return loc
}()

// testClock is a settable clock shared by goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// invEnv has two legal entities: a VAT-registered SCIC that runs two sites
// (one series for both), and a VAT-exempt association.
type invEnv struct {
	db     *bun.DB
	iv     *invoicing.Invoicer
	clock  *testClock
	site   *calendar.Site // SCIC La Fabrique, SIREN 732829320
	site2  *calendar.Site // same SCIC, another site
	exempt *calendar.Site // Asso Tiers-Lieu, SIREN 443061841, VAT-exempt
	user   string
}

const (
	entityA = "732829320"
	entityB = "443061841"
)

func newInvEnv(t testing.TB) *invEnv {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	clock := &testClock{t: time.Date(2026, 3, 9, 10, 0, 0, 0, parisZone)}
	queue := jobstest.Queue(t, d)
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Now: clock.Now, Jobs: queue, Accounts: identitytest.Accounts(t, d, queue)})
	addr := calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"}
	mk := func(name string, legal calendar.Legal) *calendar.Site {
		s, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: name, Timezone: "Europe/Paris", Address: addr, Legal: legal})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	scic := calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}
	e := &invEnv{
		db: d, iv: invoicing.NewInvoicer(d, clock.Now), clock: clock,
		site:   mk("La Fabrique du Bourg", scic),
		site2:  mk("L'Atelier de la Gare", scic),
		exempt: mk("Asso Tiers-Lieu", calendar.Legal{CompanyName: "Asso Tiers-Lieu", LegalForm: "Association loi 1901", SIRET: "44306184100047", VATExempt: true}),
		user:   id.New(),
	}
	now := time.Now().UTC()
	if _, err := d.ExecContext(ctx, `INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
		VALUES (?, 'jeanne@example.fr', 'Jeanne Dupré', 'x', 'member', ?, ?)`, e.user, now, now); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *invEnv) buyer() invoicing.Buyer {
	return invoicing.Buyer{UserID: e.user, Name: "Jeanne Dupré", Email: "jeanne@example.fr",
		Address: calendar.Address{Line1: "12 rue des Écoles", PostalCode: "23000", City: "Guéret", Country: "FR"}}
}

func (e *invEnv) businessBuyer() invoicing.Buyer {
	b := e.buyer()
	b.UserID = ""
	b.Name = "Menuiserie Lefèvre SARL"
	b.IsBusiness = true
	b.SIREN = "552 100 554"
	b.VATNumber = "FR96552100554"
	return b
}

// dayPass is a 25 € TTC retail day pass paid by card.
func (e *invEnv) dayPass(site *calendar.Site, qty int64) invoicing.InvoiceInput {
	rate := 2000
	if site.Legal.VATExempt {
		rate = 0
	}
	return invoicing.InvoiceInput{
		SiteID: site.ID, Buyer: e.buyer(), ServiceFrom: "2026-03-09",
		Lines:   []invoicing.InvoiceLineInput{{Description: "Pass journée coworking", QuantityMilli: qty * 1000, UnitPriceCents: 2500, PriceIncludesVAT: true, VATRateBP: rate}},
		Payment: &invoicing.InvoicePayment{PaidAt: e.clock.Now(), Method: invoicing.MethodCard, Reference: "pi_123"},
	}
}

func (e *invEnv) issue(t testing.TB, in invoicing.InvoiceInput) *invoicing.Invoice {
	t.Helper()
	inv, err := e.iv.Issue(context.Background(), e.db, in)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func chainSHA(prev, content string) string {
	h := sha256.Sum256([]byte(prev + content))
	return hex.EncodeToString(h[:])
}

func TestIssueDayPass(t *testing.T) {
	e := newInvEnv(t)
	inv := e.issue(t, e.dayPass(e.site, 1))

	if inv.Number != "2026-000001" || inv.Kind != invoicing.KindInvoice || inv.EntityKey != entityA || inv.Year != 2026 || inv.Seq != 1 {
		t.Fatalf("identity = %s %s %s %d/%d", inv.Number, inv.Kind, inv.EntityKey, inv.Year, inv.Seq)
	}
	// PROTOCOLS.md: 25 € TTC at 20 % = 20.83 € HT + 4.17 € VAT.
	if inv.TotalHTCents != 2083 || inv.TotalVATCents != 417 || inv.TotalTTCCents != 2500 {
		t.Fatalf("totals = %d + %d = %d", inv.TotalHTCents, inv.TotalVATCents, inv.TotalTTCCents)
	}
	l := inv.Lines[0]
	if l.UnitPriceHTCents != 2083 || l.UnitPriceTTCCents != 2500 || l.PriceBasis != "ttc" || l.Position != 1 {
		t.Fatalf("line = %+v", l)
	}
	if want := []invoicing.RateTotal{{RateBP: 2000, HTCents: 2083, VATCents: 417, TTCCents: 2500}}; !slices.Equal(inv.VATBreakdown, want) {
		t.Fatalf("breakdown = %+v", inv.VATBreakdown)
	}
	if inv.Seller.Name != "SCIC La Fabrique" || inv.Seller.SIRET != "73282932000074" || inv.Seller.VATNumber != "FR44732829320" ||
		inv.Seller.LegalForm != "SCIC SAS" || inv.Seller.Address.City != "Guéret" || inv.Seller.TradeName != "La Fabrique du Bourg" {
		t.Fatalf("seller = %+v", inv.Seller)
	}
	if inv.ServiceTo != "2026-03-09" {
		t.Fatalf("a single service day should fill service_to, got %q", inv.ServiceTo)
	}
	if !slices.Contains(inv.Mentions, "Payée le 09/03/2026 par carte bancaire (réf. pi_123)") {
		t.Fatalf("mentions = %q", inv.Mentions)
	}
	if slices.Contains(inv.Mentions, invoicing.MentionLatePenalty) || slices.Contains(inv.Mentions, invoicing.MentionVATExempt) {
		t.Fatalf("consumer invoice of a VAT-registered seller carries %q", inv.Mentions)
	}
	if inv.PrevHash != "" || inv.Hash != chainSHA("", inv.Canonical) || !strings.Contains(inv.Canonical, `buyer.name: "Jeanne Dupré"`) {
		t.Fatalf("first document: prev %q, hash %q, canonical:\n%s", inv.PrevHash, inv.Hash, inv.Canonical)
	}

	got, err := e.iv.Get(context.Background(), inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Canonical != inv.Canonical || got.Hash != inv.Hash || len(got.Lines) != 1 || !got.IssuedAt.Equal(inv.IssuedAt) {
		t.Fatalf("stored document differs from the issued one:\n%s\n---\n%s", got.Canonical, inv.Canonical)
	}
	if _, err := e.iv.Get(context.Background(), id.New()); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Get(unknown) = %v, want not found", err)
	}

	second := e.issue(t, e.dayPass(e.site, 2))
	if second.Number != "2026-000002" || second.PrevHash != inv.Hash || second.ChainIndex != 2 {
		t.Fatalf("second: %s prev %q chain %d", second.Number, second.PrevHash, second.ChainIndex)
	}

	// The host clock steps back an hour: the series stays chronological.
	e.clock.Set(e.clock.Now().Add(-time.Hour))
	third := e.issue(t, e.dayPass(e.site, 1))
	if !third.IssuedAt.Equal(second.IssuedAt) {
		t.Fatalf("third issued at %v, before the second (%v)", third.IssuedAt, second.IssuedAt)
	}
	if rep, err := e.iv.Verify(context.Background()); err != nil || !rep.OK {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestRounding(t *testing.T) {
	e := newInvEnv(t)
	ttc := func(unit int64, rate int) invoicing.InvoiceLineInput {
		return invoicing.InvoiceLineInput{Description: "x", QuantityMilli: 1000, UnitPriceCents: unit, PriceIncludesVAT: true, VATRateBP: rate}
	}
	ht := func(qtyMilli, unit int64, rate int) invoicing.InvoiceLineInput {
		return invoicing.InvoiceLineInput{Description: "x", QuantityMilli: qtyMilli, UnitPriceCents: unit, VATRateBP: rate}
	}
	tests := []struct {
		name         string
		line         invoicing.InvoiceLineInput
		ht, vat, ttc int64
		unitHT       int64
	}{
		{"day pass 25 € TTC at 20 %", ttc(2500, 2000), 2083, 417, 2500, 2083},
		{"3 × 0.10 € HT at 5.5 %: VAT 1.65 c rounds up", ht(3000, 10, 550), 30, 2, 32, 10},
		{"0.10 € HT at 5.5 %: VAT 0.55 c rounds up", ht(1000, 10, 550), 10, 1, 11, 10},
		{"0.09 € HT at 5.5 %: VAT 0.495 c rounds down", ht(1000, 9, 550), 9, 0, 9, 9},
		{"1.5 h × 12 € HT at 20 %", ht(1500, 1200, 2000), 1800, 360, 2160, 1200},
		{"1.5 × 1 c: half a cent rounds up", ht(1500, 1, 2000), 2, 0, 2, 1},
		{"0.333 × 1 € HT", ht(333, 100, 1000), 33, 3, 36, 100},
		{"10 € TTC at 5.5 %", ttc(1000, 550), 948, 52, 1000, 948},
		{"12 € TTC at 10 %: HT 10.909 → 10.91", ttc(1200, 1000), 1091, 109, 1200, 1091},
		{"TTC at 0 %", ttc(1999, 0), 1999, 0, 1999, 1999},
		{"free line", ht(1000, 0, 2000), 0, 0, 0, 0},
		{"largest price, largest quantity", ht(invoicing.MaxQuantityMilli, invoicing.MaxUnitPriceCents, 2000), 10_000_000_000_000, 2_000_000_000_000, 12_000_000_000_000, invoicing.MaxUnitPriceCents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := e.dayPass(e.site, 1)
			in.Lines = []invoicing.InvoiceLineInput{tt.line}
			inv := e.issue(t, in)
			l := inv.Lines[0]
			if l.TotalHTCents != tt.ht || l.TotalVATCents != tt.vat || l.TotalTTCCents != tt.ttc || l.UnitPriceHTCents != tt.unitHT {
				t.Fatalf("line = HT %d + VAT %d = TTC %d (unit HT %d), want %d + %d = %d (%d)",
					l.TotalHTCents, l.TotalVATCents, l.TotalTTCCents, l.UnitPriceHTCents, tt.ht, tt.vat, tt.ttc, tt.unitHT)
			}
			if inv.TotalHTCents != tt.ht || inv.TotalVATCents != tt.vat || inv.TotalTTCCents != tt.ttc {
				t.Fatalf("totals differ from the only line: %d %d %d", inv.TotalHTCents, inv.TotalVATCents, inv.TotalTTCCents)
			}
		})
	}

	t.Run("per line, then summed per rate", func(t *testing.T) {
		// Two lines of 0.03 € HT at 20 %: each line's VAT is 0.6 c → 1 c, so
		// the rate's VAT is 2 c (rounding the rate's total would give 1 c).
		in := e.dayPass(e.site, 1)
		in.Lines = []invoicing.InvoiceLineInput{ht(1000, 3, 2000), ht(1000, 3, 2000), ttc(2500, 2000), ht(2000, 500, 550)}
		inv := e.issue(t, in)
		want := []invoicing.RateTotal{
			{RateBP: 550, HTCents: 1000, VATCents: 55, TTCCents: 1055},
			{RateBP: 2000, HTCents: 6 + 2083, VATCents: 2 + 417, TTCCents: 8 + 2500},
		}
		if !slices.Equal(inv.VATBreakdown, want) {
			t.Fatalf("breakdown = %+v, want %+v", inv.VATBreakdown, want)
		}
		if inv.TotalHTCents != 1000+2089 || inv.TotalVATCents != 55+419 || inv.TotalTTCCents != 1055+2508 {
			t.Fatalf("totals = %d %d %d", inv.TotalHTCents, inv.TotalVATCents, inv.TotalTTCCents)
		}
	})
}

func TestIssueValidation(t *testing.T) {
	e := newInvEnv(t)
	tests := []struct {
		name   string
		change func(*invoicing.InvoiceInput)
		field  string
	}{
		{"no lines", func(in *invoicing.InvoiceInput) { in.Lines = nil }, "lines"},
		{"zero quantity", func(in *invoicing.InvoiceInput) { in.Lines[0].QuantityMilli = 0 }, "lines[0].quantity_milli"},
		{"negative price", func(in *invoicing.InvoiceInput) { in.Lines[0].UnitPriceCents = -1 }, "lines[0].unit_price_cents"},
		{"price over 100,000 €", func(in *invoicing.InvoiceInput) { in.Lines[0].UnitPriceCents = invoicing.MaxUnitPriceCents + 1 }, "lines[0].unit_price_cents"},
		{"unknown VAT rate", func(in *invoicing.InvoiceInput) { in.Lines[0].VATRateBP = 700 }, "lines[0].vat_rate_bp"},
		{"VAT charged by an exempt seller", func(in *invoicing.InvoiceInput) { in.SiteID = e.exempt.ID }, "lines[0].vat_rate_bp"},
		{"no description", func(in *invoicing.InvoiceInput) { in.Lines[0].Description = "  " }, "lines[0].description"},
		{"no buyer name", func(in *invoicing.InvoiceInput) { in.Buyer.Name = " " }, "buyer.name"},
		{"no buyer address", func(in *invoicing.InvoiceInput) { in.Buyer.Address = calendar.Address{} }, "buyer.address.line1"},
		{"business without SIREN", func(in *invoicing.InvoiceInput) { in.Buyer = e.businessBuyer(); in.Buyer.SIREN = "" }, "buyer.siren"},
		{"business with a bad SIREN", func(in *invoicing.InvoiceInput) { in.Buyer = e.businessBuyer(); in.Buyer.SIREN = "552100555" }, "buyer.siren"},
		{"business VAT of another SIREN", func(in *invoicing.InvoiceInput) { in.Buyer = e.businessBuyer(); in.Buyer.VATNumber = "FR44732829320" }, "buyer.vat_number"},
		{"consumer with a SIREN", func(in *invoicing.InvoiceInput) { in.Buyer.SIREN = "552100554" }, "buyer.siren"},
		{"unknown buyer account", func(in *invoicing.InvoiceInput) { in.Buyer.UserID = id.New() }, "buyer.user_id"},
		{"unknown site", func(in *invoicing.InvoiceInput) { in.SiteID = id.New() }, "site_id"},
		{"no service date", func(in *invoicing.InvoiceInput) { in.ServiceFrom = "" }, "service_from"},
		{"service ends before it starts", func(in *invoicing.InvoiceInput) { in.ServiceTo = "2026-03-01" }, "service_to"},
		{"unknown payment method", func(in *invoicing.InvoiceInput) { in.Payment.Method = "bitcoin" }, "payment.method"},
		{"neither paid nor due", func(in *invoicing.InvoiceInput) { in.Payment = nil }, "due_date"},
		{"bad due date", func(in *invoicing.InvoiceInput) { in.DueDate = "31/03/2026" }, "due_date"},
		{"NUL in a description", func(in *invoicing.InvoiceInput) { in.Lines[0].Description = "a\x00b" }, "lines[0].description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := e.dayPass(e.site, 1)
			in.Lines[0].PriceIncludesVAT = false
			tt.change(&in)
			_, err := e.iv.Issue(context.Background(), e.db, in)
			var ve *errs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			for _, f := range ve.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Fatalf("fields = %+v, want one on %q", ve.Fields, tt.field)
		})
	}
	// Refusals consumed no number.
	inv := e.issue(t, e.dayPass(e.site, 1))
	if inv.Number != "2026-000001" {
		t.Fatalf("first valid invoice after refusals is %s", inv.Number)
	}
}

// TestNumberingUnderConcurrency issues from 50 goroutines for one entity,
// each in its own transaction, and rolls one in five back after Issue: the
// committed numbers must be exactly 1..40.
func TestNumberingUnderConcurrency(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	const workers = 50
	errRollback := errors.New("rolled back on purpose")
	var (
		mu        sync.Mutex
		committed []int64
		wg        sync.WaitGroup
	)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inv *invoicing.Invoice
			err := db.Tx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
				var err error
				if inv, err = e.iv.Issue(ctx, tx, e.dayPass(e.site, 1)); err != nil {
					return err
				}
				if i%5 == 0 {
					return errRollback
				}
				return nil
			})
			switch {
			case errors.Is(err, errRollback):
			case err != nil:
				t.Errorf("worker %d: %v", i, err)
			default:
				mu.Lock()
				committed = append(committed, inv.Seq)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(committed)
	want := make([]int64, workers-workers/5)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(committed, want) {
		t.Fatalf("committed numbers = %v, want 1..%d", committed, len(want))
	}
	var stored []int64
	if err := e.db.NewRaw("SELECT seq FROM invoices WHERE entity_key = ? ORDER BY chain_index", entityA).Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stored, want) {
		t.Fatalf("stored numbers in chain order = %v", stored)
	}
	rep, err := e.iv.Verify(ctx)
	if err != nil || !rep.OK || rep.Documents != len(want) {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestSeriesPerEntityAndYear(t *testing.T) {
	e := newInvEnv(t)
	// 23:30 on 31 December in Paris is 22:30 UTC: still 2026.
	e.clock.Set(time.Date(2026, 12, 31, 23, 30, 0, 0, parisZone))
	a2026 := e.issue(t, e.dayPass(e.site, 1))
	b2026 := e.issue(t, e.dayPass(e.exempt, 1))
	// 00:10 on 1 January in Paris is still 31 December in UTC: already 2027.
	e.clock.Set(time.Date(2027, 1, 1, 0, 10, 0, 0, parisZone))
	if e.clock.Now().UTC().Year() != 2026 {
		t.Fatal("test premise: the instant is still 2026 in UTC")
	}
	a2027 := e.issue(t, e.dayPass(e.site, 1))
	a2027b := e.issue(t, e.dayPass(e.site2, 1)) // another site of the same company: same series
	b2027 := e.issue(t, e.dayPass(e.exempt, 1))

	for _, c := range []struct {
		inv    *invoicing.Invoice
		number string
		entity string
	}{
		{a2026, "2026-000001", entityA}, {b2026, "2026-000001", entityB},
		{a2027, "2027-000001", entityA}, {a2027b, "2027-000002", entityA}, {b2027, "2027-000001", entityB},
	} {
		if c.inv.Number != c.number || c.inv.EntityKey != c.entity {
			t.Errorf("got %s of %s, want %s of %s", c.inv.Number, c.inv.EntityKey, c.number, c.entity)
		}
	}
	// The hash chain runs across years, per entity.
	if a2027.PrevHash != a2026.Hash || a2027b.PrevHash != a2027.Hash || b2027.PrevHash != b2026.Hash {
		t.Fatal("chains do not link each entity's documents across the year")
	}
	rep, err := e.iv.Verify(context.Background())
	if err != nil || !rep.OK || rep.Entities != 2 || rep.Documents != 5 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestCreditNotes(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	in := e.dayPass(e.site, 3) // 3 × 25 € TTC = 62.50 HT + 12.50 VAT
	in.Lines = append(in.Lines, invoicing.InvoiceLineInput{Description: "Découpe laser", QuantityMilli: 1000, UnitPriceCents: 10000, VATRateBP: 2000})
	orig := e.issue(t, in)
	if orig.TotalHTCents != 6250+10000 || orig.TotalVATCents != 1250+2000 {
		t.Fatalf("original totals %d %d", orig.TotalHTCents, orig.TotalVATCents)
	}

	e.clock.Set(e.clock.Now().Add(24 * time.Hour))
	one, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{
		Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 1000}}, Reason: "Pass non utilisé",
		Refund: &invoicing.InvoicePayment{PaidAt: e.clock.Now(), Method: invoicing.MethodCard, Reference: "re_1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if one.Kind != invoicing.KindCreditNote || one.Number != "2026-000002" || one.CorrectsInvoiceID != orig.ID || one.CorrectsNumber != orig.Number {
		t.Fatalf("credit note identity: %s %s corrects %s", one.Kind, one.Number, one.CorrectsNumber)
	}
	if one.TotalHTCents != -2083 || one.TotalVATCents != -417 || one.TotalTTCCents != -2500 {
		t.Fatalf("one pass credited as %d %d %d", one.TotalHTCents, one.TotalVATCents, one.TotalTTCCents)
	}
	if l := one.Lines[0]; l.QuantityMilli != 1000 || l.UnitPriceTTCCents != -2500 || l.CorrectsPosition != 1 {
		t.Fatalf("credit line %+v", l)
	}
	for _, m := range []string{"Avoir relatif à la facture n° 2026-000001 du 09/03/2026", "Motif : Pass non utilisé", "Remboursé le 10/03/2026 par carte bancaire (réf. re_1)"} {
		if !slices.Contains(one.Mentions, m) {
			t.Errorf("credit note lacks %q: %q", m, one.Mentions)
		}
	}

	_, err = e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 3000}}, Reason: "trop"})
	if p := (*errs.Problem)(nil); !errors.As(err, &p) || p.Code != "credit_exceeds_invoice" {
		t.Fatalf("crediting 3 passes of the 2 left: %v", err)
	}
	for _, bad := range []invoicing.CreditNoteInput{
		{Lines: []invoicing.CreditLine{{Position: 9, QuantityMilli: 1000}}, Reason: "x"},
		{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 0}}, Reason: "x"},
		{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 500}, {Position: 1, QuantityMilli: 500}}, Reason: "x"},
		{Reason: " "},
	} {
		if _, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, bad); !errors.Is(err, errs.ErrInvalid) && !isValidationErr(err) {
			t.Errorf("credit %+v: %v, want a refusal", bad, err)
		}
	}

	// The last two passes: exactly what is left, so the passes add up.
	two, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 2000}}, Reason: "Annulation"})
	if err != nil {
		t.Fatal(err)
	}
	if two.Number != "2026-000003" || two.TotalHTCents != -4167 || two.TotalVATCents != -833 || two.TotalTTCCents != -5000 {
		t.Fatalf("two passes: %s %d %d %d", two.Number, two.TotalHTCents, two.TotalVATCents, two.TotalTTCCents)
	}
	if !slices.Contains(two.Mentions, "Montant à déduire d'une prochaine facture ou à rembourser") {
		t.Fatalf("unrefunded credit note mentions %q", two.Mentions)
	}
	// Full credit takes what remains: the laser line only.
	rest, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Reason: "Geste commercial"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Lines) != 1 || rest.Lines[0].CorrectsPosition != 2 || rest.TotalTTCCents != -12000 {
		t.Fatalf("full credit of the rest: %+v", rest.Lines)
	}
	if orig.TotalTTCCents+one.TotalTTCCents+two.TotalTTCCents+rest.TotalTTCCents != 0 ||
		orig.TotalHTCents+one.TotalHTCents+two.TotalHTCents+rest.TotalHTCents != 0 ||
		orig.TotalVATCents+one.TotalVATCents+two.TotalVATCents+rest.TotalVATCents != 0 {
		t.Fatal("credit notes do not add up to the invoice")
	}
	_, err = e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Reason: "encore"})
	if p := (*errs.Problem)(nil); !errors.As(err, &p) || p.Code != "invoice_fully_credited" {
		t.Fatalf("crediting a fully credited invoice: %v", err)
	}
	_, err = e.iv.IssueCreditNote(ctx, e.db, one.ID, invoicing.CreditNoteInput{Reason: "x"})
	if p := (*errs.Problem)(nil); !errors.As(err, &p) || p.Code != "not_an_invoice" {
		t.Fatalf("crediting a credit note: %v", err)
	}
	if _, err := e.iv.IssueCreditNote(ctx, e.db, id.New(), invoicing.CreditNoteInput{Reason: "x"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("crediting an unknown invoice: %v", err)
	}
	if rep, err := e.iv.Verify(ctx); err != nil || !rep.OK || rep.Documents != 4 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// TestNumbers: what a receipt cites of an invoice, its number and those of
// the credit notes that correct it (in order, and no other invoice's).
func TestNumbers(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	orig := e.issue(t, e.dayPass(e.site, 3))
	other := e.issue(t, e.dayPass(e.site, 1))
	if number, notes, err := e.iv.Numbers(ctx, e.db, orig.ID); err != nil || number != orig.Number || len(notes) != 0 {
		t.Fatalf("Numbers before any credit note = %q %q %v", number, notes, err)
	}
	var want []string
	for _, invoiceID := range []string{orig.ID, other.ID, orig.ID} {
		cn, err := e.iv.IssueCreditNote(ctx, e.db, invoiceID, invoicing.CreditNoteInput{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 1000}}, Reason: "Pass non utilisé"})
		if err != nil {
			t.Fatal(err)
		}
		if invoiceID == orig.ID {
			want = append(want, cn.Number)
		}
	}
	number, notes, err := e.iv.Numbers(ctx, e.db, orig.ID)
	if err != nil || number != orig.Number || !slices.Equal(notes, want) {
		t.Fatalf("Numbers = %q %q %v, want %q %q", number, notes, err, orig.Number, want)
	}
	for _, unknown := range []string{id.New(), "not-an-id"} {
		if _, _, err := e.iv.Numbers(ctx, e.db, unknown); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Numbers(%q) = %v, want not found", unknown, err)
		}
	}
}

// TestCreditNotesUnderConcurrency: ten concurrent credit notes of one pass
// each against an invoice of three passes; exactly three may succeed.
func TestCreditNotesUnderConcurrency(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	orig := e.issue(t, e.dayPass(e.site, 3))
	var wg sync.WaitGroup
	results := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 1000}}, Reason: "annulé"})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok, refused := 0, 0
	for err := range results {
		var p *errs.Problem
		switch {
		case err == nil:
			ok++
		case errors.As(err, &p) && p.Code == "credit_exceeds_invoice":
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 3 || refused != 7 {
		t.Fatalf("%d credit notes issued, %d refused; want 3 and 7", ok, refused)
	}
}

func isValidationErr(err error) bool {
	var ve *errs.ValidationError
	return errors.As(err, &ve)
}

func TestVerifyDetectsTampering(t *testing.T) {
	type docs struct{ first, second, third *invoicing.Invoice }
	tests := []struct {
		name   string
		tamper func(t *testing.T, e *invEnv, d docs) string
		number string // the document Verify must name ("" for the chain head)
		reason string
	}{
		{"amount changed", func(t *testing.T, e *invEnv, d docs) string {
			return "UPDATE invoices SET total_ht_cents = total_ht_cents + 100, total_vat_cents = total_vat_cents - 100 WHERE number = '2026-000002'"
		}, "2026-000002", "field total.ht_cents"},
		{"line price changed", func(t *testing.T, e *invEnv, d docs) string {
			return fmt.Sprintf("UPDATE invoice_lines SET unit_price_ttc_cents = 100 WHERE invoice_id = '%s'", d.second.ID)
		}, "2026-000002", "field line[1].unit_price_ttc_cents"},
		{"buyer renamed", func(t *testing.T, e *invEnv, d docs) string {
			return "UPDATE invoices SET buyer_name = 'Quelqu''un d''autre' WHERE number = '2026-000002'"
		}, "2026-000002", "field buyer.name"},
		{"hash replaced", func(t *testing.T, e *invEnv, d docs) string {
			return "UPDATE invoices SET hash = '" + chainSHA("x", "y") + "' WHERE number = '2026-000002'"
		}, "2026-000002", "hash does not match"},
		{"content rewritten with a consistent hash", func(t *testing.T, e *invEnv, d docs) string {
			// The forger rewrites the second document whole: columns,
			// canonical text and hash. The third no longer links to it.
			forged := strings.Replace(d.second.Canonical, `buyer.name: "Jeanne Dupré"`, `buyer.name: "Jean Faux"`, 1)
			return fmt.Sprintf("UPDATE invoices SET buyer_name = 'Jean Faux', canonical = '%s', hash = '%s' WHERE id = '%s'",
				strings.ReplaceAll(forged, "'", "''"), chainSHA(d.second.PrevHash, forged), d.second.ID)
		}, "2026-000003", "chain is broken"},
		{"prev_hash broken", func(t *testing.T, e *invEnv, d docs) string {
			return "UPDATE invoices SET prev_hash = '" + d.first.Hash + "' WHERE number = '2026-000003'"
		}, "2026-000003", "chain is broken"},
		{"document deleted", func(t *testing.T, e *invEnv, d docs) string {
			mustExec(t, e, fmt.Sprintf("DELETE FROM invoice_lines WHERE invoice_id = '%s'", d.second.ID))
			return fmt.Sprintf("DELETE FROM invoices WHERE id = '%s'", d.second.ID)
		}, "2026-000003", "missing"},
		{"last document deleted", func(t *testing.T, e *invEnv, d docs) string {
			mustExec(t, e, fmt.Sprintf("DELETE FROM invoice_lines WHERE invoice_id = '%s'", d.third.ID))
			return fmt.Sprintf("DELETE FROM invoices WHERE id = '%s'", d.third.ID)
		}, "", "missing"},
		{"renumbered", func(t *testing.T, e *invEnv, d docs) string {
			return "UPDATE invoices SET seq = 5, number = '2026-000005' WHERE number = '2026-000003'"
		}, "2026-000005", "numbering gap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newInvEnv(t)
			ctx := context.Background()
			d := docs{e.issue(t, e.dayPass(e.site, 1)), e.issue(t, e.dayPass(e.site, 2)), e.issue(t, e.dayPass(e.site, 3))}
			e.issue(t, e.dayPass(e.exempt, 1)) // another entity, untouched
			if rep, err := e.iv.Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			mustExec(t, e, tt.tamper(t, e, d))
			rep, err := e.iv.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || len(rep.Problems) != 1 {
				t.Fatalf("report = %+v, want one problem", rep)
			}
			p := rep.Problems[0]
			if p.EntityKey != entityA || p.Number != tt.number || !strings.Contains(p.Reason, tt.reason) {
				t.Fatalf("problem = %+v, want %s on %q (%q)", p, entityA, tt.number, tt.reason)
			}
		})
	}
}

func mustExec(t *testing.T, e *invEnv, query string) {
	t.Helper()
	if _, err := e.db.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestMentions(t *testing.T) {
	e := newInvEnv(t)

	exempt := e.issue(t, e.dayPass(e.exempt, 1))
	if !slices.Contains(exempt.Mentions, invoicing.MentionVATExempt) || exempt.TotalVATCents != 0 || exempt.TotalHTCents != 2500 {
		t.Fatalf("VAT-exempt seller: %q, VAT %d", exempt.Mentions, exempt.TotalVATCents)
	}
	if exempt.Seller.VATNumber != "" || !exempt.Seller.VATExempt {
		t.Fatalf("exempt seller snapshot %+v", exempt.Seller)
	}

	in := e.dayPass(e.site, 1)
	in.Buyer = e.businessBuyer()
	in.Payment = nil
	in.DueDate = "2026-04-08"
	b2b := e.issue(t, in)
	for _, m := range []string{invoicing.MentionLatePenalty, invoicing.MentionRecoveryIndemnity, invoicing.MentionNoDiscount, "Date d'échéance : 08/04/2026"} {
		if !slices.Contains(b2b.Mentions, m) {
			t.Errorf("business invoice lacks %q: %q", m, b2b.Mentions)
		}
	}
	if b2b.BuyerSIREN != "552100554" || b2b.BuyerVATNumber != "FR96552100554" || !strings.Contains(b2b.Canonical, invoicing.MentionRecoveryIndemnity) {
		t.Fatalf("business buyer snapshot %q %q, or mention not hashed", b2b.BuyerSIREN, b2b.BuyerVATNumber)
	}
	consumer := e.issue(t, e.dayPass(e.site, 1))
	if slices.Contains(consumer.Mentions, invoicing.MentionRecoveryIndemnity) {
		t.Fatalf("consumer invoice carries business mentions: %q", consumer.Mentions)
	}
}

func TestPDF(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	in := e.dayPass(e.site, 1)
	in.Buyer = e.businessBuyer()
	in.ServiceTo = "2026-03-13"
	in.Payment = nil
	in.DueDate = "2026-04-08"
	in.Lines = append(in.Lines,
		invoicing.InvoiceLineInput{Description: "Façonnage œuvre à l'atelier", QuantityMilli: 1500, UnitPriceCents: 123456, VATRateBP: 2000},
		invoicing.InvoiceLineInput{Description: "Repas (cantine)", QuantityMilli: 2000, UnitPriceCents: 1000, VATRateBP: 1000})
	inv := e.issue(t, in)

	pdf, err := e.iv.PDF(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("not a PDF: %q", pdf[:min(20, len(pdf))])
	}
	again, _ := e.iv.PDF(ctx, inv.ID)
	if !bytes.Equal(pdf, again) {
		t.Error("rendering the same document twice gave different bytes")
	}

	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	if got := tr("€ é è à ç œ"); got != "\x80 \xe9 \xe8 \xe0 \xe7 \x9c" {
		t.Fatalf("cp1252 translation = %q", got)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{
		// seller
		"SCIC La Fabrique", "La Fabrique du Bourg", "2 place de la Mairie", "23000 Guéret", "SCIC SAS",
		"SIREN 732829320 — SIRET 73282932000074", "N° TVA intracommunautaire : FR44732829320",
		// document
		"FACTURE", "N° 2026-000001", "Date d'émission : 09/03/2026", "Période de la prestation : du 09/03/2026 au 13/03/2026",
		"Échéance : 08/04/2026",
		// buyer
		"Menuiserie Lefèvre SARL", "12 rue des Écoles", "SIREN 552100554", "N° TVA intracommunautaire : FR96552100554",
		// lines: description, quantity, unit price HT, rate, totals
		"Pass journée coworking", "(prix unitaire TTC 25,00\u00a0€)", "Façonnage œuvre à l'atelier", "1,5", "1\u00a0234,56\u00a0€",
		"1\u00a0851,84\u00a0€", "20\u00a0%", "10\u00a0%", "20,83\u00a0€",
		// per-rate totals and document totals
		"Taux de TVA", "Base HT", "Montant TVA", "1\u00a0872,67\u00a0€", "374,54\u00a0€", "20,00\u00a0€", "2,00\u00a0€",
		"Total HT", "Total TVA", "Total TTC",
		// mentions
		invoicing.MentionLatePenalty, invoicing.MentionRecoveryIndemnity, invoicing.MentionNoDiscount, "Date d'échéance : 08/04/2026",
		"Empreinte SHA-256 : " + inv.Hash,
	} {
		if !strings.Contains(text, tr(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	if inv.TotalHTCents != 2083+185184+2000 {
		t.Fatalf("premise: total HT %d", inv.TotalHTCents)
	}

	exempt, err := e.iv.PDF(ctx, e.issue(t, e.dayPass(e.exempt, 1)).ID)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdftest.Text(t, exempt); !strings.Contains(text, tr(invoicing.MentionVATExempt)) || strings.Contains(text, tr("N° TVA intracommunautaire")) {
		t.Error("VAT-exempt PDF lacks the art. 293 B mention or shows a VAT number")
	}
	credit, err := e.iv.IssueCreditNote(ctx, e.db, inv.ID, invoicing.CreditNoteInput{Reason: "Erreur de tarif"})
	if err != nil {
		t.Fatal(err)
	}
	cpdf, err := e.iv.PDF(ctx, credit.ID)
	if err != nil {
		t.Fatal(err)
	}
	ctext := pdftest.Text(t, cpdf)
	for _, want := range []string{"AVOIR", "Facture d'origine : n° 2026-000001 du 09/03/2026", "Motif : Erreur de tarif", "-25,00\u00a0€"} {
		if !strings.Contains(ctext, tr(want)) {
			t.Errorf("credit note PDF lacks %q", want)
		}
	}
}

func TestList(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	for range 5 {
		e.issue(t, e.dayPass(e.site, 1))
	}
	e.issue(t, e.dayPass(e.site2, 1))
	walkin := e.dayPass(e.site, 1)
	walkin.Buyer.UserID = ""
	e.issue(t, walkin)

	var numbers []string
	after := ""
	for {
		page, next, err := e.iv.List(ctx, invoicing.InvoiceFilter{SiteID: e.site.ID, UserID: e.user, After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range page {
			numbers = append(numbers, inv.Number)
		}
		if next == "" {
			break
		}
		after = next
	}
	if want := []string{"2026-000001", "2026-000002", "2026-000003", "2026-000004", "2026-000005"}; !slices.Equal(numbers, want) {
		t.Fatalf("listed %v, want %v", numbers, want)
	}
	later, _, err := e.iv.List(ctx, invoicing.InvoiceFilter{From: e.clock.Now().Add(time.Second)})
	if err != nil || len(later) != 0 {
		t.Fatalf("From after every issue: %d documents, %v", len(later), err)
	}
	all, _, err := e.iv.List(ctx, invoicing.InvoiceFilter{EntityKey: entityA, To: e.clock.Now().Add(time.Second)})
	if err != nil || len(all) != 7 {
		t.Fatalf("whole entity: %d documents, %v", len(all), err)
	}
	if _, _, err := e.iv.List(ctx, invoicing.InvoiceFilter{After: "nope"}); !isValidationErr(err) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// TestCreditNotesByAmount: a partial refund credits exactly the amount
// refunded, TTC, split into HT and VAT like a price TTC; refunded in any
// number of parts, the credit notes add up exactly to the invoice.
func TestCreditNotesByAmount(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	priced := func(site *calendar.Site, ttc int64, rate int) invoicing.InvoiceInput {
		in := e.dayPass(site, 1)
		in.Lines[0].UnitPriceCents, in.Lines[0].VATRateBP = ttc, rate
		return in
	}
	type part struct{ ttc, ht, vat int64 }
	for _, tc := range []struct {
		name  string
		in    invoicing.InvoiceInput
		parts []part // each refund and the credit note it must give
	}{
		{"1 cent of a 25 € day pass", priced(e.site, 2500, 2000), []part{{1, 1, 0}, {2499, 2082, 417}}},
		{"25 € day pass refunded 10 €", priced(e.site, 2500, 2000), []part{{1000, 833, 167}, {1500, 1250, 250}}},
		{"333 cents at 20 % in thirds", priced(e.site, 333, 2000), []part{{111, 93, 18}, {111, 92, 19}, {111, 93, 18}}},
		{"333 cents at 20 %, 1 € then the rest", priced(e.site, 333, 2000), []part{{100, 83, 17}, {233, 195, 38}}},
		{"VAT-exempt entity", priced(e.exempt, 2500, 0), []part{{1000, 1000, 0}, {1, 1, 0}, {1499, 1499, 0}}},
		{"5,5 % rate, odd cents", priced(e.site, 1999, 550), []part{{7, 7, 0}, {1234, 1169, 65}, {758, 719, 39}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := e.issue(t, tc.in)
			var ht, vat, ttc int64
			for i, p := range tc.parts {
				cn, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{AmountCents: p.ttc, Reason: "Remboursement partiel",
					Refund: &invoicing.InvoicePayment{PaidAt: e.clock.Now(), Method: invoicing.MethodCard}})
				if err != nil {
					t.Fatalf("refund %d: %v", i, err)
				}
				if cn.TotalTTCCents != -p.ttc || cn.TotalHTCents != -p.ht || cn.TotalVATCents != -p.vat {
					t.Errorf("refund of %d: credit note %d HT + %d VAT = %d TTC, want -%d + -%d = -%d",
						p.ttc, cn.TotalHTCents, cn.TotalVATCents, cn.TotalTTCCents, p.ht, p.vat, p.ttc)
				}
				l := cn.Lines[0]
				if len(cn.Lines) != 1 || l.QuantityMilli != 1000 || l.UnitPriceTTCCents != -p.ttc || l.UnitPriceHTCents != -p.ht ||
					l.CorrectsPosition != 1 || !l.AmountCredit {
					t.Errorf("credit line %+v", l)
				}
				ht, vat, ttc = ht+cn.TotalHTCents, vat+cn.TotalVATCents, ttc+cn.TotalTTCCents
			}
			if orig.TotalHTCents+ht != 0 || orig.TotalVATCents+vat != 0 || orig.TotalTTCCents+ttc != 0 {
				t.Fatalf("credit notes %d/%d/%d do not add up to the invoice %d/%d/%d", ht, vat, ttc, orig.TotalHTCents, orig.TotalVATCents, orig.TotalTTCCents)
			}
			_, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{AmountCents: 1, Reason: "encore"})
			if p := (*errs.Problem)(nil); !errors.As(err, &p) || p.Code != "credit_exceeds_invoice" {
				t.Fatalf("a cent beyond the invoice: %v", err)
			}
		})
	}

	t.Run("several lines, then the rest", func(t *testing.T) {
		in := e.dayPass(e.site, 1) // 25 € TTC
		in.Lines = append(in.Lines, invoicing.InvoiceLineInput{Description: "Découpe laser", QuantityMilli: 1500, UnitPriceCents: 1001, VATRateBP: 2000})
		orig := e.issue(t, in) // laser: 15.02 HT + 3.00 VAT
		// 30 € crosses from the first line into the second.
		cn, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{AmountCents: 3000, Reason: "Remboursement partiel"})
		if err != nil {
			t.Fatal(err)
		}
		if len(cn.Lines) != 2 || cn.Lines[0].TotalTTCCents != -2500 || cn.Lines[1].TotalTTCCents != -500 || cn.TotalTTCCents != -3000 {
			t.Fatalf("credit note lines %+v", cn.Lines)
		}
		// A line partly credited by amount is not credited by quantity any more.
		_, err = e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Lines: []invoicing.CreditLine{{Position: 2, QuantityMilli: 500}}, Reason: "x"})
		if p := (*errs.Problem)(nil); !errors.As(err, &p) || p.Code != "line_credited_by_amount" {
			t.Fatalf("quantity credit after an amount credit: %v", err)
		}
		if _, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{AmountCents: 1, Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 1}}, Reason: "x"}); !isValidationErr(err) {
			t.Fatalf("lines and an amount: %v", err)
		}
		rest, err := e.iv.IssueCreditNote(ctx, e.db, orig.ID, invoicing.CreditNoteInput{Reason: "Solde"})
		if err != nil {
			t.Fatal(err)
		}
		if orig.TotalHTCents+cn.TotalHTCents+rest.TotalHTCents != 0 || orig.TotalVATCents+cn.TotalVATCents+rest.TotalVATCents != 0 ||
			orig.TotalTTCCents+cn.TotalTTCCents+rest.TotalTTCCents != 0 {
			t.Fatalf("invoice %d/%d, credits %d/%d then %d/%d", orig.TotalHTCents, orig.TotalVATCents, cn.TotalHTCents, cn.TotalVATCents, rest.TotalHTCents, rest.TotalVATCents)
		}
	})
	if rep, err := e.iv.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}
