package invoicing

import (
	"context"
	"fmt"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/relais-tierslieux/relais/calendar"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
)

// PDF renders a stored document. The same document always gives the same
// bytes: the PDF's dates are its issue date.
func (iv *Invoicer) PDF(ctx context.Context, invoiceID string) ([]byte, error) {
	inv, err := iv.Get(ctx, invoiceID)
	if err != nil {
		return nil, err
	}
	return renderPDF(inv)
}

// SellerLines is the legal identity of a seller under its name: trade
// name, address, legal form, SIREN and SIRET, VAT number. What is missing
// (a place without a legal identity yet) is left out.
func SellerLines(s Seller) []string {
	var lines []string
	if s.TradeName != "" {
		lines = append(lines, s.TradeName)
	}
	lines = append(lines, AddressLines(s.Address)...)
	if l := LegalLine(s); l != "" {
		lines = append(lines, l)
	}
	if s.SIREN != "" || s.SIRET != "" {
		lines = append(lines, "SIREN "+s.SIREN+" — SIRET "+s.SIRET)
	}
	if s.VATNumber != "" {
		lines = append(lines, "N° TVA intracommunautaire : "+s.VATNumber)
	}
	return lines
}

// renderPDF lays out seller, document and buyer blocks, the lines, the
// per-rate totals and the mentions. The stored document keeps the text a
// PDF font cannot print.
func renderPDF(inv *Invoice) ([]byte, error) {
	title, name := "FACTURE", "Facture"
	if inv.Kind == KindCreditNote {
		title, name = "AVOIR", "Avoir"
	}
	pdf, tr := relpdf.New(title+" "+inv.Number, inv.Seller.Name, inv.IssuedAt, name+" n° "+inv.Number, "Empreinte SHA-256 : "+inv.Hash)
	pdf.AddPage()
	pdfParties(pdf, tr, inv, title)
	pdfLines(pdf, tr, inv)
	pdfTotals(pdf, tr, inv)
	pdfMentions(pdf, tr, inv)
	return relpdf.Bytes(pdf, "invoice "+inv.Number)
}

// pdfParties writes the seller (top left), the document's identity (top
// right) and the buyer below it.
func pdfParties(pdf *fpdf.Fpdf, tr func(string) string, inv *Invoice, title string) {
	block := func(x, w, h float64, lines []string) { relpdf.Block(pdf, tr, x, w, h, lines) }

	// Seller, top left.
	s := inv.Seller
	pdf.SetFont("Helvetica", "B", 12)
	block(relpdf.Margin, 90, 6, []string{s.Name})
	pdf.SetFont("Helvetica", "", 9)
	block(relpdf.Margin, 90, 4.5, SellerLines(s))
	sellerBottom := pdf.GetY()

	// Document identity, top right.
	pdf.SetY(relpdf.Margin)
	pdf.SetFont("Helvetica", "B", 16)
	block(relpdf.Right, 0, 8, []string{title})
	pdf.SetFont("Helvetica", "", 9)
	ident := []string{
		"N° " + inv.Number,
		"Date d'émission : " + relpdf.FrenchDate(inv.IssuedAt),
		servicePeriod(inv),
	}
	if inv.Kind == KindCreditNote && inv.CorrectsIssuedAt != nil {
		ident = append(ident, fmt.Sprintf("Facture d'origine : n° %s du %s", inv.CorrectsNumber, relpdf.FrenchDate(*inv.CorrectsIssuedAt)))
	}
	if inv.DueDate != "" {
		ident = append(ident, "Échéance : "+frenchDay(inv.DueDate))
	}
	block(relpdf.Right, 0, relpdf.Line, ident)

	// Buyer, right, below the identity.
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 9)
	block(relpdf.Right, 0, relpdf.Line, []string{"Client"})
	pdf.SetFont("Helvetica", "", 9)
	buyer := append([]string{inv.BuyerName}, AddressLines(inv.BuyerAddress)...)
	if inv.BuyerIsBusiness {
		buyer = append(buyer, "SIREN "+inv.BuyerSIREN)
		if inv.BuyerVATNumber != "" {
			buyer = append(buyer, "N° TVA intracommunautaire : "+inv.BuyerVATNumber)
		}
	}
	block(relpdf.Right, 0, relpdf.Line, buyer)
	pdf.SetXY(relpdf.Margin, max(sellerBottom, pdf.GetY())+10)
}

