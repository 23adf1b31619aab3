package billing_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/pdftest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// pdfText is the text of a document's PDF, and the translator to compare
// it with (the PDF holds cp1252).
func pdfText(t *testing.T, f *fixture, invoiceID string) (string, func(string) string) {
	t.Helper()
	pdf, err := f.invoicer().PDF(context.Background(), invoiceID)
	if err != nil {
		t.Fatal(err)
	}
	return pdftest.Text(t, pdf), fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
}

func countRows(t *testing.T, f *fixture, table string) int {
	t.Helper()
	n, err := f.db.NewSelect().Table(table).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldOf(err error) string {
	var ve *errs.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) > 0 {
		return ve.Fields[0].Field
	}
	return "not a validation error: " + code(err)
}

// VAT is computed on the net, split from the TTC like any retail price:
// HT = round half up of net × 10000 / (10000 + rate), VAT = net − HT.
func TestDiscountAtTheDesk(t *testing.T) {
	for _, c := range []struct {
		name                 string
		price                int64
		discount             billing.Discount
		off, net, ht, vat    int64
		listText, remiseText string
	}{
		{"amount", 2500, billing.Discount{AmountCents: 500, Reason: "Bénévole"}, 500, 2000, 1667, 333, "25,00", "-5,00"},
		{"percent", 2500, billing.Discount{Percent: 15, Reason: "Étudiant"}, 375, 2125, 1771, 354, "25,00", "-3,75"},
		{"percent rounded half up", 2999, billing.Discount{Percent: 33, Reason: "Chômeur"}, 990, 2009, 1674, 335, "29,99", "-9,90"},
		{"whole price", 2500, billing.Discount{Percent: 100, Reason: "Invité"}, 2500, 0, 0, 0, "25,00", "-25,00"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 1)
			ctx := context.Background()
			pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: c.price,
				Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
			d := c.discount
			out, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: f.users[0], PlanID: pass.ID,
				Date: "2026-03-04", Method: billing.MethodCash, AmountCents: c.net, RecordedBy: f.users[0], Buyer: testBuyer, Discount: &d})
			if err != nil {
				t.Fatal(err)
			}
			if out.Payment.AmountCents != c.net || out.Payment.DiscountCents != c.off || out.Payment.DiscountReason != c.discount.Reason {
				t.Fatalf("payment = %+v", out.Payment)
			}
			inv, err := f.invoicer().Get(ctx, *out.Payment.InvoiceID)
			if err != nil {
				t.Fatal(err)
			}
			l := inv.Lines[0]
			if l.UnitPriceTTCCents != c.price || l.DiscountCents != c.off || l.TotalTTCCents != c.net || l.TotalHTCents != c.ht ||
				l.TotalVATCents != c.vat || inv.TotalTTCCents != c.net || inv.TotalVATCents != c.vat {
				t.Fatalf("invoice line = %+v, totals %d/%d", l, inv.TotalHTCents, inv.TotalVATCents)
			}
			text, tr := pdfText(t, f, inv.ID)
			netText := invoicing.Euro(c.net)
			for _, want := range []string{"Prix catalogue : " + c.listText + "\u00a0€ TTC",
				"Remise : " + c.remiseText + "\u00a0€ TTC (" + c.discount.Reason + ")", "Net : " + netText + " TTC"} {
				if !strings.Contains(text, tr(want)) {
					t.Errorf("PDF lacks %q", want)
				}
			}
			if rep, err := f.invoicer().Verify(ctx); err != nil || !rep.OK {
				t.Fatalf("chain with a discount: %+v, %v", rep, err)
			}
		})
	}
}

func TestDiscountRefusalsChangeNothing(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	long := strings.Repeat("é", 501)
	for _, c := range []struct {
		name   string
		amount int64
		d      *billing.Discount
		field  string
	}{
		{"above the price", 0, &billing.Discount{AmountCents: 2600, Reason: "Erreur"}, "discount.amount_cents"},
		{"no reason", 2000, &billing.Discount{AmountCents: 500}, "discount.reason"},
		{"blank reason", 2000, &billing.Discount{AmountCents: 500, Reason: "   "}, "discount.reason"},
		{"reason too long", 2000, &billing.Discount{AmountCents: 500, Reason: long}, "discount.reason"},
		{"percent above 100", 0, &billing.Discount{Percent: 101, Reason: "Erreur"}, "discount.percent"},
		{"both amount and percent", 2000, &billing.Discount{AmountCents: 500, Percent: 20, Reason: "Erreur"}, "discount"},
		{"amount not the net", 2500, &billing.Discount{AmountCents: 500, Reason: "Bénévole"}, "amount_cents"},
		{"another price without a discount", 2000, nil, "amount_cents"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: f.users[0], PlanID: pass.ID,
				Date: "2026-03-04", Method: billing.MethodCash, AmountCents: c.amount, RecordedBy: f.users[0], Buyer: testBuyer, Discount: c.d})
			if got := fieldOf(err); got != c.field {
				t.Fatalf("error on %q, want %q (%v)", got, c.field, err)
			}
		})
	}
	for _, table := range []string{"payments", "invoices", "day_passes"} {
		if n := countRows(t, f, table); n != 0 {
			t.Errorf("%d rows in %s after refusals", n, table)
		}
	}
}

