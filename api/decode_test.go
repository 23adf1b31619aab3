package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
)

type fuzzTarget struct {
	Name   string              `json:"name"`
	Note   string              `json:"note"`
	Count  int                 `json:"count"`
	When   timestamp           `json:"when"`
	Tags   []string            `json:"tags"`
	Nested map[string][]bool   `json:"nested"`
	Opt    optional[int]       `json:"opt"`
	Lines  []fuzzLine          `json:"lines"`
	Labels map[string][]string `json:"labels"`
}

type fuzzLine struct {
	Description string  `json:"description"`
	Buyer       *string `json:"buyer"`
}

type fuzzText struct {
	s    string
	kind freetext.Kind
}

// texts lists every string dst holds, with the rule it must obey.
func (dst *fuzzTarget) texts() []fuzzText {
	out := []fuzzText{{dst.Name, freetext.SingleLine}, {dst.Note, freetext.MultiLine}}
	for _, s := range dst.Tags {
		out = append(out, fuzzText{s, freetext.SingleLine})
	}
	for k := range dst.Nested {
		out = append(out, fuzzText{k, freetext.SingleLine})
	}
	for _, l := range dst.Lines {
		out = append(out, fuzzText{l.Description, freetext.MultiLine})
		if l.Buyer != nil {
			out = append(out, fuzzText{*l.Buyer, freetext.SingleLine})
		}
	}
	for k, vs := range dst.Labels {
		out = append(out, fuzzText{k, freetext.SingleLine})
		for _, s := range vs {
			out = append(out, fuzzText{s, freetext.SingleLine})
		}
	}
	return out
}

// FuzzDecodeJSON checks that no input makes the decoder panic or answer
// anything but success or a client error with a 4xx status, and that
// whatever it accepts holds only text the text rule allows.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name":"a","count":1,"when":"2026-03-29T02:30:00+01:00","tags":["x"],"nested":{"a":[true]},"opt":null}`,
		`{"count":"1"}`, `{"when":"yesterday"}`, `{"unknown":1}`, `[]`, `{`, `{"name":"a"} x`, "", `null`, `{"opt":"x"}`,
		`{"name":"\u0000"}`, `{"note":"a\nb\r\nc\td"}`, `{"note":"a\rb"}`, `{"tags":["ok","\u202e"]}`,
		`{"lines":[{"description":"x\ny"},{"description":"\u0085","buyer":"\u007f"}]}`,
		`{"nested":{"\u0001":[true]}}`, `{"labels":{"a":["b","c\u2028"]}}`, "{\"name\":\"caf\xe9\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzTarget
		err := decodeJSON(body, &dst)
		if err == nil {
			for _, tx := range dst.texts() {
				if reason := freetext.Check(tx.s, tx.kind); reason != "" {
					t.Fatalf("decodeJSON(%q) accepted %q, which the text rule refuses: %s", body, tx.s, reason)
				}
			}
			return
		}
		var (
			bad *badRequestError
			ve  *errs.ValidationError
		)
		switch {
		case errors.As(err, &ve):
			if len(ve.Fields) == 0 || len(ve.Fields) > maxTextProblems {
				t.Fatalf("decodeJSON(%q) named %d fields", body, len(ve.Fields))
			}
			for _, fe := range ve.Fields {
				if fe.Reason == "" {
					t.Fatalf("decodeJSON(%q): field %q without a reason", body, fe.Field)
				}
			}
		case errors.As(err, &bad):
			if bad.status < 400 || bad.status > 499 || bad.detail == "" {
				t.Fatalf("decodeJSON(%q) gave status %d detail %q", body, bad.status, bad.detail)
			}
		default:
			t.Fatalf("decodeJSON(%q) = %T %v, want a client error", body, err, err)
		}
	})
}

// TestDecodeJSONChecksText: every string of a body, at any depth, is held
// to the text rule, and the answer names it by its JSON path.
func TestDecodeJSONChecksText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		fields []string // nil: accepted
	}{
		{"plain text", `{"name":"Réunion — « Ada »","note":"ligne 1\nligne 2\r\n\tfin","tags":["a","b"]}`, nil},
		{"NUL in a name", `{"name":"\u0000"}`, []string{"name"}},
		{"C1 in a name", `{"name":"a\u0085"}`, []string{"name"}},
		{"DEL in a name", `{"name":"\u007f"}`, []string{"name"}},
		{"line feed in a name", `{"name":"a\nb"}`, []string{"name"}},
		{"NUL in a note", `{"note":"\u0000"}`, []string{"note"}},
		{"lone CR in a note", `{"note":"a\rb"}`, []string{"note"}},
		{"override in a tag", `{"tags":["ok","\u202eexe.txt"]}`, []string{"tags[1]"}},
		{"line separator in a note", `{"note":"a\u2028b"}`, []string{"note"}},
		{"nested description may hold lines", `{"lines":[{"description":"a\nb"}]}`, nil},
		{"nested description with NUL", `{"lines":[{"description":"ok"},{"description":"\u0000"}]}`, []string{"lines[1].description"}},
		{"nested single-line field", `{"lines":[{"buyer":"a\tb"}]}`, []string{"lines[0].buyer"}},
		{"a map key", `{"nested":{"a\u0000":[true]}}`, []string{"nested"}},
		{"strings of a map's arrays", `{"labels":{"k":["x","\u0001"]}}`, []string{"labels.k[1]"}},
		{"over-long name", `{"name":"` + strings.Repeat("x", freetext.MaxSingleLine+1) + `"}`, []string{"name"}},
		{"long note", `{"note":"` + strings.Repeat("x", freetext.MaxSingleLine+1) + `"}`, nil},
		{"every bad string is named", `{"name":"\u0000","note":"\u0000","tags":["\u0000"]}`, []string{"name", "note", "tags[0]"}},
		{"numbers, booleans and null pass", `{"count":1,"opt":null,"nested":{"a":[true,false]}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst fuzzTarget
			err := decodeJSON([]byte(tt.body), &dst)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("decodeJSON(%.80s) = %v, want accepted", tt.body, err)
				}
				return
			}
			var ve *errs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("decodeJSON(%.80s) = %v, want a validation error", tt.body, err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("decodeJSON(%.80s) named %q, want %q (%v)", tt.body, got, tt.fields, ve)
			}
		})
	}
}

func TestWildcardsOf(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"GET /healthz": "",
		"DELETE /v1/sites/{site_id}/closures/{closure_id}": "site_id,closure_id",
		"GET /v1/calendar/{file}":                          "file",
		"GET /static/{path...}":                            "path",
		"GET /{$}":                                         "",
	} {
		if got := strings.Join(wildcardsOf(pattern), ","); got != want {
			t.Errorf("wildcardsOf(%q) = %q, want %q", pattern, got, want)
		}
	}
}

func TestDecodeJSONNamesFields(t *testing.T) {
	t.Parallel()
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
