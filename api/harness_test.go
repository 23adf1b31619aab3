package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/api"
	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/people"
	"github.com/relais-tierslieux/relais/privacy"
	"github.com/relais-tierslieux/relais/reports"
	"github.com/relais-tierslieux/relais/webhooks"
)

// harness runs the whole API over a real HTTP server and a fresh database.
// Every exchange is validated against openapi.yaml.
type harness struct {
	t      testing.TB
	db     *bun.DB
	srv    *httptest.Server
	api    *api.Server
	access *identity.Service
	cal    *calendar.Service
	bill   *billing.Service
	// billCfg is what bill was built with, calCfg cal without its guard,
	// gateCfg the gate (see restart).
	billCfg billing.Config
	calCfg  calendar.Config
	gateCfg access.GateConfig
	// contributions is what the campaigns are built on (see restart).
	contributions *campaigns.Contributions
	// entitlements: the calendar asks billing's entitlement check (see
	// checkEntitlements).
	entitlements bool
	dev          *devices.Service
	gate         *access.Gate
	jobs         *jobs.Queue
	clock        *testClock
	mails        *mailtest.Server
	// privacyCfg is what the privacy service is built with (see restart).
	privacyCfg privacy.Config
	// serviceEvents is where ateliers and appointments tell their changes
	// (nil: nowhere), set by a test of their mails before restart.
	serviceEvents events.Publisher
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type harnessOpt func(*identity.Config)

func withRateLimits(l identity.RateLimits) harnessOpt {
	return func(c *identity.Config) { c.RateLimits = l }
}

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	d := dbtest.New(t)
	clk := &testClock{t: time.Now().UTC()}
	// Verification links go through a real SMTP exchange.
	mails := mailtest.Start(t)
	mailer, err := mail.NewSMTP(mails.URL, "Relais <relais@example.fr>")
	if err != nil {
		t.Fatal(err)
	}
	// The jobs (registration mails, the gate's, calendar's and billing's)
	// are queued and worked only by a test that starts a client (see
	// doors_test.go, verification_test.go).
	queue := jobstest.Queue(t, d)
	cfg := identity.Config{
		JWTSecret: []byte("test-secret-test-secret-test-secret!"),
		Hash:      identity.HashParams{MemoryKiB: 64, Time: 1, Threads: 1},
		Now:       clk.Now,
		Mailer:    mailer,
		Jobs:      queue,
	}
	for _, o := range opts {
		o(&cfg)
	}
	acc, err := identity.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The ledger queues its expiries; no job client runs here, so tests
	// expire credit through ExpireDue.
	led := ledger.New(d, ledger.Config{Now: clk.Now, Jobs: queue, Accounts: acc, Sites: calendar.DevicePlaces{}})
	// Online payment is off unless a test turns it on (h.withStripe).
	invoices := invoicing.NewInvoicer(d, clk.Now)
	contributions := campaigns.NewContributions(d, campaigns.Config{Events: events.Discard, Now: clk.Now, Jobs: queue, Ledger: led, Invoicer: invoices, Accounts: acc})
	billCfg := billing.Config{Events: events.Discard, Now: clk.Now, Invoicer: invoices, Accounts: acc, Ledger: led, Contributions: contributions}
	bill := billing.New(d, billCfg)
	camp := campaigns.New(contributions, bill)
	// Billing is there, but its entitlement check is not the calendar's
	// guard unless a test asks (h.checkEntitlements): calendar tests book
	// without memberships.
	calCfg := calendar.Config{Events: events.Discard, Now: clk.Now, Jobs: queue, Accounts: acc}
	cal := calendar.New(d, calCfg)
	// Devices are registered but not connected to a broker unless a test
	// starts one (see doors_test.go): commands then fail as offline.
	dev := devices.New(d, devices.Config{Places: calendar.DevicePlaces{}, CommandTimeout: 2 * time.Second})
	gateCfg := access.GateConfig{Publisher: events.Discard, Now: clk.Now, Jobs: queue, Accounts: acc}
	gate := access.NewGate(d, cal, bill, dev, gateCfg)
	// Webhook endpoints may be http:// on loopback here, as with
	// --webhook-allow-private; their deliveries are the webhooks package's
	// tests.
	hooks := webhooks.New(d, webhooks.Config{Jobs: queue, Managers: acc, Mail: mailer, AllowPrivate: true, Now: clk.Now})
	appts := testAppointments(t, d, acc, cal, clk.Now)
	atel := testAteliers(t, d, acc, bill, cal, clk.Now)
	peopleSvc := testPeople(t, d, acc, bill, cal, invoices, led, clk.Now, cal, bill, led, atel, appts)
	privacyCfg := privacy.Config{DB: d, Jobs: queue, Identity: acc, Calendar: cal, Billing: bill, Ledger: led, Invoices: invoices,
		Campaigns: camp, Access: access.NewEvents(d, gateCfg), People: peopleSvc, Ateliers: atel, Appointments: appts, Mailer: mailer, Now: clk.Now}
	a := api.New(api.Deps{
		People:       peopleSvc,
		Ateliers:     atel,
		Reports:      testReports(t, d, cal, clk.Now),
		Appointments: appts,
		Privacy:      testPrivacy(t, privacyCfg),
		Access:       acc,
		Calendar:     cal,
		Billing:      bill,
		Ledger:       led,
		Campaigns:    camp,
		Invoices:     invoices,
		Closings:     closings.New(d, closings.Config{Now: clk.Now, Invoices: invoices}),
		Devices:      dev,
		Gate:         gate,
		Dashboard:    testDashboard(cal, bill, invoices, gate, dev, clk.Now),
		Webhooks:     hooks,
		Idempotency:  idempotency.New(d, clk.Now),
		Ready:        func(ctx context.Context) error { return d.PingContext(ctx) },
	})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return &harness{t: t, db: d, srv: srv, api: a, access: acc, cal: cal, bill: bill, billCfg: billCfg, calCfg: calCfg, gateCfg: gateCfg, contributions: contributions, dev: dev, gate: gate, jobs: queue, clock: clk, mails: mails, privacyCfg: privacyCfg}
}

