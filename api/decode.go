package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// maxBody is the largest request body accepted (1 MiB).
const maxBody = 1 << 20

// readBody returns the raw request body, refusing bodies over maxBody (413)
// and content types other than JSON (415).
func readBody(r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" {
		return nil, badRequest(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "the body must be application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest(http.StatusBadRequest, "malformed_body", "", "the body could not be read")
	}
	if len(body) > maxBody {
		return nil, badRequestf(http.StatusRequestEntityTooLarge, "body_too_large", "", "the body exceeds %d bytes", maxBody)
	}
	return body, nil
}

// decodeJSON parses body into dst strictly: unknown fields, trailing data,
// wrong types and malformed JSON are each a clear client error naming the
// field when there is one. Then every string of the body is checked
// against the text rule (checkText): this is the one place free text
// enters, so no handler can forget it.
func decodeJSON(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return badRequest(http.StatusBadRequest, "malformed_json", "", "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest(http.StatusBadRequest, "malformed_json", "", "unexpected data after the JSON value")
	}
	return checkText(body)
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return badRequest(http.StatusBadRequest, "malformed_json", "", "the body is empty")
	case errors.As(err, &syn):
		return badRequestf(http.StatusBadRequest, "malformed_json", "", "malformed JSON at byte %d", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest(http.StatusBadRequest, "malformed_json", "", "the JSON ends too early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return badRequest(http.StatusBadRequest, "malformed_json", "", "the body must be a JSON object")
		}
		if typ.Type == timestampType {
			return badRequestf(http.StatusUnprocessableEntity, "validation", field, "must be an RFC 3339 time with an offset, such as 2026-03-10T09:00:00+01:00, not %s", typ.Value)
		}
		return badRequestf(http.StatusUnprocessableEntity, "validation", field, "must be %s, not %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequestf(http.StatusBadRequest, "unknown_field", name, "unknown field %s", name)
	default:
		var fe *fieldError
		if errors.As(err, &fe) {
			return badRequest(http.StatusUnprocessableEntity, "validation", fe.field, errs.Verbatim(fe.reason))
		}
		return badRequest(http.StatusBadRequest, "malformed_json", "", "the body is not valid JSON for this request")
	}
}

// fieldError is returned by custom UnmarshalJSON methods (timestamps).
type fieldError struct{ field, reason string }

func (e *fieldError) Error() string { return e.field + ": " + e.reason }

func jsonTypeName(kind string) errs.Message {
	switch kind {
	case "string":
		return errs.Msg("a string")
	case "bool":
		return errs.Msg("a boolean")
	case "int", "int64", "int32", "uint", "uint64", "uint32", "float64":
		return errs.Msg("a number")
	case "slice", "array":
		return errs.Msg("an array")
	case "map", "struct", "ptr":
		return errs.Msg("an object")
	}
	return errs.Msg("of another type")
}

// decode reads and parses a JSON request body into dst.
func decode(r *http.Request, dst any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(body, dst)
}

// optional distinguishes an absent field (Set false) from an explicit null
// (Set true, Null true) in PATCH bodies.
type optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ptr returns the value when set and not null, else nil.
func (o optional[T]) ptr() *T {
	if !o.Set || o.Null {
		return nil
	}
	return &o.Value
}
