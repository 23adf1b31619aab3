// Package legalid checks the identifiers of French legal entities — SIREN,
// SIRET, intra-community VAT numbers — and the identity of a buyer an
// invoice is made out to, for every package that takes them: calendar (a
// site's legal identity), invoicing (a document's buyer) and identity (a
// member's billing address). One rule, wherever the number is typed.
package legalid

import (
	"fmt"
	"strings"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// separators are what people type inside numbers ("732 829 320", "FR-44…").
var separators = strings.NewReplacer(" ", "", ".", "", "-", "")

// Normalize strips the separators people type inside a number.
func Normalize(s string) string { return separators.Replace(s) }

// AllDigits reports whether s is a non-empty string of ASCII digits.
func AllDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// luhn is the check digit of SIREN and SIRET numbers.
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
func ValidSIREN(s string) bool { return len(s) == 9 && AllDigits(s) && luhn(s) }

// ValidSIRET checks a 14-digit SIRET. La Poste's establishments (SIREN
// 356000000) use a digit-sum rule instead of Luhn.
func ValidSIRET(s string) bool {
	if len(s) != 14 || !AllDigits(s) {
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

// CheckBuyer normalises a buyer's SIREN and VAT number in place and checks
// them under field ("buyer" names "buyer.siren" and "buyer.vat_number"): a
// business needs a valid SIREN and, when its VAT number is French, the one
// of that SIREN (another EU number is only bounded); a private buyer has
// neither.
func CheckBuyer(v *errs.Validator, field string, business bool, siren, vat *string) {
	*siren = Normalize(*siren)
	*vat = strings.ToUpper(Normalize(*vat))
	if !business {
		v.Check(*siren == "", field+".siren", "applies only to a business buyer")
		v.Check(*vat == "", field+".vat_number", "applies only to a business buyer")
		return
	}
	v.Check(ValidSIREN(*siren), field+".siren", "is required for a business buyer: 9 digits with a valid check digit")
	switch {
	case strings.HasPrefix(*vat, "FR"):
		v.Check(ValidFrenchVAT(*vat, *siren), field+".vat_number", "is not the French VAT number of this SIREN")
	case *vat != "":
		v.Check(len(*vat) >= 4 && len(*vat) <= 16, field+".vat_number", "must be an EU VAT number")
	}
}
