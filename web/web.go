// Package web is the members' app (and, next, the managers' console): plain
// ES modules and CSS under static/, embedded in the binary, that call the
// public API like any other client. There is no build step: what is in
// static/ is what the browser gets.
//
// Handler puts the app and the API behind one address: the API keeps /v1/
// and its operational routes, the app answers every other GET with its
// files, or with index.html for the paths its router draws (history API),
// so that a link mailed to PUBLIC_URL/verify-email?token=… opens the app.
// Two answers are not plain files of static/: /sw.js, the service worker
// (sw.js, with the release's version written in), and, with a tiers
// lieu's brand (brand.go), /static/css/brand.css and its logo.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// serviceWorker is the app's service worker, served at /sw.js (its scope
// is the path it is served from: the whole app), with the release's
// version and file list written in (see withRelease).
//
//go:embed sw.js
var serviceWorker []byte

// Policy is the Content-Security-Policy of every answer of the app: its own
// scripts, styles and API only, no inline script or style, never framed.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// contentTypes are the only kinds of file the app serves; anything else in
// static/ (the vendored library's README) is not served.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".webmanifest": "application/manifest+json",
}

// file is one asset, read once at start with its compressed form and tag.
type file struct {
	contentType string
	body        []byte
	gzipped     []byte // nil when compressing does not pay
	etag        string
}

// App serves the app's files.
type App struct {
	files map[string]*file // by URL path: "/static/app.js"
	index *file
	sw    *file // /sw.js
	// Version is a hash of every file of the app: it names the service
	// worker's cache, so that a release replaces the shell phones keep.
	Version string
}

// New reads the embedded files.
func New() (*App, error) {
	a := &App{files: map[string]*file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		f, err := newFile(ct, b)
		if err != nil {
			return fmt.Errorf("compress %s: %w", p, err)
		}
		a.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.index = a.files["/static/index.html"]
	if a.index == nil {
		return nil, fmt.Errorf("web: static/index.html is missing")
	}
	a.Version, err = a.withRelease()
	return a, err
}

// withRelease builds /sw.js: the worker with the release's version (a
// hash of the files' paths and tags, so any change to any file changes
// it, and the browser installs the new worker) and the files it keeps for
// offline use ("/" is index.html, which every page of the app is).
func (a *App) withRelease() (string, error) {
	paths := make([]string, 0, len(a.files)+1)
	for p := range a.files {
		if p != "/static/index.html" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s %s\n", p, a.files[p].etag)
	}
	fmt.Fprintf(h, "/ %s\n", a.index.etag)
	version := base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
	list, err := json.Marshal(append([]string{"/"}, paths...))
	if err != nil {
		return "", err
	}
	if !bytes.Contains(serviceWorker, []byte("'__RELAIS_VERSION__'")) || !bytes.Contains(serviceWorker, []byte("__RELAIS_FILES__;")) {
		return "", fmt.Errorf("web: sw.js lacks its markers")
	}
	b := bytes.Replace(serviceWorker, []byte("__RELAIS_VERSION__"), []byte(version), 1)
	b = bytes.Replace(b, []byte("__RELAIS_FILES__"), list, 1)
	a.sw, err = newFile(contentTypes[".js"], b)
	return version, err
}

func newFile(ct string, b []byte) (*file, error) {
	sum := sha256.Sum256(b)
	f := &file{contentType: ct, body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	if !strings.HasPrefix(ct, "image/png") {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(b); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		if buf.Len() < len(b) {
			f.gzipped = buf.Bytes()
		}
	}
	return f, nil
}

// Handler answers the API's paths with api and every other GET or HEAD
// with the app. Other methods on the app's paths go to the API too, whose
// 404 and 405 are problem documents.
func (a *App) Handler(api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPIPath(r.URL.Path) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			api.ServeHTTP(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}

// isAPIPath: the API's versioned routes, and the operational ones it
// answers at the root (api/routes.go).
func isAPIPath(p string) bool {
	switch p {
	case "/v1", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(p, "/v1/")
}

// ServeHTTP answers a file of static/, or index.html for any other path:
// the app's router decides what a path shows, its own "not found" page
// included. A missing file under /static/ is a plain 404, not the page.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := a.files[r.URL.Path]
	if r.URL.Path == "/sw.js" {
		f = a.sw
	}
	switch {
	case f == a.index || f == nil && !strings.HasPrefix(r.URL.Path, "/static/"):
		f = a.index
	case f == nil:
		setHeaders(w.Header())
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h := w.Header()
	setHeaders(h)
	h.Set("Content-Type", f.contentType)
	// Every answer is checked again before use (the ETag makes that a 304):
	// a new release must reach phones at once, and the files' names carry
	// no version.
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	body, etag := f.body, f.etag
	if f.gzipped != nil && acceptsGzip(r) {
		// Another representation, another tag.
		h.Set("Content-Encoding", "gzip")
		body, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gz"`
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// setHeaders is what every answer of the app carries.
func setHeaders(h http.Header) {
	h.Set("Content-Security-Policy", Policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// acceptsGzip: the request's Accept-Encoding lists gzip (with a q above 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
