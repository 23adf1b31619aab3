package calendar_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
)

func assoLegal() calendar.Legal {
	return calendar.Legal{CompanyName: "Asso Tiers-Lieu", LegalForm: "Association loi 1901", SIRET: "73282932000074", VATExempt: true}
}

// TestLegalRegistration: what an identity giving its registration must
// give (capital and RCS for a company, RNA for an association), the form
// of each field, and identities without any registration (older sites)
// still valid.
func TestLegalRegistration(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	tests := []struct {
		name  string
		legal func() calendar.Legal
		field string // "" when valid
	}{
		{"company without registration (older sites)", func() calendar.Legal { return validSite().Legal }, ""},
		{"company complete", func() calendar.Legal {
			l := validSite().Legal
			l.ShareCapitalCents, l.Registry, l.RegistryCity = 1_000_000, calendar.RegistryRCS, "Limoges"
			return l
		}, ""},
		{"company with variable capital", func() calendar.Legal {
			l := validSite().Legal
			l.VariableCapital, l.Registry, l.RegistryCity = true, calendar.RegistryRCS, "Guéret"
			return l
		}, ""},
		{"company without capital", func() calendar.Legal {
			l := validSite().Legal
			l.Registry, l.RegistryCity = calendar.RegistryRCS, "Limoges"
			return l
		}, "legal.share_capital_cents"},
		{"company with capital, no RCS", func() calendar.Legal {
			l := validSite().Legal
			l.ShareCapitalCents = 1_000_000
			return l
		}, "legal.registry"},
		{"RCS without city", func() calendar.Legal {
			l := validSite().Legal
			l.ShareCapitalCents, l.Registry = 1_000_000, calendar.RegistryRCS
			return l
		}, "legal.registry_city"},
		{"unknown registry", func() calendar.Legal { l := validSite().Legal; l.Registry = "RNE"; return l }, "legal.registry"},
		{"negative capital", func() calendar.Legal { l := validSite().Legal; l.ShareCapitalCents = -1; return l }, "legal.share_capital_cents"},
		{"association without registration (older sites)", assoLegal, ""},
		{"association complete", func() calendar.Legal {
			l := assoLegal()
			l.Registry, l.RNA, l.VATExemptBasis = calendar.RegistryNone, "w872 001 234", calendar.VATExemptNonProfit
			return l
		}, ""},
		{"association dispensée without RNA", func() calendar.Legal { l := assoLegal(); l.Registry = calendar.RegistryNone; return l }, "legal.rna"},
		{"association at the RCS", func() calendar.Legal {
			l := assoLegal()
			l.Registry, l.RegistryCity, l.RNA = calendar.RegistryRCS, "Guéret", "W872001234"
			return l
		}, "legal.registry"},
		{"RNA not W + 9 digits", func() calendar.Legal { l := assoLegal(); l.RNA = "W87200123"; return l }, "legal.rna"},
		{"unknown exemption basis", func() calendar.Legal { l := assoLegal(); l.VATExemptBasis = "262"; return l }, "legal.vat_exempt_basis"},
		{"basis without exemption", func() calendar.Legal {
			l := validSite().Legal
			l.VATExemptBasis = calendar.VATExemptFranchise
			return l
		}, "legal.vat_exempt_basis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validSite()
			in.Legal = tt.legal()
			s, err := svc.CreateSite(context.Background(), bySystem(), in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if s.Legal.VATExempt && s.Legal.VATExemptBasis == "" {
					t.Fatalf("exempt without a basis: %+v", s.Legal)
				}
				return
			}
			var ve *errs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want validation error", err)
			}
			for _, f := range ve.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Fatalf("fields = %+v, want one on %q", ve.Fields, tt.field)
		})
	}
}

// An association of Alsace-Moselle, registered at its tribunal under local
// law, has no RNA number.
func TestLegalAlsaceMoselle(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	in := validSite()
	in.Address = calendar.Address{Line1: "1 place Kléber", PostalCode: "67000", City: "Strasbourg", Country: "FR"}
	in.Legal = assoLegal()
	in.Legal.Registry = calendar.RegistryNone
	if _, err := svc.CreateSite(context.Background(), bySystem(), in); err != nil {
		t.Fatal(err)
	}
}

// An older site without registration keeps changing its name.
func TestLegalOlderSiteStaysValid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := newService(t)
	s, err := svc.CreateSite(ctx, bySystem(), validSite())
	if err != nil {
		t.Fatal(err)
	}
	name := "La Fabrique"
	if _, err := svc.UpdateSite(ctx, bySystem(), s.ID, calendar.SiteUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
}
