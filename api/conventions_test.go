package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
)

func TestUnknownRoutesAndMethodsAreProblems(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.do(req{method: "GET", path: "/v1/nothing-here"}).expect(t, http.StatusNotFound).problem(t)
	if p.Status != 404 || p.RequestID == "" {
		t.Fatalf("404 problem = %+v", p)
	}
	r := h.do(req{method: "PUT", path: "/v1/sites"}).expect(t, http.StatusMethodNotAllowed)
	r.problem(t)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow = %q", allow)
	}
}

func TestBadBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
	}{
		{"malformed", `{"name": `, "application/json", http.StatusBadRequest},
		{"not an object", `[1,2]`, "application/json", http.StatusBadRequest},
		{"two values", `{"name":"a"} {"name":"b"}`, "application/json", http.StatusBadRequest},
		{"empty", ``, "application/json", http.StatusBadRequest},
		{"wrong content type", `{"name":"a"}`, "text/plain", http.StatusUnsupportedMediaType},
		{"no content type", `{"name":"a"}`, "", http.StatusUnsupportedMediaType},
		{"too large", `{"name":"` + strings.Repeat("a", 1<<20) + `"}`, "application/json", http.StatusRequestEntityTooLarge},
		{"wrong type nested", `{"name":"x","timezone":"Europe/Paris","address":{"line1":3}}`, "application/json", http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.do(req{method: "POST", path: "/v1/sites", token: admin, body: tt.body, headers: map[string]string{"Content-Type": tt.ctype}}).
				expect(t, tt.status).problem(t)
		})
	}
	var sites struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/sites", token: admin}).expect(t, http.StatusOK).decode(t, &sites)
	if len(sites.Items) != 0 {
		t.Fatalf("bad bodies created %d sites", len(sites.Items))
	}
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	key := map[string]string{"Idempotency-Key": "create-fabrique"}
	first := h.do(req{method: "POST", path: "/v1/sites", token: admin, body: siteBody("La Fabrique"), headers: key}).expect(t, http.StatusCreated)
	again := h.do(req{method: "POST", path: "/v1/sites", token: admin, body: siteBody("La Fabrique"), headers: key}).expect(t, http.StatusCreated)
	if string(first.Body) != string(again.Body) || again.Header.Get("Idempotent-Replayed") != "true" ||
		again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay differs:\n%s\n%s", first.Body, again.Body)
	}
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: siteBody("Another"), headers: key}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	var sites struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/sites", token: admin}).expect(t, http.StatusOK).decode(t, &sites)
	if len(sites.Items) != 1 {
		t.Fatalf("%d sites after a replay and a reused key, want 1", len(sites.Items))
	}
	// Keys belong to their caller: another user's identical key is a new request.
	h.do(req{method: "POST", path: "/v1/auth/register", headers: key, body: map[string]string{"email": "a@example.fr", "password": password, "name": "A"}}).
		expect(t, http.StatusCreated)
}

func TestIdempotencyUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = h.do(req{method: "POST", path: "/v1/sites", token: admin, body: siteBody("La Fabrique"),
				headers: map[string]string{"Idempotency-Key": "race"}}).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusCreated && s != http.StatusConflict {
			t.Fatalf("statuses = %v: want only 201 (first or replay) and 409 (in progress)", statuses)
		}
	}
	var sites struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/sites", token: admin}).expect(t, http.StatusOK).decode(t, &sites)
	if len(sites.Items) != 1 {
		t.Fatalf("%d sites created by %d concurrent requests with one key, want 1", len(sites.Items), n)
	}
}

func TestPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, admin := h.admin()
	for i := range 5 {
		h.site(admin, fmt.Sprintf("Site %d", i))
	}
	seen := map[string]bool{}
	path := "/v1/sites?limit=2"
	pages := 0
	for {
		var pg struct {
			Items      []struct{ ID string }
			NextCursor string `json:"next_cursor"`
		}
		h.do(req{method: "GET", path: path, token: admin}).expect(t, http.StatusOK).decode(t, &pg)
		pages++
		for _, s := range pg.Items {
			if seen[s.ID] {
				t.Fatalf("site %s on two pages", s.ID)
			}
			seen[s.ID] = true
		}
		if pg.NextCursor == "" {
			break
		}
		path = "/v1/sites?limit=2&cursor=" + pg.NextCursor
	}
	if len(seen) != 5 || pages != 3 {
		t.Fatalf("saw %d sites in %d pages, want 5 in 3", len(seen), pages)
	}
	for _, bad := range []string{"?limit=0", "?limit=1000", "?limit=x", "?cursor=!!!", "?cursor=bm90LWFuLWlk"} {
		p := h.do(req{method: "GET", path: "/v1/sites" + bad, token: admin}).expect(t, http.StatusBadRequest).problem(t)
		if len(p.Errors) != 1 {
			t.Errorf("%s: problem does not name the parameter: %+v", bad, p)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(req{method: "GET", path: "/healthz"}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/readyz"}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/sites/x"}).expect(t, http.StatusUnauthorized)
	r := h.do(req{method: "GET", path: "/metrics"}).expect(t, http.StatusOK)
	want := `relais_http_requests_total{method="GET",route="GET /v1/sites/{site_id}",status="401"} 1`
	if !strings.Contains(string(r.Body), want) {
		t.Fatalf("metrics lack %q:\n%s", want, r.Body)
	}
}

func TestRateLimitedAnswersAreNotReplayed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRateLimits(identity.RateLimits{PerIP: identity.Limit{Max: 1, Window: time.Minute}}))
	key := map[string]string{"Idempotency-Key": "signup"}
	body := map[string]string{"email": "a@example.fr", "password": password, "name": "A"}
	h.do(req{method: "POST", path: "/v1/auth/register", body: map[string]string{"email": "b@example.fr", "password": password, "name": "B"}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/auth/register", headers: key, body: body}).expect(t, http.StatusTooManyRequests)
	h.clock.Advance(time.Minute)
	h.do(req{method: "POST", path: "/v1/auth/register", headers: key, body: body}).expect(t, http.StatusCreated)
}