func TestRefundReasonOnTheCreditNote(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	out := f.pay(t, f.users[0], pass, "2026-03-04")
	for _, c := range []struct{ name, reason string }{{"missing", ""}, {"blank", " \t"}, {"too long", strings.Repeat("a", 501)}} {
		if _, err := f.bill.Refund(ctx, out.Payment.ID, 1000, c.reason); fieldOf(err) != "reason" {
			t.Fatalf("refund with a %s reason: %v", c.name, err)
		}
	}
	if n := countRows(t, f, "invoices"); n != 1 {
		t.Fatalf("%d documents after refused refunds, want the invoice alone", n)
	}
	res, err := f.bill.Refund(ctx, out.Payment.ID, 1000, "Machine en panne l'après-midi")
	if err != nil {
		t.Fatal(err)
	}
	cn := res.CreditNote
	if cn == nil || cn.Kind != invoicing.KindCreditNote || cn.Reason != "Machine en panne l'après-midi" || cn.TotalTTCCents != -1000 || cn.Number == "" {
		t.Fatalf("credit note = %+v", cn)
	}
	text, tr := pdfText(t, f, cn.ID)
	if !strings.Contains(text, tr("Motif : Machine en panne l'après-midi")) || strings.Contains(text, "Remboursement partiel") {
		t.Fatal("the credit note's PDF does not print the refund's reason")
	}
}

// bookAt books r for user from start to end (local times of the site).
func (f *fixture) bookAt(t *testing.T, user string, r *calendar.Resource, start, end time.Time) {
	t.Helper()
	if _, err := f.cal.Book(context.Background(), calendar.Booking{ResourceID: r.ID, UserID: user, By: holder(user),
		Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
}

// A pay-per-use invoice is dated by the bookings it pays for, in the
// site's zone, not by the day it is billed: one line per booking with its
// day and hours, the service period from the first to the last.
func TestPayPerUseInvoiceCarriesTheBookingsDates(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}, PayPerUse: true}})
	f.pay(t, u, p, "")
	room := f.resource(t, calendar.KindRoom, 2000)
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, f.paris) }
	f.bookAt(t, u, room, at(9, 14), at(9, 16))
	f.bookAt(t, u, room, at(28, 9), at(28, 11))            // the day before summer time (UTC+1)
	f.bookAt(t, u, room, at(29, 9), at(29, 11))            // the day summer time starts (UTC+2)
	*f.clock = time.Date(2026, 4, 2, 10, 0, 0, 0, f.paris) // billed days later
	pay, err := f.bill.SettleCharges(ctx, billing.Settlement{SiteID: f.site.ID, UserID: u, Method: billing.MethodCash, RecordedBy: u, Buyer: testBuyer})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := f.invoicer().Get(ctx, *pay.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"lundi 9 mars 2026, 14\u00a0h\u00a000 – 16\u00a0h\u00a000",
		"samedi 28 mars 2026, 9\u00a0h\u00a000 – 11\u00a0h\u00a000",
		"dimanche 29 mars 2026, 9\u00a0h\u00a000 – 11\u00a0h\u00a000",
	}
	if len(inv.Lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(inv.Lines), len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(inv.Lines[i].Description, " — "+w) {
			t.Errorf("line %d = %q, want it dated %q", i+1, inv.Lines[i].Description, w)
		}
	}
	if inv.ServiceFrom != "2026-03-09" || inv.ServiceTo != "2026-03-29" {
		t.Fatalf("service period %s – %s, want 2026-03-09 – 2026-03-29", inv.ServiceFrom, inv.ServiceTo)
	}
	text, tr := pdfText(t, f, inv.ID)
	if !strings.Contains(text, tr("Période de la prestation : du 09/03/2026 au 29/03/2026")) || strings.Contains(text, "02/04/2026 au") {
		t.Error("the PDF does not date the service by the bookings")
	}
}

