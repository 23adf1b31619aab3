package api_test

import (
	"net/http"
	"testing"
)

// Temporary: replaced by the OpenAPI validator in openapi_test.go.
func checkAgainstSpec(t testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {}
