// Package searchkey is the one normalisation of what a front desk types to
// find someone: lower case, accents removed (« Hélène » is found by
// « helene »), phone numbers as digits in their international and French
// national forms (« 06 12 34 56 78 » finds +33612345678). identity stores
// Of(name, email, phone) with each account (users.search_key) and people
// matches Query(q) against it with a LIKE, so both engines compare the
// same bytes (SQLite's lower() only folds ASCII, and neither engine
// removes accents without an extension).
package searchkey

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold lower-cases s and removes its combining marks (é → e, ç → c).
// œ and æ become oe and ae, ß ss, so that typing either finds both.
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		switch r = unicode.ToLower(r); r {
		case 'œ':
			b.WriteString("oe")
		case 'æ':
			b.WriteString("ae")
		case 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Of is the stored key of an account: its folded name and email, and its
// phone (E.164) as digits, plus the French national form (0 and nine
// digits) for a +33 number. Parts are separated by a space, so that a
// query never matches across two of them.
func Of(name, email, phone string) string {
	parts := []string{strings.Join(strings.Fields(Fold(name)), " ")}
	if email != "" {
		parts = append(parts, Fold(email))
	}
	if d := digits(phone); d != "" {
		parts = append(parts, d)
		if strings.HasPrefix(d, "33") && len(d) == 11 {
			parts = append(parts, "0"+d[2:])
		}
	}
	return strings.Join(parts, " | ")
}

// Query normalises what was typed the same way: a query made only of
// digits, spaces, dots, dashes and a leading + is a phone number and
// becomes its digits; anything else is folded, its spaces collapsed.
func Query(q string) string {
	q = strings.TrimSpace(q)
	if looksLikePhone(q) {
		return digits(q)
	}
	return strings.Join(strings.Fields(Fold(q)), " ")
}

func looksLikePhone(q string) bool {
	n := 0
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == ' ' || r == '.' || r == '-' || (r == '+' && i == 0):
		default:
			return false
		}
	}
	return n >= 3
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// EscapeLike escapes the LIKE wildcards of s for a pattern with ESCAPE '\'.
func EscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
