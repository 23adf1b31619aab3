package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// fakeAPI stands for the API: it says it was asked.
var fakeAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusTeapot)
	io.WriteString(w, `{"from":"api"}`)
})

func newHandler(t *testing.T) http.Handler {
	t.Helper()
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return a.Handler(fakeAPI)
}

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerRoutes(t *testing.T) {
	h := newHandler(t)
	index, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, target string
		wantStatus           int
		wantType             string
		wantBody             string // the whole body, when set
	}{
		{"root is the app", "GET", "/", 200, "text/html; charset=utf-8", string(index)},
		{"an app path is the app", "GET", "/account", 200, "text/html; charset=utf-8", string(index)},
		{"the verification link's target", "GET", "/verify-email?token=abc", 200, "text/html; charset=utf-8", string(index)},
		{"the reset link's target", "GET", "/reset-password?token=abc", 200, "text/html; charset=utf-8", string(index)},
		{"the export mail's target", "GET", "/account/export", 200, "text/html; charset=utf-8", string(index)},
		{"the service worker, at the root", "GET", "/sw.js", 200, "text/javascript; charset=utf-8", ""},
		{"the default brand", "GET", "/static/css/brand.css", 200, "text/css; charset=utf-8", ""},
		{"an unknown app path is the app (its own not-found page)", "GET", "/no/such/page", 200, "text/html; charset=utf-8", string(index)},
		{"HEAD of an app path", "HEAD", "/sign-in", 200, "text/html; charset=utf-8", ""},
		{"the script", "GET", "/static/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"the vendored module", "GET", "/static/vendor/htm-preact-standalone-3.1.1.mjs", 200, "text/javascript; charset=utf-8", ""},
		{"a catalogue", "GET", "/static/i18n/fr.js", 200, "text/javascript; charset=utf-8", ""},
		{"the style", "GET", "/static/css/app.css", 200, "text/css; charset=utf-8", ""},
		{"the manifest", "GET", "/static/manifest.webmanifest", 200, "application/manifest+json", ""},
		{"the icon", "GET", "/static/icon.svg", 200, "image/svg+xml", ""},
		{"a missing asset is a 404, not the page", "GET", "/static/nope.js", 404, "text/plain; charset=utf-8", ""},
		{"a file of another kind is not served", "GET", "/static/vendor/README", 404, "text/plain; charset=utf-8", ""},
		{"an unknown API path stays the API's", "GET", "/v1/x", 418, "application/problem+json", `{"from":"api"}`},
		{"the API's root", "GET", "/v1", 418, "application/problem+json", `{"from":"api"}`},
		{"health is the API's", "GET", "/healthz", 418, "application/problem+json", `{"from":"api"}`},
		{"readiness is the API's", "GET", "/readyz", 418, "application/problem+json", `{"from":"api"}`},
		{"metrics are the API's", "GET", "/metrics", 418, "application/problem+json", `{"from":"api"}`},
		{"a write to an app path goes to the API (405 or 404 there)", "POST", "/account", 418, "application/problem+json", `{"from":"api"}`},
		{"a write to an asset goes to the API", "PUT", "/static/app.js", 418, "application/problem+json", `{"from":"api"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(t, h, tt.method, tt.target, nil)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			b := body(t, res)
			if tt.wantBody != "" && b != tt.wantBody {
				t.Errorf("body %.80q…, want %.80q…", b, tt.wantBody)
			}
			if tt.method == "GET" && tt.wantStatus == 200 && b == "" {
				t.Error("empty body")
			}
			if tt.wantStatus == 418 {
				return
			}
			// Every answer of the app, a 404 too, carries its policy.
			for k, want := range map[string]string{
				"Content-Security-Policy": Policy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
			} {
				if got := res.Header.Get(k); got != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if tt.wantStatus == 200 && res.Header.Get("Cache-Control") != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", res.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestPolicyIsStrict: the policy allows no inline script or style and no
// other origin, and the page keeps to it.
func TestPolicyIsStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(Policy, bad) {
			t.Errorf("policy allows %q: %s", bad, Policy)
		}
	}
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"} {
		if !strings.Contains(Policy, want) {
			t.Errorf("policy lacks %q", want)
		}
	}
	index, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	// A script element with a body, a style element or a style attribute
	// would be refused by the browser.
	inline := regexp.MustCompile(`<script[^>]*>[^<\s]|<style|\sstyle=|\son[a-z]+=`)
	if m := inline.Find(index); m != nil {
		t.Errorf("index.html has inline code: %q", m)
	}
	for _, want := range []string{`<html lang="fr">`, `name="viewport"`, `rel="manifest"`, `type="module"`} {
		if !bytes.Contains(index, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

func TestGzipAndETag(t *testing.T) {
	h := newHandler(t)
	plain := get(t, h, "GET", "/static/app.js", nil)
	want := body(t, plain)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("compressed without Accept-Encoding")
	}
	tests := []struct {
		acceptEncoding string
		wantGzip       bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"identity", false},
	}
	for _, tt := range tests {
		t.Run(tt.acceptEncoding, func(t *testing.T) {
			res := get(t, h, "GET", "/static/app.js", map[string]string{"Accept-Encoding": tt.acceptEncoding})
			got := body(t, res)
			if (res.Header.Get("Content-Encoding") == "gzip") != tt.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip %v", res.Header.Get("Content-Encoding"), tt.wantGzip)
			}
			if tt.wantGzip {
				zr, err := gzip.NewReader(strings.NewReader(got))
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				got = string(b)
			}
			if got != want {
				t.Error("the body differs from the file")
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q", res.Header.Get("Vary"))
			}
		})
	}
	etag := plain.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res := get(t, h, "GET", "/static/app.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
}

// TestModulesPreloaded: index.html asks for every module at once, so a
// slow phone does not wait for one level of imports after another; and
// it names no module that is not there. The managers' console is the
// exception: its modules load when a manager opens it (routes.js, lazy),
// so that a member's first page does not carry them, and index.html must
// not preload them.
func TestModulesPreloaded(t *testing.T) {
	index, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	preloaded := map[string]bool{}
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)">`).FindAllSubmatch(index, -1) {
		preloaded[string(m[1])] = true
	}
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	onDemand := func(p string) bool {
		return strings.HasPrefix(p, "/static/pages/console") || strings.HasPrefix(p, "/static/lib/console") ||
			strings.HasPrefix(p, "/static/i18n/console")
	}
	for p := range a.files {
		if !strings.HasSuffix(p, ".js") && !strings.HasSuffix(p, ".mjs") || p == "/static/app.js" {
			continue
		}
		if onDemand(p) && preloaded[p] {
			t.Errorf("index.html preloads %s, a module of the console loaded on demand", p)
		}
		if !onDemand(p) && !preloaded[p] {
			t.Errorf("index.html does not preload %s", p)
		}
	}
	for p := range preloaded {
		if a.files[p] == nil {
			t.Errorf("index.html preloads %s, which is not there", p)
		}
	}
}

// --- shell ---

// TestServiceWorker: /sw.js is served from the root (its scope is the
// whole app), carries the release's version and the shell's files, and
// another file makes another version (a new worker, a new cache).
func TestServiceWorker(t *testing.T) {
	a, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler(fakeAPI)
	res := get(t, h, "GET", "/sw.js", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /sw.js: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	if res.Header.Get("Content-Security-Policy") != Policy {
		t.Error("/sw.js without the policy")
	}
	sw := body(t, res)
	if strings.Contains(sw, "__RELAIS_") {
		t.Error("a marker is left in /sw.js")
	}
	if a.Version == "" || !strings.Contains(sw, "const VERSION = '"+a.Version+"';") {
		t.Errorf("/sw.js does not carry the version %q", a.Version)
	}
	for _, want := range []string{`"/"`, `"/static/app.js"`, `"/static/icons/icon-192.png"`, `"/static/manifest.webmanifest"`} {
		if !strings.Contains(sw, want) {
			t.Errorf("/sw.js does not keep %s", want)
		}
	}
	if strings.Contains(sw, `"/static/index.html"`) {
		t.Error("/sw.js keeps index.html under its file name rather than /")
	}
	if get(t, h, "GET", "/static/sw.js", nil).StatusCode != 404 {
		t.Error("the worker is served under /static/ too, with a narrower scope")
	}

	// Any changed file, another version.
	before := a.Version
	f := *a.files["/static/app.js"]
	f.etag = `"changed"`
	a.files["/static/app.js"] = &f
	after, err := a.withRelease()
	if err != nil {
		t.Fatal(err)
	}
	if after == before {
		t.Error("a changed file keeps the version")
	}
}

// TestIcons: the manifest's icons are there, PNGs of their stated size.
func TestIcons(t *testing.T) {
	h := newHandler(t)
	for _, size := range []int{192, 512} {
		res := get(t, h, "GET", fmt.Sprintf("/static/icons/icon-%d.png", size), nil)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("icon %d: %d %q", size, res.StatusCode, res.Header.Get("Content-Type"))
		}
		cfg, err := png.DecodeConfig(res.Body)
		if err != nil || cfg.Width != size || cfg.Height != size {
			t.Errorf("icon %d: %dx%d, %v", size, cfg.Width, cfg.Height, err)
		}
	}
	m, err := static.ReadFile("static/manifest.webmanifest")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"/static/icons/icon-192.png", "sizes": "192x192"`, `"/static/icons/icon-512.png", "sizes": "512x512"`} {
		if !strings.Contains(string(m), want) {
			t.Errorf("the manifest lacks %s", want)
		}
	}
}
