package legalid

import (
	"testing"

	"github.com/relais-tierslieux/relais/internal/errs"
)

func TestIdentifiers(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
		got  bool
	}{
		{"SIREN with its key", true, ValidSIREN("732829320")},
		{"SIREN with a wrong key", false, ValidSIREN("732829321")},
		{"SIREN too short", false, ValidSIREN("73282932")},
		{"SIREN with a letter", false, ValidSIREN("73282932A")},
		{"SIRET with its key", true, ValidSIRET("73282932000074")},
		{"SIRET with a wrong key", false, ValidSIRET("73282932000075")},
		{"La Poste's SIRET by digit sum", true, ValidSIRET("35600000000010")},
		{"French VAT of the SIREN", true, ValidFrenchVAT("FR44732829320", "732829320")},
		{"French VAT with a wrong key", false, ValidFrenchVAT("FR45732829320", "732829320")},
		{"French VAT of another SIREN", false, ValidFrenchVAT("FR44732829320", "552100554")},
	} {
		if c.got != c.ok {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.ok)
		}
	}
}

func TestCheckBuyer(t *testing.T) {
	for _, c := range []struct {
		name       string
		business   bool
		siren, vat string
		fields     []string
		wantSIREN  string
		wantVAT    string
	}{
		{"private, nothing", false, "", "", nil, "", ""},
		{"private with a SIREN", false, "732829320", "", []string{"buyer.siren"}, "732829320", ""},
		{"private with a VAT number", false, "", "FR44732829320", []string{"buyer.vat_number"}, "", "FR44732829320"},
		{"business, typed with spaces", true, "732 829 320", "fr 44 732.829.320", nil, "732829320", "FR44732829320"},
		{"business without SIREN", true, "", "", []string{"buyer.siren"}, "", ""},
		{"business, French VAT of another SIREN", true, "552100554", "FR44732829320", []string{"buyer.vat_number"}, "552100554", "FR44732829320"},
		{"business, another EU VAT", true, "732829320", "DE123456789", nil, "732829320", "DE123456789"},
		{"business, VAT too long", true, "732829320", "DE1234567890123456", []string{"buyer.vat_number"}, "732829320", "DE1234567890123456"},
	} {
		var v errs.Validator
		siren, vat := c.siren, c.vat
		CheckBuyer(&v, "buyer", c.business, &siren, &vat)
		var got []string
		if ve, ok := v.Err().(*errs.ValidationError); ok {
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
		}
		if len(got) != len(c.fields) || (len(got) > 0 && got[0] != c.fields[0]) {
			t.Errorf("%s: fields %v, want %v", c.name, got, c.fields)
		}
		if siren != c.wantSIREN || vat != c.wantVAT {
			t.Errorf("%s: normalised to %q %q, want %q %q", c.name, siren, vat, c.wantSIREN, c.wantVAT)
		}
	}
}
