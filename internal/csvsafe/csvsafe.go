// Package csvsafe writes text into CSV exports that managers open in a
// spreadsheet.
package csvsafe

import "strings"

// Cell keeps a spreadsheet from running text as a formula: a buyer named
// "=HYPERLINK(…)" or a reason starting with "+" is written as text.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
