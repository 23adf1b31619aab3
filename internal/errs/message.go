package errs

import (
	"fmt"

	"github.com/relais-tierslieux/relais/internal/i18n"
)

// Message is a text for people kept as its English format and arguments,
// so that the api can say it in the reader's language: formatting is
// deferred to the moment the language is known. The French of each format
// is in internal/i18n's catalogue. A Message given as an argument of
// another is said in the same language.
type Message struct {
	format string
	args   []any
}

// Msg is the Message of format and args (the format a string literal, so
// that the catalogue test finds it).
func Msg(format string, args ...any) Message { return Message{format: format, args: args} }

// Empty reports whether m is the zero Message (no text).
func (m Message) Empty() bool { return m.format == "" }

// String is the English.
func (m Message) String() string { return fmt.Sprintf(m.format, m.args...) }

// In is the message in lang.
func (m Message) In(lang i18n.Lang) string { return i18n.Sprintf(lang, m.format, m.args...) }

// Verbatim marks a text that is shown as it is in every language: another
// system's words (a device's error, a database's), never Relais's own. It
// returns s; the catalogue test accepts it where it asks for a literal.
func Verbatim(s string) string { return s }
