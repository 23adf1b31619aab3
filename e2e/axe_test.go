//go:build browser

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, installed by `npm ci --prefix e2e` (the version
// pinned in e2e/package-lock.json).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("the accessibility scan needs axe-core: run `npm ci --prefix e2e` (%v)", err)
	}
	return string(b)
}

type appRoute struct {
	Path   string `json:"path"`
	Access string `json:"access"`
}

// appRoutes reads the app's route table from routes.js itself, so that a
// new page is scanned without anyone adding it here.
func appRoutes(p *page) []appRoute {
	var routes []appRoute
	s := eval[string](p, `import("/static/routes.js").then((m) => JSON.stringify(m.routes.map((r) => ({ path: r.path, access: r.access }))))`)
	if err := json.Unmarshal([]byte(s), &routes); err != nil {
		p.t.Fatal(err)
	}
	return routes
}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// scan runs axe-core on the page as it is now and fails the test on every
// serious or critical violation, printed with the elements at fault.
func (p *page) scan(axe, where string) {
	p.t.Helper()
	// The page has settled: no "Chargement…" left.
	p.waitJS(`![...document.querySelectorAll("main [role=status], main .loading")].some((e) => e.textContent.includes("Chargement"))`, "the page loaded")
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	// Evaluated through the DevTools protocol, which the page's policy
	// does not govern: the app itself never runs it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axe)); err != nil {
		p.t.Fatalf("inject axe-core: %v", err)
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, { resultTypes: ["violations"] }).then((r) => JSON.stringify(r.violations))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("run axe-core: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(s), &vs); err != nil {
		p.t.Fatal(err)
	}
	for _, v := range vs {
		if v.Impact != "serious" && v.Impact != "critical" {
			continue
		}
		var nodes []string
		for _, n := range v.Nodes {
			b, _ := json.Marshal(n.Target)
			nodes = append(nodes, string(b)+": "+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		p.t.Errorf("%s: %s (%s) %s\n\t%s", where, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n\t"))
	}
}

// TestAccessibilityScan: every page of the app, signed out and signed in
// (a member of the demo with a door, a machine and a booking), at both
// sizes, has no serious or critical violation that axe-core finds.
func TestAccessibilityScan(t *testing.T) {
	axe := axeSource(t)
	srv := startRelais(t, "--demo")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.open(srv.URL + "/sign-in")
			routes := appRoutes(p)
			if len(routes) < 7 {
				t.Fatalf("routes.js lists %d routes", len(routes))
			}
			visit := func(access ...string) {
				for _, r := range routes {
					if strings.Contains(r.Path, ":") {
						t.Logf("%s takes a parameter: not scanned", r.Path)
						continue
					}
					for _, a := range access {
						if r.Access == a {
							p.open(srv.URL + r.Path)
							p.scan(axe, r.Path)
						}
					}
				}
			}
			visit("guest", "any")
			p.open(srv.URL + "/no/such/page")
			p.scan(axe, "not found")

			p.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
			visit("member", "any")
			p.open(srv.URL + "/no/such/page")
			p.scan(axe, "not found, signed in")
			// The states a first load does not show: the calendar link
			// with its QR code, a door opened.
			p.open(srv.URL + "/account")
			p.click("Créer mon lien d’agenda")
			p.waitJS(`!!document.querySelector("main img.feed__qr")`, "the QR code")
			p.scan(axe, "/account, calendar link made")
			p.open(srv.URL + "/")
			p.waitJS(`!!document.querySelector("main .door__button")`, "the doors")
			p.do(chromedp.Click(chromedp.JSPath(`document.querySelector("main .door__button")`)))
			p.waitJS(`!!document.querySelector("main .door .alert")`, "the door's answer")
			p.scan(axe, "/, a door opened")
		})
	}
}
