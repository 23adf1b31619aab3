package calendar

import (
	"strings"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/legalid"
)

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"` // ISO 3166-1 alpha-2, e.g. "FR"
}

func (a Address) validate(v *errs.Validator, field string) {
	v.Check(strings.TrimSpace(a.Line1) != "", field+".line1", "is required")
	v.Check(strings.TrimSpace(a.PostalCode) != "", field+".postal_code", "is required")
	v.Check(strings.TrimSpace(a.City) != "", field+".city", "is required")
	v.Check(len(a.Country) == 2 && strings.ToUpper(a.Country) == a.Country, field+".country", "must be an ISO 3166-1 alpha-2 code such as FR")
	if a.Country == "FR" {
		v.Check(len(a.PostalCode) == 5 && legalid.AllDigits(a.PostalCode), field+".postal_code", "must be 5 digits in France")
	}
}

// Legal is the identity of the entity that runs a site and issues its
// invoices: what French law requires on an invoice.
type Legal struct {
	CompanyName string `json:"company_name"`
	// LegalForm, e.g. "SCIC SAS", "Association loi 1901", "SARL".
	LegalForm string `json:"legal_form"`
	SIREN     string `json:"siren"`
	SIRET     string `json:"siret"`
	VATNumber string `json:"vat_number,omitempty"`
	// VATExempt: franchise en base (art. 293 B du CGI); invoices then carry
	// "TVA non applicable, art. 293 B du CGI" and no VAT.
	VATExempt bool `json:"vat_exempt"`
	// Address of the registered office, when it differs from the site's.
	Address *Address `json:"address,omitempty"`
}

func (l *Legal) normalize() {
	l.SIREN = legalid.Normalize(l.SIREN)
	l.SIRET = legalid.Normalize(l.SIRET)
	l.VATNumber = strings.ToUpper(legalid.Normalize(l.VATNumber))
	l.CompanyName = strings.TrimSpace(l.CompanyName)
	l.LegalForm = strings.TrimSpace(l.LegalForm)
	if l.SIREN == "" && len(l.SIRET) == 14 {
		l.SIREN = l.SIRET[:9]
	}
}

func (l Legal) validate(v *errs.Validator, field string) {
	v.Check(l.CompanyName != "", field+".company_name", "is required")
	v.Check(l.LegalForm != "", field+".legal_form", "is required (e.g. SAS, SCIC SARL, Association loi 1901)")
	v.Check(legalid.ValidSIREN(l.SIREN), field+".siren", "must be 9 digits with a valid check digit")
	v.Check(legalid.ValidSIRET(l.SIRET), field+".siret", "must be 14 digits with a valid check digit")
	if legalid.ValidSIREN(l.SIREN) && legalid.ValidSIRET(l.SIRET) {
		v.Check(l.SIRET[:9] == l.SIREN, field+".siret", "must start with the SIREN")
	}
	switch {
	case l.VATExempt:
		v.Check(l.VATNumber == "", field+".vat_number", "must be empty for a VAT-exempt entity")
	case l.VATNumber == "":
		v.Add(field+".vat_number", "is required unless vat_exempt is true")
	case strings.HasPrefix(l.VATNumber, "FR"):
		v.Check(legalid.ValidFrenchVAT(l.VATNumber, l.SIREN), field+".vat_number", "is not the French VAT number of this SIREN")
	default:
		v.Check(len(l.VATNumber) >= 4 && len(l.VATNumber) <= 16, field+".vat_number", "must be an EU VAT number")
	}
	if l.Address != nil {
		l.Address.validate(v, field+".address")
	}
}

// sameLegal reports whether two normalized identities are the same.
func sameLegal(a, b Legal) bool {
	if (a.Address == nil) != (b.Address == nil) || a.Address != nil && *a.Address != *b.Address {
		return false
	}
	a.Address, b.Address = nil, nil
	return a == b
}
