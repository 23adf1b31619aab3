package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/web"
)

// TestServeMountsTheApp: `relais serve` answers the app beside the API at
// one address, and the API keeps its paths, its 404 problem included.
func TestServeMountsTheApp(t *testing.T) {
	t.Parallel()
	base, _ := startServe(t, map[string]string{"RELAIS_DATABASE_URL": dbtest.MigratedURL(t)})
	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantCSP    string
	}{
		{"/", http.StatusOK, "text/html; charset=utf-8", web.Policy},
		{"/verify-email?token=x", http.StatusOK, "text/html; charset=utf-8", web.Policy},
		{"/static/app.js", http.StatusOK, "text/javascript; charset=utf-8", web.Policy},
		{"/v1/x", http.StatusNotFound, "application/problem+json", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
		{"/healthz", http.StatusOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.wantStatus, b)
			}
			if tt.wantType != "" && res.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.wantType)
			}
			if tt.wantCSP != "" && res.Header.Get("Content-Security-Policy") != tt.wantCSP {
				t.Errorf("Content-Security-Policy %q, want %q", res.Header.Get("Content-Security-Policy"), tt.wantCSP)
			}
			if tt.path == "/" && !strings.Contains(string(b), `<script type="module" src="/static/app.js">`) {
				t.Errorf("/ is not the app: %.200s", b)
			}
		})
	}
}
