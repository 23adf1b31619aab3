package invoicing_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/pdftest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// TestLegalMentions: the registration a site's entity gives is printed on
// its invoices and kept in the stored seller block; the VAT exemption
// mention follows its basis.
func TestLegalMentions(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	setLegal := func(site *calendar.Site, l calendar.Legal) {
		t.Helper()
		b, _ := json.Marshal(l)
		if _, err := e.db.ExecContext(ctx, `UPDATE sites SET legal = ? WHERE id = ?`, string(b), site.ID); err != nil {
			t.Fatal(err)
		}
		site.Legal = l
	}
	scic := e.site.Legal
	scic.ShareCapitalCents, scic.Registry, scic.RegistryCity = 1_000_000, calendar.RegistryRCS, "Limoges"
	setLegal(e.site, scic)
	asso := e.exempt.Legal
	asso.Registry, asso.RNA, asso.VATExemptBasis = calendar.RegistryNone, "W872001234", calendar.VATExemptNonProfit
	setLegal(e.exempt, asso)

	cases := []struct {
		name    string
		site    *calendar.Site
		want    []string
		notWant []string
	}{
		{"SCIC with capital and RCS", e.site, []string{"SCIC SAS au capital de 10\u00a0000\u00a0€, RCS Limoges 732\u00a0829\u00a0320"}, nil},
		{"association exempt under 261-7-1°", e.exempt,
			[]string{"Association loi 1901, dispensée d'immatriculation, RNA W872001234", invoicing.MentionVATExemptNonProfit},
			[]string{invoicing.MentionVATExempt}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := e.issue(t, e.dayPass(c.site, 1))
			got, err := e.iv.Get(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Seller.Registry != c.site.Legal.Registry || got.Seller.RNA != c.site.Legal.RNA || got.Seller.ShareCapitalCents != c.site.Legal.ShareCapitalCents {
				t.Fatalf("stored seller = %+v", got.Seller)
			}
			pdf, err := e.iv.PDF(ctx, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The seller block wraps long lines.
			text := strings.ReplaceAll(pdftest.Text(t, pdf), "\n", " ")
			for _, w := range c.want {
				if !strings.Contains(text, tr(w)) {
					t.Errorf("PDF lacks %q", w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(text, tr(w)) {
					t.Errorf("PDF carries %q", w)
				}
			}
		})
	}
	// The documents, with their new seller lines, still verify.
	if rep, err := e.iv.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}

func TestLegalLine(t *testing.T) {
	for _, c := range []struct {
		s    invoicing.Seller
		want string
	}{
		{invoicing.Seller{LegalForm: "SCIC SAS"}, "SCIC SAS"},
		{invoicing.Seller{LegalForm: "SARL", ShareCapitalCents: 150_050, Registry: "RCS", RegistryCity: "Tulle", SIREN: "552100554"}, "SARL au capital de 1\u00a0500,50\u00a0€, RCS Tulle 552\u00a0100\u00a0554"},
		{invoicing.Seller{LegalForm: "SCIC SAS", VariableCapital: true, Registry: "RCS", RegistryCity: "Guéret", SIREN: "732829320"}, "SCIC SAS à capital variable, RCS Guéret 732\u00a0829\u00a0320"},
		{invoicing.Seller{LegalForm: "Artisan", Registry: "RM", RegistryCity: "Creuse", SIREN: "732829320"}, "Artisan, RM Creuse 732\u00a0829\u00a0320"},
	} {
		if got := invoicing.LegalLine(c.s); got != c.want {
			t.Errorf("LegalLine(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
