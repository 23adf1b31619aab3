package api

import (
	"errors"
	"net/http"
	"testing"
)

type fuzzTarget struct {
	Name   string            `json:"name"`
	Count  int               `json:"count"`
	When   timestamp         `json:"when"`
	Tags   []string          `json:"tags"`
	Nested map[string][]bool `json:"nested"`
	Opt    optional[int]     `json:"opt"`
}

// FuzzDecodeJSON checks that no input makes the decoder panic or answer
// anything but success or a client error with a 4xx status.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name":"a","count":1,"when":"2026-03-29T02:30:00+01:00","tags":["x"],"nested":{"a":[true]},"opt":null}`,
		`{"count":"1"}`, `{"when":"yesterday"}`, `{"unknown":1}`, `[]`, `{`, `{"name":"a"} x`, "", `null`, `{"opt":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzTarget
		err := decodeJSON(body, &dst)
		if err == nil {
			return
		}
		var bad *badRequestError
		if !errors.As(err, &bad) {
			t.Fatalf("decodeJSON(%q) = %T %v, want a badRequestError", body, err, err)
		}
		if bad.status < 400 || bad.status > 499 || bad.detail == "" {
			t.Fatalf("decodeJSON(%q) gave status %d detail %q", body, bad.status, bad.detail)
		}
	})
}

func TestDecodeJSONNamesFields(t *testing.T) {
	tests := []struct {
		body   string
		status int
		field  string
	}{
		{`{"count":"one"}`, http.StatusUnprocessableEntity, "count"},
		{`{"when":"29/03/2026"}`, http.StatusUnprocessableEntity, "when"},
		{`{"nested":{"a":[1]}}`, http.StatusUnprocessableEntity, "nested"},
		{`{"extra":true}`, http.StatusBadRequest, "extra"},
		{`{"name":"a"`, http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		var dst fuzzTarget
		err := decodeJSON([]byte(tt.body), &dst)
		var bad *badRequestError
		if !errors.As(err, &bad) || bad.status != tt.status || bad.field != tt.field {
			t.Errorf("decodeJSON(%s) = %+v, want status %d naming %q", tt.body, bad, tt.status, tt.field)
		}
	}
}