func TestPlanInvoicesCarryTheirServiceDates(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	member := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Résident", PriceCents: 20000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	for _, c := range []struct {
		name, from, to, desc string
		buy                  func() *billing.Purchase
	}{
		{"day pass bought ahead", "2026-03-20", "2026-03-20", "Pass journée — 20/03/2026", func() *billing.Purchase { return f.pay(t, f.users[0], pass, "2026-03-20") }},
		{"membership period", "2026-03-02", "2026-04-01", "Abonnement Résident — du 02/03/2026 au 01/04/2026", func() *billing.Purchase { return f.pay(t, f.users[0], member, "") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := c.buy()
			inv, err := f.invoicer().Get(ctx, *out.Payment.InvoiceID)
			if err != nil {
				t.Fatal(err)
			}
			if inv.ServiceFrom != c.from || inv.ServiceTo != c.to || inv.Lines[0].Description != c.desc {
				t.Fatalf("service %s – %s, line %q; want %s – %s, %q", inv.ServiceFrom, inv.ServiceTo, inv.Lines[0].Description, c.from, c.to, c.desc)
			}
		})
	}
}

// The cash drawer's totals are those of the whole range, whatever the
// page; the test sums what it recorded itself.
func TestCashDrawer(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	type want struct{ n, amount, refunded int64 }
	expect := map[string]*want{}
	sales := []struct {
		day      int
		method   string
		discount int64
		refund   int64
	}{
		{2, billing.MethodCash, 0, 0}, {3, billing.MethodCash, 500, 0}, {3, billing.MethodCheque, 0, 1000},
		{4, billing.MethodCard, 0, 0}, {5, billing.MethodCash, 0, 2500}, {9, billing.MethodCash, 0, 0}, // the 9th is out of range
	}
	var ids []string
	for i, s := range sales {
		*f.clock = time.Date(2026, 3, s.day, 10, i, 0, 0, f.paris)
		in := billing.OnSitePayment{SiteID: f.site.ID, UserID: f.users[i%2], PlanID: pass.ID, Date: "2026-03-20", Method: s.method,
			AmountCents: 2500 - s.discount, RecordedBy: f.users[0], Buyer: testBuyer}
		if s.discount > 0 {
			in.Discount = &billing.Discount{AmountCents: s.discount, Reason: "Bénévole"}
		}
		out, err := f.bill.RecordOnSitePayment(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if s.refund > 0 {
			if _, err := f.bill.Refund(ctx, out.Payment.ID, s.refund, "Annulation"); err != nil {
				t.Fatal(err)
			}
		}
		if s.day < 9 {
			ids = append(ids, out.Payment.ID)
			w := expect[s.method]
			if w == nil {
				w = &want{}
				expect[s.method] = w
			}
			w.n++
			w.amount += 2500 - s.discount
			w.refunded += s.refund
		}
	}
	filter := billing.DrawerFilter{SiteID: f.site.ID, From: time.Date(2026, 3, 1, 0, 0, 0, 0, f.paris),
		To: time.Date(2026, 3, 9, 0, 0, 0, 0, f.paris), Limit: 2}
	var seen []string
	var totals []billing.MethodTotal
	for pages := 0; ; pages++ {
		d, err := f.bill.SitePayments(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Payments {
			seen = append(seen, p.ID)
			if p.UserName != "M" || p.PlanName == nil || *p.PlanName != "Pass journée" || p.InvoiceNumber == nil {
				t.Fatalf("payment row = %+v", p)
			}
		}
		totals = d.Totals
		if d.Next == "" || pages > 5 {
			break
		}
		filter.After = d.Next
	}
	if len(seen) != len(ids) {
		t.Fatalf("pages gave %d payments, want %d", len(seen), len(ids))
	}
	for i := range ids { // newest first
		if seen[i] != ids[len(ids)-1-i] {
			t.Fatalf("order: got %v, want the reverse of %v", seen, ids)
		}
	}
	if len(totals) != len(expect) {
		t.Fatalf("totals %+v, want %d methods", totals, len(expect))
	}
	for _, tot := range totals {
		w := expect[tot.Method]
		if w == nil || tot.Count != w.n || tot.AmountCents != w.amount || tot.RefundedCents != w.refunded {
			t.Errorf("total %+v, want %+v", tot, w)
		}
	}
	filter.After, filter.Method, filter.Limit = "", billing.MethodCash, 50
	d, err := f.bill.SitePayments(ctx, filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Payments) != 3 || len(d.Totals) != 1 || d.Totals[0].AmountCents != expect[billing.MethodCash].amount {
		t.Fatalf("cash only: %d payments, totals %+v", len(d.Payments), d.Totals)
	}
	filter.Method = "bitcoin"
	if _, err := f.bill.SitePayments(ctx, filter); fieldOf(err) != "method" {
		t.Fatalf("unknown method: %v", err)
	}
}
