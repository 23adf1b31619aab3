package calendar

import (
	"fmt"
	"strings"

	"github.com/relais-tierslieux/relais/internal/errs"
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
		v.Check(len(a.PostalCode) == 5 && allDigits(a.PostalCode), field+".postal_code", "must be 5 digits in France")
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
	strip := strings.NewReplacer(" ", "", ".", "", "-", "")
	l.SIREN = strip.Replace(l.SIREN)
	l.SIRET = strip.Replace(l.SIRET)
	l.VATNumber = strings.ToUpper(strip.Replace(l.VATNumber))
	l.CompanyName = strings.TrimSpace(l.CompanyName)
	l.LegalForm = strings.TrimSpace(l.LegalForm)
	if l.SIREN == "" && len(l.SIRET) == 14 {
		l.SIREN = l.SIRET[:9]
	}
}

func (l Legal) validate(v *errs.Validator, field string) {
	v.Check(l.CompanyName != "", field+".company_name", "is required")
	v.Check(l.LegalForm != "", field+".legal_form", "is required (e.g. SAS, SCIC SARL, Association loi 1901)")
	v.Check(ValidSIREN(l.SIREN), field+".siren", "must be 9 digits with a valid check digit")
	v.Check(ValidSIRET(l.SIRET), field+".siret", "must be 14 digits with a valid check digit")
	if ValidSIREN(l.SIREN) && ValidSIRET(l.SIRET) {
		v.Check(l.SIRET[:9] == l.SIREN, field+".siret", "must start with the SIREN")
	}
	switch {
	case l.VATExempt:
		v.Check(l.VATNumber == "", field+".vat_number", "must be empty for a VAT-exempt entity")
	case l.VATNumber == "":
		v.Add(field+".vat_number", "is required unless vat_exempt is true")
	case strings.HasPrefix(l.VATNumber, "FR"):
		v.Check(ValidFrenchVAT(l.VATNumber, l.SIREN), field+".vat_number", "is not the French VAT number of this SIREN")
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

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// ValidSIREN checks a 9-digit SIREN and its Luhn key.
func ValidSIREN(s string) bool { return len(s) == 9 && allDigits(s) && luhn(s) }

// ValidSIRET checks a 14-digit SIRET. La Poste's establishments (SIREN
// 356000000) use a digit-sum rule instead of Luhn.
func ValidSIRET(s string) bool {
	if len(s) != 14 || !allDigits(s) {
		return false
	}
	if strings.HasPrefix(s, "356000000") {
		sum := 0
		for _, c := range s {
			sum += int(c - '0')
		}
		return sum%5 == 0
	}
	return luhn(s)
}

// ValidFrenchVAT checks FRkk + SIREN where kk = (12 + 3 × (SIREN mod 97)) mod 97.
func ValidFrenchVAT(vat, siren string) bool {
	if len(vat) != 13 || !strings.HasPrefix(vat, "FR") || vat[4:] != siren || !ValidSIREN(siren) {
		return false
	}
	var n int
	for _, c := range siren {
		n = (n*10 + int(c-'0')) % 97
	}
	return vat[2:4] == fmt.Sprintf("%02d", (12+3*n)%97)
}
