//go:build browser

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkPlanningPage: the console's planning of a site with 500
// resources (440 desks, 50 rooms, 10 zones) and a busy week (three
// bookings a day on every resource for seven days: 10,500), in headless
// Chromium at 1280 × 800 on loopback, relais serve on SQLite. Each round
// opens the planning, moves to tomorrow (1,500 bookings) and shows the
// week, and reports the milliseconds from the click to the grid drawn
// (medians over the rounds), the API calls and the bytes the page read.
// For BENCHMARKS.md ("The planning of 500 resources"):
//
//	go test -tags browser -run '^$' -bench PlanningPage -benchtime 3x ./e2e/
func BenchmarkPlanningPage(b *testing.B) {
	const (
		desks, rooms, zones = 440, 50, 10
		members             = 20
	)
	srv := startRelais(b, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	admin := srv.login(b, "admin@example.org", "la phrase de l’administratrice")
	const zone = "Europe/Paris"
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var site, plan struct{ ID string }
	srv.call(b, "POST", "/v1/sites", admin, map[string]any{
		"name": "La Grande Halle", "timezone": zone, "opening_hours": hours,
		"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Grande Halle", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &site)
	srv.call(b, "POST", "/v1/plans", admin, map[string]any{"site_id": site.ID, "kind": "membership", "name": "Résident",
		"price_cents": 30000, "includes": map[string]any{"resource_kinds": []string{"desk", "room", "zone"}}}, http.StatusCreated, &plan)

	// Many requests at once, as many as relais answers well on two cores.
	// Workers cannot fail the benchmark themselves (FailNow ends only the
	// goroutine that calls it): the first error stops the seeding.
	parallel := func(n int, do func(i int) error) {
		var (
			wg     sync.WaitGroup
			once   sync.Once
			first  error
			failed atomic.Bool
		)
		work := make(chan int)
		for range 4 {
			wg.Go(func() {
				for i := range work {
					if err := do(i); err != nil {
						once.Do(func() { first = err })
						failed.Store(true)
					}
				}
			})
		}
		for i := range n {
			if failed.Load() {
				break
			}
			work <- i
		}
		close(work)
		wg.Wait()
		if first != nil {
			b.Fatal(first)
		}
	}
	resources := make([]string, desks+rooms+zones)
	parallel(len(resources), func(i int) error {
		body := map[string]any{"kind": "desk", "name": fmt.Sprintf("Bureau %03d", i+1)}
		switch {
		case i >= desks+rooms:
			body = map[string]any{"kind": "zone", "name": fmt.Sprintf("Open space %d", i-desks-rooms+1), "capacity": 12}
		case i >= desks:
			body = map[string]any{"kind": "room", "name": fmt.Sprintf("Salle %02d", i-desks+1), "capacity": 8}
		}
		var r struct{ ID string }
		err := srv.post(admin, "/v1/sites/"+site.ID+"/resources", body, &r)
		resources[i] = r.ID
		return err
	})
	people := make([]string, members)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		b.Fatal(err)
	}
	today := time.Now().In(loc)
	address := map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "69002", "city": "Lyon", "country": "FR"}}
	for i := range people {
		people[i] = srv.register(b, fmt.Sprintf("Membre %02d", i+1), fmt.Sprintf("membre%02d@example.org", i+1), "une phrase de membre")
		srv.call(b, "POST", "/v1/sites/"+site.ID+"/payments", admin, map[string]any{"user_id": people[i], "plan_id": plan.ID, "method": "cash",
			"amount_cents": 30000, "date": today.Format("2006-01-02"), "buyer": address}, http.StatusCreated, nil)
	}
	// From tomorrow, so that no booking is in the past: 9–11, 13–15, 16–18.
	slots := [][2]string{{"09:00", "11:00"}, {"13:00", "15:00"}, {"16:00", "18:00"}}
	parallel(len(resources)*7*len(slots), func(i int) error {
		r, rest := i%len(resources), i/len(resources)
		day, slot := today.AddDate(0, 0, 1+rest/len(slots)).Format("2006-01-02"), slots[rest%len(slots)]
		return srv.post(admin, "/v1/reservations", map[string]any{"resource_id": resources[r], "user_id": people[i%members],
			"start": day + "T" + slot[0], "end": day + "T" + slot[1]}, nil)
	})

	browserCtx := browser(b)
	var dayMS, fetchMS, weekMS []float64
	var calls, bytes, nodes int
	b.ResetTimer()
	for b.Loop() {
		p := newPage(b, browserCtx, viewports[1])
		p.open(srv.URL + "/sign-in")
		p.fill("Adresse e-mail", "admin@example.org")
		p.fill("Mot de passe", "la phrase de l’administratrice")
		p.click("Se connecter")
		p.waitHeading("Aujourd’hui")
		p.open(srv.URL + "/console/planning")
		p.waitJS(fmt.Sprintf(`document.querySelectorAll("main table.console-grid tbody tr").length === %d`, len(resources)), "today's grid")
		// The click is dispatched from a timer, so that the call returns
		// before the page starts its work: what follows is measured.
		click := func(text string) {
			p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.t0 = performance.now();
				setTimeout(() => [...document.querySelectorAll("main button")].find((b) => b.textContent === %q).click(), 0)`, text)))
		}
		p.do(chromedp.Evaluate[chromedp.Void](`performance.clearResourceTimings()`))
		click("Jour suivant")
		p.waitLong(`document.querySelectorAll("main table.console-grid td.console-busy").length > 0`, "tomorrow's grid")
		dayMS = append(dayMS, evalLong[float64](p, `performance.now() - window.t0`))
		calls = evalLong[int](p, `performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname.startsWith("/v1/")).length`)
		// The bodies as they came (compressed), whoever served them: the
		// service worker's answers have no transferSize.
		bytes = evalLong[int](p, `performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname.startsWith("/v1/")).reduce((n, e) => n + e.encodedBodySize, 0)`)
		// When the last answer arrived: what is left is drawing.
		fetchMS = append(fetchMS, evalLong[float64](p, `Math.max(...performance.getEntriesByType("resource").filter((e) => new URL(e.name).pathname.startsWith("/v1/")).map((e) => e.responseEnd)) - window.t0`))
		nodes = evalLong[int](p, `document.getElementsByTagName("*").length`)
		click("La semaine")
		p.waitLong(fmt.Sprintf(`document.querySelectorAll("main table.console-week tbody tr").length === %d && document.querySelectorAll("main table.console-week td.console-busy").length > 0`, len(resources)), "the week")
		weekMS = append(weekMS, evalLong[float64](p, `performance.now() - window.t0`))
	}
	b.ReportMetric(median(dayMS), "ms-day")
	b.ReportMetric(median(fetchMS), "ms-day-fetched")
	b.ReportMetric(median(weekMS), "ms-week")
	b.ReportMetric(float64(calls), "calls-day")
	b.ReportMetric(float64(bytes)/1024, "KiB-day")
	b.ReportMetric(float64(nodes), "nodes-day")
	b.Logf("day %v ms (answers in %v ms), week %v ms", rounded(dayMS), rounded(fetchMS), rounded(weekMS))
}

// post creates through the API like call, from any goroutine: it returns
// what went wrong rather than fail the test.
func (r *relais) post(token, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest("POST", r.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %d %s", path, res.StatusCode, answer)
	}
	if out != nil {
		return json.Unmarshal(answer, out)
	}
	return nil
}

// waitLong is waitJS for a page that may hold its main thread for long
// (a figure to measure, not a journey): up to 3 minutes.
func (p *page) waitLong(predicate, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// evalLong is eval with waitLong's patience.
func evalLong[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}