// withStripe restarts the application over the same database with online
// payment configured as sc, as a restart with another configuration would.
func (h *harness) withStripe(sc billing.StripeConfig) {
	h.t.Helper()
	h.billCfg.Stripe = sc
	h.restart()
}

// checkEntitlements restarts the application with billing's entitlement
// check as the calendar's guard (on), as serve has it, or without (off).
func (h *harness) checkEntitlements(on bool) {
	h.t.Helper()
	h.entitlements = on
	h.restart()
}

// restart builds billing, the campaigns, the calendar, the gate and the API
// again from their configurations, over the same database, identity and
// devices: the services keep no state a restart would lose but caches.
func (h *harness) restart() {
	h.bill = billing.New(h.db, h.billCfg)
	calCfg := h.calCfg
	if h.entitlements {
		calCfg.Guard = h.bill
		calCfg.Pricer = h.bill
	}
	h.cal = calendar.New(h.db, calCfg)
	h.gate = access.NewGate(h.db, h.cal, h.bill, h.dev, h.gateCfg)
	d := h.api.Deps
	d.Billing = h.bill
	d.Campaigns = campaigns.New(h.contributions, h.bill)
	d.Calendar = h.cal
	d.Gate = h.gate
	d.Dashboard = testDashboard(h.cal, h.bill, d.Invoices, h.gate, h.dev, h.clock.Now)
	h.privacyCfg.Calendar, h.privacyCfg.Billing, h.privacyCfg.Campaigns = h.cal, h.bill, d.Campaigns
	d.Ateliers = testAteliers(h.t, h.db, h.access, h.bill, h.cal, h.clock.Now, h.serviceEvents)
	h.privacyCfg.Ateliers = d.Ateliers
	d.Appointments = testAppointments(h.t, h.db, h.access, h.cal, h.clock.Now, h.serviceEvents)
	d.People = testPeople(h.t, h.db, h.access, h.bill, h.cal, h.privacyCfg.Invoices, h.privacyCfg.Ledger, h.clock.Now, h.cal, h.bill, h.privacyCfg.Ledger, d.Ateliers, d.Appointments)
	h.privacyCfg.Appointments = d.Appointments
	h.privacyCfg.People = d.People
	d.Privacy = testPrivacy(h.t, h.privacyCfg)
	d.Registry = nil // a fresh one: the first server's holds its metrics
	h.api = api.New(d)
	h.srv = httptest.NewServer(h.api)
	h.t.Cleanup(h.srv.Close)
}

