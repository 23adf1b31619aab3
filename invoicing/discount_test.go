package invoicing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// A discounted line: VAT on the net, for a price stated HT as for one
// stated TTC; the discount is checked against the line's amount.
func TestDiscountedLines(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	in := e.dayPass(e.site, 1)
	in.Lines = []invoicing.InvoiceLineInput{
		// 2 h at 30,00 € HT less 10,01 € HT: net 49,99 € HT, VAT 10,00 € (9,998 rounded half up).
		{Description: "Découpeuse laser", QuantityMilli: 2000, UnitPriceCents: 3000, VATRateBP: 2000, DiscountCents: 1001, DiscountReason: "Atelier partagé"},
		// 25,00 € TTC less 5,00 €: net 20,00 € TTC = 16,67 € HT + 3,33 € VAT.
		{Description: "Pass journée", QuantityMilli: 1000, UnitPriceCents: 2500, PriceIncludesVAT: true, VATRateBP: 2000, DiscountCents: 500, DiscountReason: "Bénévole"},
	}
	inv := e.issue(t, in)
	for i, want := range [][3]int64{{4999, 1000, 5999}, {1667, 333, 2000}} {
		l := inv.Lines[i]
		if l.TotalHTCents != want[0] || l.TotalVATCents != want[1] || l.TotalTTCCents != want[2] {
			t.Errorf("line %d = %d/%d/%d, want %v", i+1, l.TotalHTCents, l.TotalVATCents, l.TotalTTCCents, want)
		}
	}
	if inv.TotalTTCCents != 7999 {
		t.Fatalf("total %d, want 7999", inv.TotalTTCCents)
	}
	// A discounted line is credited by amount: its quantity no longer has
	// an exact price. A full credit takes exactly what is left.
	if _, err := e.iv.IssueCreditNote(ctx, e.db, inv.ID, invoicing.CreditNoteInput{Reason: "x", Lines: []invoicing.CreditLine{{Position: 1, QuantityMilli: 1000}}}); err == nil ||
		!strings.Contains(err.Error(), "discount") {
		t.Fatalf("quantity credit of a discounted line: %v", err)
	}
	cn, err := e.iv.IssueCreditNote(ctx, e.db, inv.ID, invoicing.CreditNoteInput{Reason: "Annulation"})
	if err != nil || cn.TotalTTCCents != -7999 || cn.TotalHTCents != -(4999+1667) || cn.TotalVATCents != -(1000+333) {
		t.Fatalf("full credit = %+v, %v", cn, err)
	}
	if rep, err := e.iv.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify = %+v, %v", rep, err)
	}

	for _, c := range []struct {
		name  string
		l     invoicing.InvoiceLineInput
		field string
	}{
		{"above the amount", invoicing.InvoiceLineInput{DiscountCents: 2501, DiscountReason: "x"}, "lines[0].discount_cents"},
		{"without a reason", invoicing.InvoiceLineInput{DiscountCents: 100}, "lines[0].discount_reason"},
		{"reason too long", invoicing.InvoiceLineInput{DiscountCents: 100, DiscountReason: strings.Repeat("é", 501)}, "lines[0].discount_reason"},
		{"negative", invoicing.InvoiceLineInput{DiscountCents: -100, DiscountReason: "x"}, "lines[0].discount_cents"},
	} {
		bad := e.dayPass(e.site, 1)
		l := &bad.Lines[0]
		l.DiscountCents, l.DiscountReason = c.l.DiscountCents, c.l.DiscountReason
		_, err := e.iv.Issue(ctx, e.db, bad)
		var ve *errs.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != c.field {
			t.Errorf("%s: %v, want %s named", c.name, err, c.field)
		}
	}
}