// pdfLines writes the table of lines, breaking pages between lines.
func pdfLines(pdf *fpdf.Fpdf, tr func(string) string, inv *Invoice) {
	// Lines.
	cols := []struct {
		head  string
		w     float64
		align string
	}{
		{"Désignation", 72, "L"}, {"Qté", 16, "R"}, {"PU HT", 24, "R"},
		{"TVA", 16, "R"}, {"Total HT", 26, "R"}, {"Total TTC", 26, "R"},
	}
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetFillColor(235, 235, 235)
	for _, c := range cols {
		pdf.CellFormat(c.w, 7, tr(c.head), "1", 0, c.align, true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
	for _, l := range inv.Lines {
		desc := l.Description
		if l.PriceBasis == "ttc" {
			desc += "\n(prix unitaire TTC " + Euro(l.UnitPriceTTCCents) + ")"
		}
		desc += discountText(l)
		// SplitText measures UTF-8 (it would mangle cp1252 bytes), so it only
		// estimates the height to decide on a page break; MultiCell, which
		// works on the translated bytes, draws the text and gives the height.
		if estimate := float64(len(pdf.SplitText(desc, cols[0].w))) * relpdf.Line; pdf.GetY()+estimate > 297-25 {
			pdf.AddPage()
		}
		x, y := pdf.GetX(), pdf.GetY()
		pdf.MultiCell(cols[0].w, relpdf.Line, tr(desc), "", "L", false)
		h := pdf.GetY() - y
		pdf.Rect(x, y, cols[0].w, h, "D")
		pdf.SetXY(x+cols[0].w, y)
		cells := []string{
			formatQuantity(l.QuantityMilli), Euro(l.UnitPriceHTCents), formatRate(l.VATRateBP),
			Euro(l.TotalHTCents), Euro(l.TotalTTCCents),
		}
		for i, v := range cells {
			pdf.CellFormat(cols[i+1].w, h, tr(v), "1", 0, "R", false, 0, "")
		}
		pdf.SetXY(x, y+h)
	}
}

// pdfTotals writes the totals per VAT rate, then the document's.
func pdfTotals(pdf *fpdf.Fpdf, tr func(string) string, inv *Invoice) {
	// Totals per rate, then for the document.
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "B", 9)
	rateCols := []float64{30, 35, 35, 35}
	x := relpdf.Margin + relpdf.Width - (rateCols[0] + rateCols[1] + rateCols[2] + rateCols[3])
	pdf.SetX(x)
	for i, h := range []string{"Taux de TVA", "Base HT", "Montant TVA", "Total TTC"} {
		pdf.CellFormat(rateCols[i], 6, tr(h), "1", 0, "R", true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
	for _, r := range inv.VATBreakdown {
		pdf.SetX(x)
		for i, v := range []string{formatRate(r.RateBP), Euro(r.HTCents), Euro(r.VATCents), Euro(r.TTCCents)} {
			pdf.CellFormat(rateCols[i], 6, tr(v), "1", 0, "R", false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.Ln(3)
	for _, t := range []struct {
		label string
		cents int64
		bold  bool
	}{
		{"Total HT", inv.TotalHTCents, false},
		{"Total TVA", inv.TotalVATCents, false},
		{"Total TTC", inv.TotalTTCCents, true},
	} {
		style := ""
		if t.bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.SetX(relpdf.Margin + relpdf.Width - 70)
		pdf.CellFormat(35, 6, tr(t.label), "", 0, "R", false, 0, "")
		pdf.CellFormat(35, 6, tr(Euro(t.cents)), "", 1, "R", false, 0, "")
	}
}

// pdfMentions writes the payment and legal mentions, then free notes.
func pdfMentions(pdf *fpdf.Fpdf, tr func(string) string, inv *Invoice) {
	// Payment and legal mentions, then free notes.
	pdf.Ln(6)
	pdf.SetFont("Helvetica", "B", 9)
	pdf.CellFormat(0, relpdf.Line, tr("Paiement et mentions légales"), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	for _, m := range inv.Mentions {
		pdf.MultiCell(0, 4.5, tr(m), "", "L", false)
	}
	if inv.Notes != "" {
		pdf.Ln(3)
		pdf.MultiCell(0, 4.5, tr(inv.Notes), "", "L", false)
	}
}

// discountText prints a discounted line's list price, its discount with
// the reason, and the net the totals are computed on (VAT on the net), in
// the line's price basis.
func discountText(l InvoiceLine) string {
	if l.DiscountCents == 0 {
		return ""
	}
	basis, unit, net := "HT", l.UnitPriceHTCents, l.TotalHTCents
	if l.PriceBasis == "ttc" {
		basis, unit, net = "TTC", l.UnitPriceTTCCents, l.TotalTTCCents
	}
	list := roundHalfUp(l.QuantityMilli*abs(unit), 1000)
	if unit < 0 {
		list = -list
	}
	return fmt.Sprintf("\nPrix catalogue : %s %s\nRemise : -%s %s (%s)\nNet : %s %s",
		Euro(list), basis, Euro(l.DiscountCents), basis, l.DiscountReason, Euro(net), basis)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func servicePeriod(inv *Invoice) string {
	if inv.ServiceTo == "" || inv.ServiceTo == inv.ServiceFrom {
		return "Date de la prestation : " + frenchDay(inv.ServiceFrom)
	}
	return fmt.Sprintf("Période de la prestation : du %s au %s", frenchDay(inv.ServiceFrom), frenchDay(inv.ServiceTo))
}

func AddressLines(a calendar.Address) []string {
	lines := []string{a.Line1}
	if a.Line2 != "" {
		lines = append(lines, a.Line2)
	}
	city := strings.TrimSpace(a.PostalCode + " " + a.City)
	if a.Country != "" && a.Country != "FR" {
		city += " (" + a.Country + ")"
	}
	return append(lines, city)
}

// Euro prints cents as a French amount: 123456 → "1 234,56 €", with
// no-break spaces so an amount never wraps.
func Euro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := fmt.Sprintf("%d", cents/100)
	var grouped strings.Builder
	for i, d := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			grouped.WriteRune('\u00a0')
		}
		grouped.WriteRune(d)
	}
	return fmt.Sprintf("%s%s,%02d\u00a0€", sign, grouped.String(), cents%100)
}

// formatRate prints basis points as a French percentage: 550 → "5,5 %".
func formatRate(bp int) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d\u00a0%%", bp/100)
	}
	return strings.TrimRight(fmt.Sprintf("%d,%02d", bp/100, bp%100), "0") + "\u00a0%"
}

// LegalLine is the seller's form and registration as the Code de commerce
// has it printed (art. R123-237 and R123-238): "SAS au capital de
// 10 000 €, RCS Limoges 732 829 320", "SCIC SAS à capital variable, RCS
// Tulle 123 456 789", "Association loi 1901, dispensée d'immatriculation,
// RNA W872001234". Only what the seller gave.
func LegalLine(s Seller) string {
	var parts []string
	form := s.LegalForm
	switch {
	case s.ShareCapitalCents > 0 && s.VariableCapital:
		form += " à capital variable, au capital de " + capitalText(s.ShareCapitalCents)
	case s.ShareCapitalCents > 0:
		form += " au capital de " + capitalText(s.ShareCapitalCents)
	case s.VariableCapital:
		form += " à capital variable"
	}
	if form = strings.TrimSpace(form); form != "" {
		parts = append(parts, form)
	}
	switch s.Registry {
	case calendar.RegistryRCS, calendar.RegistryRM:
		parts = append(parts, s.Registry+" "+s.RegistryCity+" "+groupedSIREN(s.SIREN))
	case calendar.RegistryNone:
		parts = append(parts, "dispensée d'immatriculation")
	}
	if s.RNA != "" {
		parts = append(parts, "RNA "+s.RNA)
	}
	return strings.Join(parts, ", ")
}

// capitalText prints a share capital: whole euros without cents.
func capitalText(cents int64) string {
	e := Euro(cents)
	if cents%100 == 0 {
		e = strings.Replace(e, ",00", "", 1)
	}
	return e
}

// groupedSIREN prints a SIREN in groups of three, as registries do.
func groupedSIREN(siren string) string {
	if len(siren) != 9 {
		return siren
	}
	return siren[:3] + "\u00a0" + siren[3:6] + "\u00a0" + siren[6:]
}
