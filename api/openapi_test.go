package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/relais-tierslieux/relais/api"
)

// specPath is openapi.yaml at the repository root; tests run in api/.
var specPath = filepath.Join("..", "openapi.yaml")

// The spec is loaded, validated and turned into a router once per test
// binary; every exchange of every test is then checked against it.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

// uuidPattern is what internal/id issues: a lower-case hyphenated UUID.
// kin-openapi does not check format: uuid unless told how.
const uuidPattern = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidPattern))
		// The failure names the field; the body is printed beside it, so the
		// schema dump kin-openapi adds would only bury it.
		openapi3.SchemaErrorDetailsDisabled = true
		// Calendar feeds are text; their content is checked by the calendar
		// package's own tests (folding, escaping, round trip).
		openapi3filter.RegisterBodyDecoder("text/calendar", openapi3filter.PlainBodyDecoder)
		// Invoice exports and PDFs likewise: the billing package's tests
		// check their content. kin-openapi's own text/csv decoder expects
		// comma-separated rows of equal length, not French ";" files.
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/tab-separated-values", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
		ctx := context.Background()
		doc, err := openapi3.NewLoader().LoadFromFile(specPath)
		if err != nil {
			spec.err = fmt.Errorf("load %s: %w", specPath, err)
			return
		}
		if err := doc.Validate(ctx); err != nil {
			spec.err = fmt.Errorf("%s is not a valid OpenAPI document: %w", specPath, err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("build a router from %s: %w", specPath, err)
			return
		}
		spec.doc, spec.router = doc, router
	})
	if spec.err != nil {
		t.Fatal(spec.err)
	}
	return spec.doc, spec.router
}

// specOperations lists the operations of openapi.yaml as "METHOD /path".
func specOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

// TestOpenAPIMatchesRoutes keeps the route table (api/routes.go) and
// openapi.yaml in step: same paths, same methods, same parameter names.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	documented := specOperations(doc)

	served := map[string]bool{}
	for _, pattern := range api.New(api.Deps{}).Routes() {
		// ServeMux patterns are "[METHOD ][HOST]/PATH"; openapi.yaml knows
		// only "METHOD /path".
		served[strings.Join(strings.Fields(pattern), " ")] = true
	}
	if len(served) == 0 {
		t.Fatal("api.Server.Routes() returned no routes")
	}

	var undocumented, unserved []string
	for r := range served {
		if documented[r] == nil {
			undocumented = append(undocumented, r)
		}
	}
	for op := range documented {
		if !served[op] {
			unserved = append(unserved, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unserved)
	if len(undocumented) > 0 {
		t.Errorf("routes served by api/routes.go but missing from openapi.yaml:\n\t%s", strings.Join(undocumented, "\n\t"))
	}
	if len(unserved) > 0 {
		t.Errorf("operations in openapi.yaml that api/routes.go does not serve:\n\t%s", strings.Join(unserved, "\n\t"))
	}
}

// TestOpenAPIOperationsAreDocumented checks what a reader of openapi.yaml
// needs from every operation, and the promises every route keeps.
func TestOpenAPIOperationsAreDocumented(t *testing.T) {
	t.Parallel()
	doc, _ := loadSpec(t)
	public := map[string]bool{
		"GET /healthz": true, "GET /readyz": true, "GET /metrics": true,
		"POST /v1/auth/register": true, "POST /v1/auth/login": true, "POST /v1/auth/refresh": true,
		"POST /v1/auth/verify-email":           true,
		"POST /v1/auth/password-reset":         true,
		"POST /v1/auth/password-reset/confirm": true, // the mailed token is the credential
		"GET /v1/calendar/{file}":              true, // the secret URL is the credential
		"POST /v1/webhooks/stripe":             true, // Stripe's signature is the credential
		// A crowdfunding campaign's page is public; it names only the backers
		// who asked to be named.
		"GET /v1/campaigns/{campaign_id}/public": true,
		// A mail's one-click unsubscribe link: its signed token is the
		// credential (RFC 8058 wants no login).
		"GET /v1/unsubscribe": true, "POST /v1/unsubscribe": true,
		// The key that verifies archives: anyone holding one may check it.
		"GET /v1/archives/public-key": true,
		// The ateliers' agenda is public: a town's website links to it.
		"GET /v1/atelier-categories": true, "GET /v1/sites/{site_id}/ateliers": true, "GET /v1/ateliers/{atelier_id}": true,
		"GET /v1/sites/{site_id}/ateliers.ics": true,
	}
	ops := specOperations(doc)
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		op := ops[name]
		if op.OperationID == "" || op.Summary == "" || op.Description == "" {
			t.Errorf("%s: needs an operationId, a summary and a description", name)
		}
		isPublic := op.Security != nil && len(*op.Security) == 0
		if isPublic != public[name] {
			t.Errorf("%s: public in openapi.yaml is %v, want %v", name, isPublic, public[name])
		}
		if !isPublic && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s: a protected operation must document 401", name)
		}
		// Stripe's webhook is read as raw bytes for its signature, never
		// decoded as a client's request: a bad one is a 400, whatever it holds.
		// The one-click unsubscribe takes a form of one fixed field, never
		// JSON: it is a 400 or a 415, never a 422.
		if op.RequestBody != nil && name != "POST /v1/webhooks/stripe" && name != "POST /v1/unsubscribe" {
			for _, status := range []int{400, 413, 415, 422} {
				if op.Responses.Status(status) == nil {
					t.Errorf("%s: an operation with a JSON body must document %d", name, status)
				}
			}
		}
		for status, ref := range op.Responses.Map() {
			if ref.Value == nil || ref.Value.Headers["X-Request-Id"] == nil {
				t.Errorf("%s: response %s does not declare X-Request-Id", name, status)
			}
		}
	}
}

