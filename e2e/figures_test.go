//go:build browser

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestFigures prints the members' app's figures for BENCHMARKS.md ("The
// members' app"): the bytes of the first page, its time to the home's
// heading with the CPU slowed 4×, and the API calls of each page. It
// prints rather than asserts (timings depend on the machine), and fails
// only when a page does not load. Run it alone, on a calm machine:
//
//	go test -tags browser -run TestFigures -v ./e2e/
func TestFigures(t *testing.T) {
	srv := startRelais(t, "--demo")
	b := browser(t)
	vp := viewports[0]

	// 1. What the browser fetches for / signed in, compressed as served.
	p := newPage(t, b, vp)
	p.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
	p.open(srv.URL + "/")
	p.waitText("main .booking__what", "Découpeuse laser")
	names := eval[[]string](p, `performance.getEntriesByType("resource").map((e) => e.name)`)
	files := []string{srv.URL + "/"}
	for _, n := range names {
		u, err := url.Parse(n)
		if err == nil && !strings.HasPrefix(u.Path, "/v1/") && u.Path != "/sw.js" {
			files = append(files, n)
		}
	}
	var total, plain int
	for _, f := range files {
		gz, raw := fetchSizes(t, f)
		total += gz
		plain += raw
	}
	t.Logf("first page (/ signed in): %d files, %d bytes gzipped (%d uncompressed): HTML, JS, CSS and the icon, no API answer", len(files), total, plain)

	// 2. Time until the home's heading shows, CPU throttled 4×, loopback:
	// a cold visit of the sign-in page (nothing cached), and the home of
	// a member signed in (the service worker's files), median of 5.
	cold := make([]float64, 0, 5)
	warm := make([]float64, 0, 5)
	for range 5 {
		q := newPage(t, b, vp)
		q.throttle(4)
		q.do(chromedp.Navigate(srv.URL + "/sign-in"))
		q.waitHeading("Se connecter")
		cold = append(cold, eval[float64](q, `performance.now()`))
		q.throttle(1)
		q.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
		q.waitJS(`!!navigator.serviceWorker.controller`, "the service worker")
		q.throttle(4)
		q.do(chromedp.Navigate(srv.URL + "/"))
		q.waitHeading("Bonjour Camille Martin")
		warm = append(warm, eval[float64](q, `performance.now()`))
	}
	t.Logf("time to the heading, CPU 4× slower: sign-in page, first visit: median %.0f ms %v", median(cold), rounded(cold))
	t.Logf("time to the heading, CPU 4× slower: home signed in, files from the service worker: median %.0f ms %v", median(warm), rounded(warm))

	// 3. The API calls each page makes, on a fresh load of it.
	var routes []appRoute
	for _, r := range appRoutes(p) {
		if (r.Access == "member" || r.Access == "any") && !strings.Contains(r.Path, ":") {
			routes = append(routes, r)
		}
	}
	for _, r := range routes {
		q := newPage(t, b, vp)
		q.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
		q.do(chromedp.Navigate(srv.URL + r.Path))
		q.waitJS(`!!document.querySelector("main h1")`, "the page")
		// Let its calls finish: no "Chargement…" left, and a moment.
		q.waitJS(`![...document.querySelectorAll("main [role=status], main .loading")].some((e) => e.textContent.includes("Chargement"))`, "the page loaded")
		time.Sleep(500 * time.Millisecond)
		calls := eval[[]string](q, `performance.getEntriesByType("resource").map((e) => new URL(e.name)).filter((u) => u.pathname.startsWith("/v1/")).map((u) => u.pathname)`)
		t.Logf("API calls of %s: %d %v", r.Path, len(calls), calls)
	}
}

// fetchSizes: the file as the browser gets it (gzip accepted) and as it is.
func fetchSizes(t *testing.T, u string) (gzipped, raw int) {
	t.Helper()
	for i, enc := range []string{"gzip", "identity"} {
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", enc)
		// Go's transport would ungzip it silently: ask for it plainly.
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, res.StatusCode)
		}
		if i == 0 {
			gzipped = int(n)
		} else {
			raw = int(n)
		}
	}
	return gzipped, raw
}

func (p *page) throttle(rate float64) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate})
		return err
	}))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func rounded(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x + 0.5)
	}
	return out
}

// TestScreenshots takes the pictures of README's "The app" at a phone's
// 360 px, and of the console at a desk's 1280 px, into docs/screenshots/, when RELAIS_SCREENSHOTS=1 (else it only
// checks they can be taken):
//
//	RELAIS_SCREENSHOTS=1 go test -tags browser -run TestScreenshots ./e2e/
func TestScreenshots(t *testing.T) {
	srv := startRelais(t, "--demo")
	b := browser(t)
	p := newPage(t, b, viewports[0])
	shots := map[string][]byte{}
	shoot := func(name string) {
		t.Helper()
		// Past the focus ring's and the live region's moves.
		time.Sleep(300 * time.Millisecond)
		ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if len(png) < 1000 {
			t.Fatalf("screenshot %s: %d bytes", name, len(png))
		}
		shots[name] = png
	}
	p.open(srv.URL + "/sign-in")
	shoot("sign-in")
	p.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
	p.waitText("main .booking__what", "Découpeuse laser")
	p.waitJS(`!!document.querySelector("main .door__button")`, "the doors")
	shoot("home")
	// The booking page on tomorrow: the timeline of the site's desks.
	p.openBook()
	p.waitJS(`document.querySelectorAll("main .slots button").length > 0`, "the slots")
	shoot("book")
	p.click("Mon compte")
	p.waitHeading("Mon compte")
	p.waitJS(`!!document.querySelector("main .session")`, "the sessions")
	shoot("account")

	// The console, as its manager sees it at a desk's 1280 px.
	p = newPage(t, b, viewports[1])
	p.open(srv.URL + "/sign-in")
	p.fill("Adresse e-mail", "animatrice@demo.relais.test")
	p.fill("Mot de passe", demoPassword)
	p.click("Se connecter")
	p.waitHeading("Aujourd’hui")
	p.waitJS(`!!document.querySelector("main .console-figures")`, "the figures")
	shoot("console-today")
	p.open(srv.URL + "/console/planning")
	p.waitJS(`document.querySelectorAll("main table.console-grid tbody tr").length > 0`, "the planning")
	shoot("console-planning")
	p.open(srv.URL + "/console/people")
	p.waitHeading("Personnes")
	p.waitJS(`!!document.querySelector("main #field-q")`, "the search")
	p.fill("Nom, e-mail ou téléphone", "Camille")
	p.click("Chercher")
	p.waitText("main .console-list", "Camille Martin")
	shoot("console-people")
	p.open(srv.URL + "/console/devices")
	p.waitJS(`!!document.querySelector("main .consoleb-device__name")`, "the devices")
	shoot("console-devices")

	if os.Getenv("RELAIS_SCREENSHOTS") == "" {
		return
	}
	dir := filepath.Join("..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, png := range shots {
		width := "360"
		if strings.HasPrefix(name, "console-") {
			width = "1280"
		}
		path := filepath.Join(dir, fmt.Sprintf("%s-%s.png", name, width))
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}
