package billing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/invoicing"
)

func TestOnSitePaymentIssuesItsInvoice(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	iv := f.invoicer()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	in := billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: pass.ID, Date: "2026-03-04", Method: billing.MethodCash, AmountCents: 2500, RecordedBy: u}
	_, err := f.bill.RecordOnSitePayment(ctx, in)
	var ve *errs.ValidationError
	if !errors.As(err, &ve) || ve.Fields[0].Field != "buyer.address" {
		t.Fatalf("payment without a billing address: %v", err)
	}
	in.Buyer = &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}
	out, err := f.bill.RecordOnSitePayment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Payment.InvoiceID == nil {
		t.Fatal("payment has no invoice")
	}
	inv, err := iv.Get(ctx, *out.Payment.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "2026-000001" || inv.TotalTTCCents != 2500 || inv.TotalHTCents != 2083 || inv.TotalVATCents != 417 ||
		inv.BuyerName != "M" || inv.ServiceFrom != "2026-03-04" || inv.PaymentMethod != billing.MethodCash || inv.Seller.SIREN != "732829320" {
		t.Fatalf("invoice = %+v", inv)
	}
	rep, err := iv.Verify(ctx)
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify = %+v, %v", rep, err)
	}
}

func TestSettlePayPerUseCharges(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	iv := f.invoicer()
	buyer := &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}, PayPerUse: true}})
	if _, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID, Method: billing.MethodCash,
		AmountCents: 50000, RecordedBy: u, Buyer: buyer}); err != nil {
		t.Fatal(err)
	}
	room := f.resource(t, calendar.KindRoom, 2400) // 24 € TTC (20 € HT) an hour
	for _, day := range []int{3, 4} {
		if _, err := f.book(u, room, day, 9, 10); err != nil {
			t.Fatal(err)
		}
	}
	open, _ := f.bill.OpenCharges(ctx, f.site.ID, u)
	if len(open) != 2 || open[0].AmountCents != 2400 {
		t.Fatalf("open charges = %+v, want two of 24 € TTC", open)
	}
	pay, err := f.bill.SettleCharges(ctx, billing.Settlement{SiteID: f.site.ID, UserID: u, Method: billing.MethodCard, RecordedBy: u, Buyer: buyer})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := iv.Get(ctx, *pay.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if pay.AmountCents != 4800 || inv.TotalTTCCents != 4800 || inv.TotalHTCents != 4000 || len(inv.Lines) != 2 {
		t.Fatalf("settlement = %d, invoice %+v", pay.AmountCents, inv)
	}
	if _, err := f.bill.SettleCharges(ctx, billing.Settlement{SiteID: f.site.ID, UserID: u, Method: billing.MethodCard, RecordedBy: u, Buyer: buyer}); code(err) != "nothing_to_settle" {
		t.Fatalf("settling twice: %v", err)
	}
}

func TestOnSiteRefundIssuesCreditNotes(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	iv := f.invoicer()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	out, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: pass.ID, Date: "2026-03-04",
		Method: billing.MethodCash, AmountCents: 2500, RecordedBy: u,
		Buyer: &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.bill.Refund(ctx, out.Payment.ID, 1000, "Geste commercial"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.bill.Refund(ctx, out.Payment.ID, 1501, "Geste commercial"); err == nil {
		t.Fatal("refunding more than was paid succeeded")
	}
	res, err := f.bill.Refund(ctx, out.Payment.ID, 1500, "Geste commercial")
	if err != nil || res.Payment.Status != "refunded" || res.CreditNote == nil {
		t.Fatalf("full refund = %+v, %v", res, err)
	}
	invs, _, err := iv.List(ctx, invoicing.InvoiceFilter{UserID: u})
	if err != nil {
		t.Fatal(err)
	}
	var credited int64
	notes := 0
	for _, inv := range invs {
		if inv.Kind == invoicing.KindCreditNote {
			notes++
			credited += inv.TotalTTCCents
		}
	}
	if notes != 2 || credited != -2500 {
		t.Fatalf("%d credit notes totalling %d, want 2 totalling -2500", notes, credited)
	}
	passes, _ := f.bill.ListDayPasses(ctx, u)
	if passes[0].Status != billing.StatusCanceled {
		t.Fatalf("refunded pass is %s", passes[0].Status)
	}
	if rep, _ := iv.Verify(ctx); !rep.OK {
		t.Fatalf("chain after credit notes: %+v", rep)
	}
}

// TestPartialRefundsCreditExactly: each refund's credit note is the amount
// refunded, to the cent (a 1-cent refund once credited the whole invoice).
func TestPartialRefundsCreditExactly(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	iv := f.invoicer()
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	out, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: pass.ID, Date: "2026-03-04",
		Method: billing.MethodCash, AmountCents: 2500, RecordedBy: u,
		Buyer: &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64][2]int64{1: {-1, 0}, 999: {-832, -167}, 1500: {-1250, -250}} // refund → HT, VAT
	for _, cents := range []int64{1, 999, 1500} {
		if _, err := f.bill.Refund(ctx, out.Payment.ID, cents, "Geste commercial"); err != nil {
			t.Fatal(err)
		}
		invs, _, err := iv.List(ctx, invoicing.InvoiceFilter{UserID: u})
		if err != nil {
			t.Fatal(err)
		}
		last := invs[len(invs)-1]
		if last.Kind != invoicing.KindCreditNote || last.TotalTTCCents != -cents || last.TotalHTCents != want[cents][0] || last.TotalVATCents != want[cents][1] {
			t.Fatalf("refund of %d cents: %s of %d TTC (%d HT, %d VAT)", cents, last.Kind, last.TotalTTCCents, last.TotalHTCents, last.TotalVATCents)
		}
	}
}
