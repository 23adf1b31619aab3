// Package freetext holds the one rule for text that people type and Relais
// stores or prints: names, reasons, notes, messages, addresses, the cells
// of an imported file. The api package applies it to every string of every
// request (JSON bodies, query parameters, path values); importers apply it
// to what they read.
//
// Refused everywhere:
//   - text that is not valid UTF-8;
//   - control characters: C0 (U+0000–U+001F), DEL (U+007F) and C1
//     (U+0080–U+009F). PostgreSQL cannot store U+0000 at all (a 500 and a
//     lost audit record before this rule), and the others corrupt CSV and
//     FEC exports, logs and PDFs, or hide text on screen;
//   - the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
//     U+2066–U+2069), which reorder what a reader sees ("Trojan Source"):
//     a name could display as something else in a manager's list or an
//     export. The marks LRM, RLM and ALM, which move nothing, stay allowed;
//   - the line and paragraph separators U+2028 and U+2029: a line break
//     that some readers honour and others ignore.
//
// Multi-line text (descriptions, notes, messages) may also hold line feeds,
// as LF or CR LF, and tabs; single-line text holds none of them, since it
// ends up in one cell of a CSV or tab-separated export, an invoice line or
// a log line. Every string is bounded in characters (MaxSingleLine,
// MaxMultiLine); fields whose domain has a tighter limit keep it.
package freetext

import (
	"strings"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// Kind says which characters a string may hold.
type Kind int

const (
	// SingleLine: names, reasons, references, addresses, ids, URLs.
	SingleLine Kind = iota
	// MultiLine: descriptions, notes, messages; LF, CR LF and tab allowed.
	MultiLine
	// Secret: passwords. Never stored as text (only a hash) nor shown, so
	// any character is accepted, as it was when the account was made;
	// only the length is bounded.
	Secret
)

// Default bounds, in characters, for a string no tighter rule covers. The
// longest text the domain accepts is a campaign's description (20,000
// bytes); a single line is a name, a reason, an address or a URL.
const (
	MaxSingleLine = 2000
	MaxMultiLine  = 20000
)

// Check returns "" when s obeys the rule for kind, otherwise the reason,
// phrased to follow a field's name ("reason: must not contain …").
func Check(s string, kind Kind) string { return Reason(s, kind).String() }

// Reason is Check's reason as a message that the api says in the reader's
// language; empty (Message.Empty) when s obeys the rule.
func Reason(s string, kind Kind) errs.Message {
	limit := MaxSingleLine
	if kind == MultiLine {
		limit = MaxMultiLine
	}
	n := 0
	for i, r := range s {
		if n++; n > limit {
			return errs.Msg("must be at most %d characters", limit)
		}
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return errs.Msg("must be valid UTF-8")
		}
		if kind == Secret {
			continue
		}
		// A CR only as the first half of CR LF: a lone CR is a line break
		// some readers honour and others print over.
		loneCR := r == '\r' && !strings.HasPrefix(s[i+1:], "\n")
		if refused(r, kind) || (kind == MultiLine && loneCR) {
			return errs.Msg("must not contain %s (%U at character %d)", describe(r, kind), r, n)
		}
	}
	return errs.Message{}
}

// refused reports whether r breaks the rule for kind (a lone CR aside).
func refused(r rune, kind Kind) bool {
	switch {
	case r == '\n' || r == '\r' || r == '\t':
		return kind != MultiLine
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return false
}

func describe(r rune, kind Kind) errs.Message {
	switch {
	case r == '\n' || r == '\r' || r == '\t':
		if kind == MultiLine {
			return errs.Msg("a carriage return other than in CR LF")
		}
		return errs.Msg("line breaks or tabs")
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		if kind == MultiLine {
			return errs.Msg("control characters other than line feeds and tabs")
		}
		return errs.Msg("control characters")
	case r == 0x2028 || r == 0x2029:
		return errs.Msg("line or paragraph separators")
	}
	return errs.Msg("bidirectional override characters")
}

// Clean returns s with whatever Check refuses in single-line text (invalid
// UTF-8, control, override and separator characters) replaced by U+FFFD,
// and cut to at most max bytes at a character boundary. It is for text
// Relais keeps but does not ask for — a browser's User-Agent, a device's
// error message — where refusing would be wrong and storing the bytes as
// they came could fail (PostgreSQL) or mislead a reader.
func Clean(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if refused(r, SingleLine) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
