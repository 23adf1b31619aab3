// Package errs holds the small set of error kinds that domain packages return
// and that the api package alone turns into HTTP statuses. Domain code wraps
// these with context (fmt.Errorf("...: %w", errs.ErrNotFound)); callers test
// with errors.Is / errors.As.
package errs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/internal/i18n"
)

var (
	// ErrNotFound: the object does not exist or the caller may not know it exists.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request collides with the current state (duplicate, taken slot).
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated: no valid credentials.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: valid credentials, but not allowed to do this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: a dependency (payment provider, device) cannot be reached now.
	ErrUnavailable = errors.New("unavailable")
	// ErrInvalid: well-formed input that breaks a named rule (see Rule).
	ErrInvalid = errors.New("invalid")
	// ErrPaymentRequired: the member has not paid for this (no membership,
	// included hours used up).
	ErrPaymentRequired = errors.New("payment required")
	// ErrGatewayTimeout: a device was sent a command and did not confirm it in
	// time (the command expired, so it can no longer act).
	ErrGatewayTimeout = errors.New("gateway timeout")
	// ErrBadGateway: a device answered, with an error.
	ErrBadGateway = errors.New("bad gateway")
)

// FieldError names one invalid input field and why it is invalid. Reason
// is the English; msg keeps how it was written, so that the api can say it
// in the reader's language (ReasonIn).
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
	msg    Message
}

// Fieldf is the FieldError of field, its reason formatted from format.
func Fieldf(field, format string, args ...any) FieldError {
	m := Msg(format, args...)
	return FieldError{Field: field, Reason: m.String(), msg: m}
}

// ReasonIn is the reason in lang: Reason itself in English, the catalogue's
// French otherwise (or the English when the catalogue has none).
func (f FieldError) ReasonIn(lang i18n.Lang) string {
	return inLang(lang, f.Reason, f.msg)
}

// inLang says text (the English of msg, or a fixed text when msg is unset)
// in lang. English is always text itself, byte for byte.
func inLang(lang i18n.Lang, text string, msg Message) string {
	switch {
	case lang == i18n.English:
		return text
	case msg.format == "":
		return i18n.Text(lang, text)
	}
	return msg.In(lang)
}

// ValidationError is returned when input is well-formed but breaks a rule.
// It always names at least one field.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Invalid builds a ValidationError for one field.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Fields: []FieldError{Fieldf(field, format, args...)}}
}

// Validator collects field errors so a request can report all of them at once.
type Validator struct {
	fields []FieldError
}

// Add records a field error.
func (v *Validator) Add(field, format string, args ...any) {
	v.fields = append(v.fields, Fieldf(field, format, args...))
}

// Check records a field error when ok is false.
func (v *Validator) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Err returns nil when nothing was recorded, otherwise a *ValidationError.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}

// RateLimitedError says the caller must wait before trying again.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s", e.RetryAfter)
}

// Problem is a domain error that carries its own HTTP-independent code and a
// human message, for refusals that deserve a specific name (e.g. a booking
// rule). Kind is one of the sentinel errors above; Code is a short stable
// machine name such as "slot_taken".
type Problem struct {
	Kind   error
	Code   string
	Detail string
	// Fields names the input fields at fault, when there are any.
	Fields []FieldError
	// Extra is merged into the problem document (e.g. the conflicting interval).
	Extra map[string]any
	// msg is Detail's format and arguments when it was formatted (Rule,
	// Problemf); unset, Detail is a fixed text.
	msg Message
}

// Rule is a refusal of well-formed input that breaks a named rule, such as
// a booking outside opening hours: a 422 whose code names the rule.
func Rule(field, code, format string, args ...any) *Problem {
	f := Fieldf(field, format, args...)
	return &Problem{Kind: ErrInvalid, Code: code, Detail: f.Reason, Fields: []FieldError{f}, msg: f.msg}
}

// Problemf is a Problem whose detail is formatted from format and args: use
// it rather than Detail: fmt.Sprintf(...), which could not be translated.
func Problemf(kind error, code, format string, args ...any) *Problem {
	m := Msg(format, args...)
	return &Problem{Kind: kind, Code: code, Detail: m.String(), msg: m}
}

// DetailIn is the detail in lang (see FieldError.ReasonIn).
func (p *Problem) DetailIn(lang i18n.Lang) string { return inLang(lang, p.Detail, p.msg) }

func (p *Problem) Error() string { return p.Code + ": " + p.Detail }
func (p *Problem) Unwrap() error { return p.Kind }

// Refusal is a 403 whose message says why (or what to do instead): it
// renders like ErrForbidden, with its own detail and no code.
type Refusal string

func (r Refusal) Error() string { return string(r) }
func (Refusal) Unwrap() error   { return ErrForbidden }

// FieldRefusal is a 403 about one input field (a site the caller does not
// manage, say): it names the field and, unlike a Problem, carries no code
// of its own, as the plain "forbidden" answers do.
type FieldRefusal struct {
	Field  string
	Detail string
}

// Refused is the FieldRefusal of field, saying why.
func Refused(field, detail string) *FieldRefusal { return &FieldRefusal{Field: field, Detail: detail} }

func (e *FieldRefusal) Error() string { return e.Field + ": " + e.Detail }

// DetailIn is the detail in lang (a fixed text, see FieldError.ReasonIn).
func (e *FieldRefusal) DetailIn(lang i18n.Lang) string { return inLang(lang, e.Detail, Message{}) }
func (e *FieldRefusal) Unwrap() error                  { return ErrForbidden }

// Merge adds the fields of err, when it is a *ValidationError, and returns
// any other non-nil error unchanged so the caller can handle it.
func (v *Validator) Merge(err error) error {
	var ve *ValidationError
	if errors.As(err, &ve) {
		v.fields = append(v.fields, ve.Fields...)
		return nil
	}
	return err
}