// acceptAnyCredential: authentication has its own tests; the spec check
// only needs to know the operation may be called.
func acceptAnyCredential(context.Context, *openapi3filter.AuthenticationInput) error { return nil }

// checkAgainstSpec fails t unless the exchange is one openapi.yaml
// describes: the operation exists, a request that succeeded was valid (a
// request answered 4xx may be deliberately malformed, so it is not checked),
// and the response — status, declared headers and body — matches.
func checkAgainstSpec(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	t.Helper()
	doc, router := loadSpec(t)
	ctx := context.Background()
	what := req.Method + " " + req.URL.RequestURI()

	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		// The server's own answer to a route it does not have either (a 404
		// or 405 problem from dispatch) is not an operation of the spec, but
		// its body must still be a Problem.
		if unroutedProblem(err, resp, respBody) {
			if err := doc.Components.Schemas["Problem"].Value.VisitJSON(jsonValue(respBody), openapi3.VisitAsResponse()); err != nil {
				t.Errorf("%s: %d is not a problem document: %v\nbody: %s", what, resp.StatusCode, err, respBody)
			}
			return
		}
		t.Errorf("%s: no operation in openapi.yaml (%v); the server answered %d: %s", what, err, resp.StatusCode, respBody)
		return
	}

	opts := &openapi3filter.Options{
		AuthenticationFunc:    acceptAnyCredential,
		IncludeResponseStatus: true, // an undeclared status is a mismatch
		MultiError:            true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route, Options: opts}
	if resp.StatusCode < 400 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			t.Errorf("%s: the request does not match openapi.yaml (%s %s), yet the server answered %d:\n%v\nrequest body: %s",
				what, route.Method, route.Path, resp.StatusCode, err, reqBody)
		}
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                opts,
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s: the %d response does not match openapi.yaml (%s %s):\n%v\nheaders: %v\nbody: %s",
			what, resp.StatusCode, route.Method, route.Path, err, resp.Header, respBody)
	}
}

// unroutedProblem reports whether the server, too, found no route: its 404
// "not_found" or 405 "method_not_allowed" problem from dispatch, as opposed
// to a handler's own 404 (which names what was not found in code).
func unroutedProblem(routeErr error, resp *http.Response, body []byte) bool {
	if resp.Header.Get("Content-Type") != "application/problem+json" {
		return false
	}
	var p struct {
		Type string `json:"type"`
		Code string `json:"code"`
	}
	if json.Unmarshal(body, &p) != nil || p.Code != "" {
		return false
	}
	switch {
	case errors.Is(routeErr, routers.ErrPathNotFound):
		return resp.StatusCode == http.StatusNotFound && p.Type == "urn:relais:problem:not_found"
	case errors.Is(routeErr, routers.ErrMethodNotAllowed):
		return resp.StatusCode == http.StatusMethodNotAllowed && p.Type == "urn:relais:problem:method_not_allowed"
	}
	return false
}

// jsonValue decodes a JSON body for schema validation; what is not JSON
// stays a string, which the Problem schema then refuses.
func jsonValue(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}
