// Package pdf lays out the PDFs Relais writes (invoices, credit notes,
// receipts, statements) the same way: A4, the same margins and fonts, a
// footer on every page, and the same bytes for the same document.
package pdf

import (
	"bytes"
	"fmt"
	"time"
	_ "time/tzdata" // dates are Paris days: never depend on the host's zone files

	"codeberg.org/go-pdf/fpdf"
)

// Page geometry of every PDF of Relais (invoices, receipts, statements), in millimetres (A4 portrait, 15 mm margins).
const (
	Margin = 15.0
	Width  = 180.0 // 210 − 2 × 15
	Right  = 110.0 // x of the right-hand column (document, buyer)
	Line   = 5.0   // line height
)

// New starts an A4 document laid out as every PDF of Relais: dated at,
// with resources in a fixed order (fpdf walks maps otherwise), so the same
// document always gives the same bytes; footer's lines at the bottom of
// every page, the first followed by the page count. fpdf's core fonts use
// the cp1252 code page, which covers € and every French letter (é, è, à,
// ç, œ…); tr maps UTF-8 to it. A character outside cp1252 prints as ".".
func New(title, author string, at time.Time, footer ...string) (pdf *fpdf.Fpdf, tr func(string) string) {
	pdf = fpdf.New("P", "mm", "A4", "")
	tr = pdf.UnicodeTranslatorFromDescriptor("")
	pdf.SetMargins(Margin, Margin, Margin)
	pdf.SetAutoPageBreak(true, 20)
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCatalogSort(true)
	pdf.SetTitle(title, true)
	if author != "" {
		pdf.SetAuthor(author, true)
	}
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-15)
		pdf.SetFont("Helvetica", "", 7)
		for i, l := range footer {
			if i == 0 {
				l = fmt.Sprintf("%s — page %d/{nb}", l, pdf.PageNo())
			}
			ln := 1
			if i == len(footer)-1 {
				ln = 0
			}
			pdf.CellFormat(0, 4, tr(l), "", ln, "C", false, 0, "")
		}
	})
	return pdf, tr
}

// Block writes lines at x, wrapping those longer than the column w:
// names and addresses come from users.
func Block(pdf *fpdf.Fpdf, tr func(string) string, x, w, h float64, lines []string) {
	for _, l := range lines {
		pdf.SetX(x)
		pdf.MultiCell(w, h, tr(l), "", "L", false)
	}
}

// Bytes renders the finished document.
func Bytes(pdf *fpdf.Fpdf, what string) ([]byte, error) {
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %s: %w", what, err)
	}
	return buf.Bytes(), nil
}

// paris is where the places are: a document's dates are their Paris
// calendar days.
var paris = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err) // time/tzdata is embedded: cannot happen
	}
	return loc
}()

// FrenchDate prints an instant as its Paris calendar day, DD/MM/YYYY.
func FrenchDate(t time.Time) string { return t.In(paris).Format("02/01/2006") }
