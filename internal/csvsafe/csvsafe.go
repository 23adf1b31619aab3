// Package csvsafe writes the CSV exports that managers and members open in a
// spreadsheet. Every cell goes through Cell, so text that people typed (a
// name, a reason, an email) is never run as a formula; numbers stay numbers.
//
// Writer is the only way Relais writes CSV: a test fails when another
// package calls encoding/csv's NewWriter, so a new export cannot forget the
// protection.
package csvsafe

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cell returns s as a spreadsheet will show it as text, never run it as a
// formula. Excel, LibreOffice Calc and Google Sheets take a cell that starts
// with = + - or @ for a formula (=HYPERLINK(…) sends data away, =cmd|… ran
// programs through DDE); such a cell gets a leading single quote, which the
// spreadsheet reads as "this is text" (OWASP's CSV injection advice). Beyond
// those four, Cell also protects:
//   - a cell starting with any control character: tab, CR and NUL are on
//     OWASP's and ASVS's lists (a spreadsheet may drop them and read what
//     follows), and no cell Relais writes needs one in front;
//   - a trigger after leading white space (" =1+1", "\n@SUM(…)"): some
//     imports trim it (LibreOffice's "Trim spaces", Excel's text import);
//   - the fullwidth forms ＝ ＋ － ＠, which Excel in East Asian locales may
//     take for the ASCII ones.
//
// A plain number ("-12,50", "-1200", "3.5") is left as it is: a spreadsheet
// reads it as the number it is, which is no formula, and a quote would turn
// a negative amount into text that sums and accounting imports skip.
func Cell(s string) string {
	if s == "" || plainNumber(s) {
		return s
	}
	first, _ := utf8.DecodeRuneInString(s)
	if unicode.IsControl(first) {
		return "'" + s
	}
	next, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace))
	switch next {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠':
		return "'" + s
	}
	return s
}

// plainNumber reports whether s is an optional minus sign, digits, and
// optionally one decimal separator ("." or ",") followed by digits.
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ",")
	if !hasFrac {
		whole, frac, hasFrac = strings.Cut(s, ".")
	}
	return digits(whole) && (!hasFrac || digits(frac))
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Writer writes CSV records, every cell through Cell. Quoting of
// separators, quotes and line breaks inside a cell is encoding/csv's.
type Writer struct {
	cw  *csv.Writer
	row []string
}

// NewWriter returns a Writer to w separating fields with comma (',' when
// zero), ending lines with CRLF when crlf is set (what French spreadsheets
// expect of a ';' file) and LF otherwise.
func NewWriter(w io.Writer, comma rune, crlf bool) *Writer {
	cw := csv.NewWriter(w)
	if comma != 0 {
		cw.Comma = comma
	}
	cw.UseCRLF = crlf
	return &Writer{cw: cw}
}

// Write writes one record; record itself is left unchanged. Like
// encoding/csv, it buffers: the error of a failed write may only come from
// Flush.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, c := range record {
		w.row = append(w.row, Cell(c))
	}
	if err := w.cw.Write(w.row); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Flush writes out what is buffered and returns the first error of any
// Write or of the flush.
func (w *Writer) Flush() error {
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
