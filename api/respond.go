package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/relais-tierslieux/relais/internal/id"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeJSONNow writes a whole JSON answer with its length and sends it at
// once, for a handler that has more to do after answering.
func writeJSONNow(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types: a programming error
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
	http.NewResponseController(w).Flush()
}

// list is the envelope of every paginated list.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// listOf converts a whole, unpaginated list for the response envelope.
func listOf[T, J any](items []T, conv func(*T) J) list[J] {
	out := list[J]{Items: make([]J, len(items))}
	for i := range items {
		out.Items[i] = conv(&items[i])
	}
	return out
}

const (
	defaultLimit = 50
	maxLimit     = 200
)

// page reads ?limit= and ?cursor=. Cursors are opaque to clients: today the
// base64 of the last id seen.
func page(r *http.Request) (after string, limit int, err error) {
	limit = defaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, convErr := strconv.Atoi(v)
		if convErr != nil || n < 1 || n > maxLimit {
			return "", 0, badRequestf(http.StatusBadRequest, "invalid_parameter", "limit", "limit must be an integer from 1 to %d", maxLimit)
		}
		limit = n
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		b, decErr := base64.RawURLEncoding.DecodeString(c)
		if decErr != nil || !id.Valid(string(b)) {
			return "", 0, badRequest(http.StatusBadRequest, "invalid_parameter", "cursor", "cursor is not one this API returned")
		}
		after = string(b)
	}
	return after, limit, nil
}

func cursor(lastID string) string {
	if lastID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

// timestamp is an RFC 3339 time with an offset, required in requests.
type timestamp struct{ time.Time }

func (t *timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: "a non-string", Type: timestampType}
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: strconv.Quote(s), Type: timestampType}
	}
	t.Time = v.UTC()
	return nil
}

var timestampType = reflect.TypeOf(timestamp{})

// queryTime reads an optional RFC 3339 query parameter.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequestf(http.StatusBadRequest, "invalid_parameter", name, "%s must be an RFC 3339 time such as 2026-03-10T09:00:00+01:00", name)
	}
	return t.UTC(), nil
}
