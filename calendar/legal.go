package calendar

import (
	"strings"
	"unicode/utf8"

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
	// VATExemptBasis says why a VAT-exempt entity charges no VAT, as its
	// invoices must (art. 242 nonies A of annex II to the CGI):
	// "293B" (the default, franchise en base) or "261-7-1" (services of a
	// non-profit body to its members, art. 261-7-1° of the CGI). Empty when
	// the entity charges VAT.
	VATExemptBasis string `json:"vat_exempt_basis,omitempty"`
	// Address of the registered office, when it differs from the site's.
	Address *Address `json:"address,omitempty"`

	// What art. R123-237 and R123-238 of the Code de commerce make a
	// registered business print on its invoices: the registry and the town
	// of its court ("RCS Limoges 732 829 320", the number being the SIREN),
	// and for a commercial company its share capital, or that it is
	// variable. Registry is "RCS", "RM" (répertoire des métiers) or "none"
	// (dispensé d'immatriculation, as an association is); empty on sites
	// created before these fields.
	ShareCapitalCents int64  `json:"share_capital_cents,omitempty"`
	VariableCapital   bool   `json:"variable_capital,omitempty"`
	Registry          string `json:"registry,omitempty"`
	RegistryCity      string `json:"registry_city,omitempty"`
	// RNA is an association's number in the Répertoire national des
	// associations: W and 9 digits.
	RNA string `json:"rna,omitempty"`
}

// Registries of Legal.Registry.
const (
	RegistryRCS  = "RCS"
	RegistryRM   = "RM"
	RegistryNone = "none"
)

// VAT exemption bases of Legal.VATExemptBasis.
const (
	VATExemptFranchise   = "293B"
	VATExemptNonProfit   = "261-7-1"
	legalKindCompany     = "company"
	legalKindAssociation = "association"
)

// LegalKind classifies a legal form: "company" for a commercial company
// (which prints its capital and RCS registration), "association", or ""
// for anything else (an individual, a foundation, a public body).
func LegalKind(form string) string {
	f := strings.ToUpper(form)
	if strings.Contains(f, "ASSOCIATION") {
		return legalKindAssociation
	}
	for _, w := range strings.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == '-' || r == ',' || r == '(' || r == ')' || r == '/' }) {
		switch w {
		case "SA", "SAS", "SASU", "SARL", "EURL", "SCIC", "SCOP", "SNC", "SCA", "SCS", "SELARL", "SELAS":
			return legalKindCompany
		}
	}
	return ""
}

func (l *Legal) normalize() {
	l.SIREN = legalid.Normalize(l.SIREN)
	l.SIRET = legalid.Normalize(l.SIRET)
	l.VATNumber = strings.ToUpper(legalid.Normalize(l.VATNumber))
	l.CompanyName = strings.TrimSpace(l.CompanyName)
	l.LegalForm = strings.TrimSpace(l.LegalForm)
	l.RNA = strings.ToUpper(legalid.Normalize(l.RNA))
	l.RegistryCity = strings.TrimSpace(l.RegistryCity)
	if l.VATExempt && l.VATExemptBasis == "" {
		l.VATExemptBasis = VATExemptFranchise
	}
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
	l.validateRegistration(v, field)
}

// validateRegistration checks the form of the registration fields; which
// ones an entity needs is validateComplete's.
func (l Legal) validateRegistration(v *errs.Validator, field string) {
	switch l.VATExemptBasis {
	case "":
	case VATExemptFranchise, VATExemptNonProfit:
		v.Check(l.VATExempt, field+".vat_exempt_basis", "only for a VAT-exempt entity")
	default:
		v.Add(field+".vat_exempt_basis", "must be 293B or 261-7-1")
	}
	v.Check(l.ShareCapitalCents >= 0 && l.ShareCapitalCents <= 1_000_000_000_000_00, field+".share_capital_cents", "must be between 0 and 100000000000000")
	switch l.Registry {
	case RegistryRCS, RegistryRM:
		v.Check(l.RegistryCity != "" && utf8.RuneCountInString(l.RegistryCity) <= 100, field+".registry_city", "is required with RCS or RM: the town of the registry (e.g. Limoges), at most 100 characters")
	case "", RegistryNone:
		v.Check(l.RegistryCity == "", field+".registry_city", "only with registry RCS or RM")
	default:
		v.Add(field+".registry", "must be RCS, RM or none")
	}
	if l.RNA != "" {
		v.Check(len(l.RNA) == 10 && l.RNA[0] == 'W' && legalid.AllDigits(l.RNA[1:]), field+".rna", "must be W followed by 9 digits")
	}
}

// registered reports whether l gives any registration field: then it must
// give all its invoices need. An identity without any (sites created before
// these fields, and clients that do not know them yet) stays valid, since
// refusing it would stop invoicing; openapi.yaml warns that a commercial
// company's invoices then lack mentions the Code de commerce requires.
func (l Legal) registered() bool {
	return l.Registry != "" || l.ShareCapitalCents != 0 || l.VariableCapital || l.RNA != ""
}

// validateComplete checks that an identity giving its registration gives
// what its invoices must print. office is the registered office's address.
func (l Legal) validateComplete(v *errs.Validator, field string, office Address) {
	if !l.registered() {
		return
	}
	switch LegalKind(l.LegalForm) {
	case legalKindCompany:
		v.Check(l.Registry == RegistryRCS, field+".registry", "a commercial company is registered at the RCS (art. R123-237 of the Code de commerce)")
		v.Check(l.ShareCapitalCents > 0 || l.VariableCapital, field+".share_capital_cents", "a commercial company prints its share capital (or variable_capital) on its invoices")
		v.Check(l.RNA == "", field+".rna", "only for an association")
		v.Check(l.VATExemptBasis != VATExemptNonProfit, field+".vat_exempt_basis", "261-7-1 is for non-profit bodies")
	case legalKindAssociation:
		v.Check(l.Registry == "" || l.Registry == RegistryNone, field+".registry", "an association is not registered at the RCS or RM: none")
		v.Check(l.ShareCapitalCents == 0 && !l.VariableCapital, field+".share_capital_cents", "an association has no share capital")
		// Associations of Alsace-Moselle are entered in the register of their
		// tribunal judiciaire under local law, not the RNA.
		local := strings.HasPrefix(office.PostalCode, "57") || strings.HasPrefix(office.PostalCode, "67") || strings.HasPrefix(office.PostalCode, "68")
		v.Check(l.RNA != "" || local && office.Country == "FR", field+".rna", "an association gives its RNA number (W and 9 digits)")
	}
}

// office is the registered office of the site's entity.
func (l Legal) office(site Address) Address {
	if l.Address != nil {
		return *l.Address
	}
	return site
}

// sameLegal reports whether two normalized identities are the same.
func sameLegal(a, b Legal) bool {
	if (a.Address == nil) != (b.Address == nil) || a.Address != nil && *a.Address != *b.Address {
		return false
	}
	a.Address, b.Address = nil, nil
	return a == b
}
