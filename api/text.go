package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
)

// Every string a request brings is checked here, once, against the rule of
// internal/freetext (no control characters, no direction overrides, a
// bounded length), before any handler sees it:
//   - JSON bodies: decodeJSON walks every string of the document, values
//     and object keys, and answers 422 naming each bad one by its JSON path
//     (reason, lines[2].description, buyer.address.line1);
//   - query parameters and path values: the route wrapper (handle) checks
//     them all; a bad query parameter is a 400 naming it, like any other
//     bad parameter, and a bad path value a 404 (nothing is named so).
//
// A handler added tomorrow gets the same checks without asking.

// multiLine names the body fields that may hold line feeds and tabs: what
// people write as paragraphs. Every other string is single-line.
var multiLine = map[string]bool{
	"description": true, // plans, resources, trainings, campaigns
	"note":        true, // reservations
	"message":     true, // credit gifts
}

// secret names the body fields that are never stored as text nor shown
// (only their hash is kept): any character is accepted, as when the
// account was made, and only the length is bounded.
var secret = map[string]bool{
	"password":         true,
	"current_password": true,
	"new_password":     true,
}

// maxTextProblems bounds how many bad strings one answer lists.
const maxTextProblems = 20

// textKind is the rule for a field, from its name (the last key of its
// path: a tier's name, a line's description). encoding/json matches
// names without regard to case, and so does this.
func textKind(key string) freetext.Kind {
	key = strings.ToLower(key)
	switch {
	case multiLine[key]:
		return freetext.MultiLine
	case secret[key]:
		return freetext.Secret
	}
	return freetext.SingleLine
}

// jsonLevel is one open object or array while walking a document.
type jsonLevel struct {
	array   bool
	index   int    // arrays: the element being read
	key     string // objects: the member being read
	wantKey bool   // objects: the next token is a key (or the end)
}

// checkText walks the JSON document body, which decodeJSON has already
// accepted, and returns a *errs.ValidationError naming every string (up to
// maxTextProblems) that breaks the text rule, or nil.
func checkText(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var (
		stack []jsonLevel
		v     errs.Validator
		bad   int
	)
	check := func(s string, kind freetext.Kind, field string, key bool) {
		if bad >= maxTextProblems {
			return
		}
		reason := freetext.Reason(s, kind)
		switch {
		case reason.Empty():
			return
		case key:
			v.Add(field, "has a key that %s", reason)
		default:
			v.Add(field, "%s", reason)
		}
		bad++
	}
	// valueDone moves the enclosing object on to its next key.
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// decodeJSON parsed this document already; a failure here is a
			// bug, and refusing is the safe side.
			return badRequest(http.StatusBadRequest, "malformed_json", "", "the body is not valid JSON")
		}
		n := len(stack)
		delim, isDelim := tok.(json.Delim)
		if isDelim && (delim == '}' || delim == ']') {
			stack = stack[:n-1]
			valueDone()
			continue
		}
		if n > 0 && !stack[n-1].array && stack[n-1].wantKey {
			// A key is single-line text too: the keys of a map (opening
			// hours' days) reach the domain. The object is named, not the key.
			key, _ := tok.(string)
			check(key, freetext.SingleLine, jsonPath(stack[:n-1]), true)
			stack[n-1].key, stack[n-1].wantKey = key, false
			continue
		}
		if n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
		switch t := tok.(type) {
		case json.Delim:
			stack = append(stack, jsonLevel{array: t == '[', index: -1, wantKey: t == '{'})
		case string:
			check(t, textKind(nearestKey(stack)), jsonPath(stack), false)
			valueDone()
		default:
			valueDone()
		}
	}
	return v.Err()
}

// jsonPath spells where the walk stands: "lines[2].description".
func jsonPath(stack []jsonLevel) string {
	var b strings.Builder
	for _, l := range stack {
		if l.array {
			b.WriteString("[" + strconv.Itoa(l.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(l.key)
	}
	return b.String()
}

// nearestKey is the member name a value belongs to: for the strings of an
// array ("tags": ["a", "b"]), the array's own name.
func nearestKey(stack []jsonLevel) string {
	for i := len(stack) - 1; i >= 0; i-- {
		if !stack[i].array {
			return stack[i].key
		}
	}
	return ""
}

// checkURL applies the text rule to every query parameter (names and
// values) and to the path values of the route's wildcards.
func checkURL(r *http.Request, wildcards []string) error {
	for _, name := range wildcards {
		if freetext.Check(r.PathValue(name), freetext.SingleLine) != "" {
			return errs.ErrNotFound
		}
	}
	for name, values := range r.URL.Query() {
		if reason := freetext.Reason(name, freetext.SingleLine); !reason.Empty() {
			return badRequestf(http.StatusBadRequest, "invalid_parameter", name, "a query parameter's name %s", reason)
		}
		for _, value := range values {
			if reason := freetext.Reason(value, freetext.SingleLine); !reason.Empty() {
				return badRequestf(http.StatusBadRequest, "invalid_parameter", name, "%s %s", name, reason)
			}
		}
	}
	return nil
}

// wildcardsOf lists the wildcard names of a ServeMux pattern:
// "GET /v1/sites/{site_id}/closures/{closure_id}" → site_id, closure_id.
func wildcardsOf(pattern string) []string {
	var names []string
	for rest := pattern; ; {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			return names
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return names
		}
		name := strings.TrimSuffix(rest[open+1:open+end], "...")
		if name != "$" {
			names = append(names, name)
		}
		rest = rest[open+end+1:]
	}
}
