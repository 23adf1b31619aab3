package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/i18n"
	"github.com/relais-tierslieux/relais/internal/idempotency"
)

// problem is an RFC 9457 problem document. Type is a stable URN per kind of
// problem; Code names the precise rule when a domain package gave one.
type problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Code      string            `json:"code,omitempty"`
	Errors    []errs.FieldError `json:"errors,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Extra     map[string]any    `json:"-"`
	// detailIn says Detail in the request's language; writeProblem sets
	// Title, Detail and the errors' reasons once that language is chosen.
	detailIn func(i18n.Lang) string
}

func (p problem) MarshalJSON() ([]byte, error) {
	type plain problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

const problemBase = "urn:relais:problem:"

// newProblem is a problem whose detail is a fixed English text (a literal:
// the catalogue test reads it), said in the request's language.
func newProblem(status int, kind, detail string) problem {
	return problemIn(status, kind, detail, func(l i18n.Lang) string { return i18n.Text(l, detail) })
}

// newProblemf is a problem whose detail is formatted from an English format.
func newProblemf(status int, kind, format string, args ...any) problem {
	m := errs.Msg(format, args...)
	return problemIn(status, kind, m.String(), m.In)
}

// problemIn is a problem whose detail is english in English and
// detailIn(lang) in another language.
func problemIn(status int, kind, english string, detailIn func(i18n.Lang) string) problem {
	return problem{Type: problemBase + kind, Title: http.StatusText(status), Status: status, Detail: english,
		detailIn: func(l i18n.Lang) string {
			if l == i18n.English {
				return english // byte for byte what the code wrote
			}
			return detailIn(l)
		}}
}

// writeProblem sends p as application/problem+json, in the request's
// language (title, detail and reasons; never type, code or field names).
func writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	lang := language(r)
	p.Title = i18n.Title(lang, p.Status)
	if p.detailIn != nil {
		p.Detail = p.detailIn(lang)
	}
	if len(p.Errors) > 0 {
		// A copy: the slice may be the domain error's own.
		reasons := make([]errs.FieldError, len(p.Errors))
		for i, f := range p.Errors {
			reasons[i] = errs.FieldError{Field: f.Field, Reason: errs.Verbatim(f.ReasonIn(lang))} // said already
		}
		p.Errors = reasons
	}
	p.RequestID = requestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Language", string(lang))
	w.Header().Add("Vary", "Accept-Language")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// writeError is the one place where errors become HTTP statuses. Errors that
// are not client mistakes are logged with the request id and answered with a
// bare 500: no SQL, no stack, no internals.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		ve  *errs.ValidationError
		rl  *errs.RateLimitedError
		pr  *errs.Problem
		fr  *errs.FieldRefusal
		bad *badRequestError
	)
	switch {
	case errors.As(err, &bad):
		p := problemIn(bad.status, bad.kind, bad.detail, bad.said.ReasonIn)
		if bad.field != "" {
			p.Errors = []errs.FieldError{bad.said}
		}
		writeProblem(w, r, p)
	case errors.As(err, &fr):
		p := problemIn(http.StatusForbidden, "forbidden", fr.Detail, fr.DetailIn)
		// Said in the reader's language by writeProblem, like any reason
		// without a format (its literal is collected at errs.Refused).
		p.Errors = []errs.FieldError{{Field: fr.Field, Reason: errs.Verbatim(fr.Detail)}}
		writeProblem(w, r, p)
	case errors.As(err, &ve):
		p := newProblem(http.StatusUnprocessableEntity, "validation", "the request has invalid fields")
		p.Errors = ve.Fields
		writeProblem(w, r, p)
	case errors.As(err, &rl):
		secs := int(rl.RetryAfter.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeProblem(w, r, newProblemf(http.StatusTooManyRequests, "rate_limited", "too many attempts; retry after %d s", secs))
	case errors.Is(err, idempotency.ErrMismatch):
		writeProblem(w, r, sentinelProblem(http.StatusUnprocessableEntity, "idempotency_key_reused", err,
			"this Idempotency-Key was used with a different request"))
	case errors.Is(err, idempotency.ErrInProgress):
		writeProblem(w, r, sentinelProblem(http.StatusConflict, "idempotency_key_in_progress", err,
			"a request with this Idempotency-Key is still in progress"))
	case errors.As(err, &pr):
		status := statusOf(pr.Kind)
		if status == http.StatusInternalServerError {
			s.internalError(w, r, err)
			return
		}
		p := problemIn(status, pr.Code, pr.Detail, pr.DetailIn)
		p.Code = pr.Code
		p.Errors = pr.Fields
		p.Extra = pr.Extra
		writeProblem(w, r, p)
	default:
		status := statusOf(err)
		if status == http.StatusInternalServerError {
			s.internalError(w, r, err)
			return
		}
		writeProblem(w, r, problemIn(status, kindOf(status), err.Error(), func(l i18n.Lang) string { return wrappedDetail(l, status, err) }))
	}
}

// sentinelProblem is the problem of an error of another package whose text
// is its English (err.Error(), as it always was) and whose French is the
// catalogue's for the text english, which is the sentinel's own.
func sentinelProblem(status int, kind string, err error, english string) problem {
	return problemIn(status, kind, err.Error(), func(l i18n.Lang) string { return i18n.Text(l, english) })
}

// wrappedDetail says an error that only wraps a sentinel (fmt.Errorf("…: %w",
// errs.ErrNotFound)) in a language other than English: its text is the
// code's English context, so it gets a generic sentence for its status, or
// the refusal's own words when it is one.
func wrappedDetail(lang i18n.Lang, status int, err error) string {
	var refusal errs.Refusal
	if errors.As(err, &refusal) {
		return i18n.Text(lang, string(refusal))
	}
	if m, ok := genericDetail[status]; ok {
		return m.In(lang)
	}
	return err.Error()
}

// genericDetail is, per status, what a wrapped sentinel says in French
// (each is in the catalogue).
var genericDetail = map[int]errs.Message{
	http.StatusNotFound:            errs.Msg("not found: this object does not exist or you may not see it"),
	http.StatusConflict:            errs.Msg("conflict: the request collides with the current state; reload it and try again"),
	http.StatusUnauthorized:        errs.Msg("unauthenticated: log in again"),
	http.StatusForbidden:           errs.Msg("forbidden: you may not do this"),
	http.StatusServiceUnavailable:  errs.Msg("unavailable: a service Relais needs cannot be reached; try again in a minute"),
	http.StatusUnprocessableEntity: errs.Msg("invalid: the request breaks a rule"),
	http.StatusPaymentRequired:     errs.Msg("payment required: your plan does not cover this"),
	http.StatusGatewayTimeout:      errs.Msg("the device did not confirm in time"),
	http.StatusBadGateway:          errs.Msg("the device answered with an error"),
}

func statusOf(err error) int {
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errs.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errs.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, errs.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, errs.ErrInvalid):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errs.ErrPaymentRequired):
		return http.StatusPaymentRequired
	case errors.Is(err, errs.ErrGatewayTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, errs.ErrBadGateway):
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}

func kindOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusGatewayTimeout:
		return "gateway_timeout"
	case http.StatusBadGateway:
		return "bad_gateway"
	}
	return "error"
}

func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.ErrorContext(r.Context(), "internal error", slog.String("request_id", requestID(r.Context())),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	writeProblem(w, r, newProblem(http.StatusInternalServerError, "internal", "an internal error occurred; quote the request id when reporting it"))
}

// badRequestError is a client mistake found by the api layer itself
// (malformed JSON, wrong content type, bad query parameter). Its detail is
// also the reason of its field, when it names one.
type badRequestError struct {
	status int
	kind   string
	field  string
	detail string
	said   errs.FieldError // field and detail, to be said in the reader's language
}

func (e *badRequestError) Error() string { return e.detail }

// badRequest is a client mistake whose detail is a fixed English text.
func badRequest(status int, kind, field, detail string) error {
	return &badRequestError{status: status, kind: kind, field: field, detail: detail,
		said: errs.FieldError{Field: field, Reason: detail}}
}

// badRequestf is a client mistake whose detail is formatted.
func badRequestf(status int, kind, field, format string, args ...any) error {
	f := errs.Fieldf(field, format, args...)
	return &badRequestError{status: status, kind: kind, field: field, detail: f.Reason, said: f}
}

// unauthorized answers 401 with the WWW-Authenticate challenge RFC 6750 asks for.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequestError
	if errors.Is(err, errs.ErrUnauthenticated) || (errors.As(err, &bad) && bad.status == http.StatusUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="relais"`)
	}
	s.writeError(w, r, err)
}
