package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/relais-tierslieux/relais/internal/errs"
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

func newProblem(status int, kind, detail string) problem {
	return problem{Type: problemBase + kind, Title: http.StatusText(status), Status: status, Detail: detail}
}

// writeProblem sends p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p problem) {
	p.RequestID = requestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
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
		p := newProblem(bad.status, bad.kind, bad.detail)
		if bad.field != "" {
			p.Errors = []errs.FieldError{{Field: bad.field, Reason: bad.detail}}
		}
		writeProblem(w, r, p)
	case errors.As(err, &fr):
		p := newProblem(http.StatusForbidden, "forbidden", fr.Detail)
		p.Errors = []errs.FieldError{{Field: fr.Field, Reason: fr.Detail}}
		writeProblem(w, r, p)
	case errors.As(err, &ve):
		p := newProblem(http.StatusUnprocessableEntity, "validation", "the request has invalid fields")
		p.Errors = ve.Fields
		writeProblem(w, r, p)
	case errors.As(err, &rl):
		secs := int(rl.RetryAfter.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeProblem(w, r, newProblem(http.StatusTooManyRequests, "rate_limited", "too many attempts; retry after "+strconv.Itoa(secs)+" s"))
	case errors.Is(err, idempotency.ErrMismatch):
		writeProblem(w, r, newProblem(http.StatusUnprocessableEntity, "idempotency_key_reused", err.Error()))
	case errors.Is(err, idempotency.ErrInProgress):
		writeProblem(w, r, newProblem(http.StatusConflict, "idempotency_key_in_progress", err.Error()))
	case errors.As(err, &pr):
		status := statusOf(pr.Kind)
		if status == http.StatusInternalServerError {
			s.internalError(w, r, err)
			return
		}
		p := newProblem(status, pr.Code, pr.Detail)
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
		writeProblem(w, r, newProblem(status, kindOf(status), err.Error()))
	}
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
// (malformed JSON, wrong content type, bad query parameter).
type badRequestError struct {
	status int
	kind   string
	field  string
	detail string
}

func (e *badRequestError) Error() string { return e.detail }

func badRequest(status int, kind, field, detail string) error {
	return &badRequestError{status: status, kind: kind, field: field, detail: detail}
}

// unauthorized answers 401 with the WWW-Authenticate challenge RFC 6750 asks for.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	var bad *badRequestError
	if errors.Is(err, errs.ErrUnauthenticated) || (errors.As(err, &bad) && bad.status == http.StatusUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="relais"`)
	}
	s.writeError(w, r, err)
}