// testPeople builds the front desk's people over the services given.
func testPeople(t testing.TB, d *bun.DB, acc *identity.Service, bill *billing.Service, cal *calendar.Service,
	inv *invoicing.Invoicer, led *ledger.Service, now func() time.Time, movers ...people.HistoryMover) *people.Service {
	t.Helper()
	svc, err := people.New(d, people.Config{Identity: acc, Billing: bill, Calendar: cal, Sites: calendar.DevicePlaces{},
		Invoices: inv, Credits: led, Now: now, Visits: []people.Visits{people.DoorVisits{}, calendar.CheckInVisits{}}, Movers: movers})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func testAppointments(t testing.TB, d *bun.DB, acc *identity.Service, cal *calendar.Service, now func() time.Time, ev ...events.Publisher) *appointments.Service {
	t.Helper()
	cfg := appointments.Config{Calendar: cal, Accounts: acc, Now: now}
	if len(ev) > 0 {
		cfg.Events = ev[0]
	}
	svc, err := appointments.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func testAteliers(t testing.TB, d *bun.DB, acc *identity.Service, bill *billing.Service, cal *calendar.Service, now func() time.Time, ev ...events.Publisher) *ateliers.Service {
	t.Helper()
	cfg := ateliers.Config{Calendar: cal, Rights: bill, Payments: bill, Accounts: acc, Now: now}
	if len(ev) > 0 {
		cfg.Events = ev[0]
	}
	svc, err := ateliers.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func testReports(t testing.TB, d *bun.DB, cal *calendar.Service, now func() time.Time) *reports.Service {
	t.Helper()
	svc, err := reports.New(d, cal, now)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem decodes a problem+json body, failing unless it is one.
func (r *response) problem(t testing.TB) problemDoc {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with content type %q, want application/problem+json; body %s", r.Status, ct, r.Body)
	}
	var p problemDoc
	r.decode(t, &p)
	return p
}

type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func (p problemDoc) hasField(name string) bool {
	for _, e := range p.Errors {
		if e.Field == name {
			return true
		}
	}
	return false
}

type req struct {
	method  string
	path    string
	token   string
	body    any // marshalled to JSON unless it is a string or []byte
	headers map[string]string
}

func (h *harness) do(r req) *response {
	h.t.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	hr, err := http.NewRequest(r.method, h.srv.URL+r.path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	// The tests assert the English of problem documents, which is the
	// code's own text, while a server speaks French by default
	// (--default-language fr): so the client asks for English, as an
	// English-speaking app would. A test sets another Accept-Language in
	// headers, or "" to send none (language_test.go).
	hr.Header.Set("Accept-Language", "en")
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	resp, err := h.srv.Client().Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	// The spec validator reads the request again.
	hr.Body = io.NopCloser(bytes.NewReader(body))
	checkAgainstSpec(h.t, hr, body, resp, out)
	if resp.StatusCode == http.StatusInternalServerError {
		h.t.Errorf("%s %s: server error %d: %s", r.method, r.path, resp.StatusCode, out)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		h.t.Errorf("%s %s: no X-Request-Id", r.method, r.path)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// expect fails the test unless the response has the given status.
func (r *response) expect(t testing.TB, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Body)
	}
	return r
}

const password = "correct horse battery"

// member registers and logs in a member, returning their id and tokens.
func (h *harness) member(email string) (userID, accessToken, refreshToken string) {
	h.t.Helper()
	var u struct{ ID string }
	h.do(req{method: "POST", path: "/v1/auth/register", body: map[string]string{"email": email, "password": password, "name": strings.Split(email, "@")[0]}}).
		expect(h.t, http.StatusCreated).decode(h.t, &u)
	at, rt := h.login(email, password)
	return u.ID, at, rt
}

func (h *harness) login(email, pw string) (accessToken, refreshToken string) {
	h.t.Helper()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": email, "password": pw}}).
		expect(h.t, http.StatusOK).decode(h.t, &tok)
	return tok.AccessToken, tok.RefreshToken
}

// admin creates an admin account and returns its access token.
func (h *harness) admin() (userID, token string) {
	h.t.Helper()
	u, _, err := h.access.EnsureAdmin(context.Background(), "admin@relais.test", password)
	if err != nil {
		h.t.Fatal(err)
	}
	at, _ := h.login("admin@relais.test", password)
	return u.ID, at
}

func siteBody(name string) map[string]any {
	return map[string]any{
		"name":     name,
		"timezone": "Europe/Paris",
		"address":  map[string]any{"line1": "2 place de la Mairie", "postal_code": "23000", "city": "Guéret", "country": "FR"},
		"opening_hours": map[string]any{
			"mon": [][]string{{"09:00", "12:30"}, {"14:00", "19:00"}},
			"sat": [][]string{},
		},
		"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}
}

func (h *harness) site(adminToken, name string) string {
	h.t.Helper()
	var s struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites", token: adminToken, body: siteBody(name)}).expect(h.t, http.StatusCreated).decode(h.t, &s)
	return s.ID
}
