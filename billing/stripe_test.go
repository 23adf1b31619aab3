package billing

// Internal tests: they record what billing asks invoicing to issue, and
// read the Stripe-only columns.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

const testWebhookSecret = "whsec_relais_test"

type stripeFixture struct {
	db     *bun.DB
	cal    *calendar.Service
	bill   *Service
	site   *calendar.Site
	users  []string
	clock  *time.Time
	issued *invoiceRecorder
	// cfg is what bill was built with, calCfg cal (without its guard),
	// for rebuild.
	cfg    Config
	calCfg calendar.Config

	membership, dayPass, pack *Plan
}

// invoiceRecorder stands in for the invoicer: it records what billing asks
// it to issue and issues "inv_1", "inv_2"... and "avoir_1"...
type invoiceRecorder struct {
	mu       sync.Mutex
	invoiced []invoicing.InvoiceInput // what each invoice was for
	credited []int64                  // the amount of each credit note
	reasons  []string                 // and its reason
}

func (h *invoiceRecorder) Issue(ctx context.Context, tx bun.IDB, in invoicing.InvoiceInput) (*invoicing.Invoice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.invoiced = append(h.invoiced, in)
	return &invoicing.Invoice{ID: fmt.Sprintf("inv_%d", len(h.invoiced))}, nil
}

func (h *invoiceRecorder) IssueCreditNote(ctx context.Context, tx bun.IDB, originalID string, in invoicing.CreditNoteInput) (*invoicing.Invoice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.credited = append(h.credited, in.AmountCents)
	h.reasons = append(h.reasons, in.Reason)
	return &invoicing.Invoice{ID: fmt.Sprintf("avoir_%d", len(h.credited))}, nil
}

func (h *invoiceRecorder) invoices() []invoicing.InvoiceInput {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]invoicing.InvoiceInput(nil), h.invoiced...)
}

func (h *invoiceRecorder) creditReasons() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.reasons...)
}

func (h *invoiceRecorder) credits() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int64(nil), h.credited...)
}

// newStripeFixture is a site with a membership, a day pass and a pack on
// sale, members, and billing talking to Stripe at apiURL ("" leaves Stripe
// unconfigured).
func newStripeFixture(t testing.TB, members int, apiURL string) *stripeFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, paris)
	clock := &now
	nowFn := func() time.Time { return *clock }
	issued := &invoiceRecorder{}
	accounts := testAccounts(t, d)
	credits := ledger.New(d, ledger.Config{Now: nowFn, Jobs: jobstest.Queue(t, d), Accounts: accounts, Sites: calendar.DevicePlaces{}})
	cfg := Config{Events: events.Discard, Now: nowFn, Invoicer: issued, Accounts: accounts, Ledger: credits}
	if apiURL != "" {
		cfg.Stripe = StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: testWebhookSecret, APIURL: apiURL}
	}
	bill := New(d, cfg)
	calCfg := calendar.Config{Events: events.Discard, Now: nowFn, Jobs: jobstest.Queue(t, d), Accounts: accounts}
	cal := calendar.New(d, guardedBy(calCfg, bill))
	site, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &stripeFixture{db: d, cal: cal, bill: bill, site: site, clock: clock, issued: issued, cfg: cfg, calCfg: calCfg}
	for i := range members {
		f.users = append(f.users, dbtest.User(t, d, fmt.Sprintf("m%d@example.fr", i), fmt.Sprintf("Membre %d", i)))
	}
	plan := func(in NewPlan) *Plan {
		in.SiteID = &site.ID
		p, err := bill.CreatePlan(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.membership = plan(NewPlan{Kind: PlanMembership, Name: "Nomade", PriceCents: 30000})
	f.dayPass = plan(NewPlan{Kind: PlanDayPass, Name: "Journée", PriceCents: 2500})
	f.pack = plan(NewPlan{Kind: PlanPack, Name: "10 h de salle", PriceCents: 12000,
		Includes: Includes{PackResourceKind: calendar.KindRoom, PackMinutes: 600, PackValidDays: 180}})
	return f
}

// testAccounts is identity's service over d, which billing reads members'
// names and emails through.
func testAccounts(t testing.TB, d *bun.DB) *identity.Service {
	t.Helper()
	acc, err := identity.New(d, identity.Config{JWTSecret: []byte("billing-test-secret-of-at-least-32-bytes"), Jobs: jobstest.Queue(t, d)})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// rebuild builds billing again over the same database with cfg changed by
// change, and the calendar it guards, as a restart with another
// configuration would.
func (f *stripeFixture) rebuild(change func(*Config)) {
	change(&f.cfg)
	f.bill = New(f.db, f.cfg)
	f.cal = calendar.New(f.db, guardedBy(f.calCfg, f.bill))
}

// guardedBy is cfg with bill's entitlement check as the calendar's guard.
func guardedBy(cfg calendar.Config, bill *Service) calendar.Config {
	cfg.Guard = bill
	return cfg
}

// withStripe rebuilds billing with another Stripe configuration.
func (f *stripeFixture) withStripe(sc StripeConfig) { f.rebuild(func(c *Config) { c.Stripe = sc }) }

// withInvoicer rebuilds billing with the real invoicer.
func (f *stripeFixture) withInvoicer() {
	f.rebuild(func(c *Config) { c.Invoicer = invoicing.NewInvoicer(f.db, func() time.Time { return *f.clock }) })
}

func (f *stripeFixture) payment(t testing.TB, payID string) stripePayment {
	t.Helper()
	var p stripePayment
	if err := f.db.NewSelect().Model(&p).Where("id = ?", payID).Scan(context.Background()); err != nil {
		t.Fatalf("payment %s: %v", payID, err)
	}
	return p
}

func (f *stripeFixture) membershipRow(t testing.TB, id string) stripeMembership {
	t.Helper()
	var m stripeMembership
	if err := f.db.NewSelect().Model(&m).Where("id = ?", id).Scan(context.Background()); err != nil {
		t.Fatalf("membership %s: %v", id, err)
	}
	return m
}

// targetStatus is the status of a payment's membership, day pass or pack.
func (f *stripeFixture) targetStatus(t testing.TB, purpose, id string) string {
	t.Helper()
	var status string
	if err := f.db.NewSelect().Table(targetTable(purpose)).Column("status").Where("id = ?", id).Scan(context.Background(), &status); err != nil {
		t.Fatalf("%s %s: %v", purpose, id, err)
	}
	return status
}

func (f *stripeFixture) count(t testing.TB, table, where string, args ...any) int {
	t.Helper()
	n, err := f.db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *stripeFixture) checkoutRequest(kind string) CheckoutRequest {
	req := CheckoutRequest{SuccessURL: "https://relais.example.fr/paye", CancelURL: "https://relais.example.fr/annule",
		Buyer: &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}}
	switch kind {
	case PlanMembership:
		req.PlanID = f.membership.ID
	case PlanDayPass:
		req.DayPass = &DayPassCheckout{SiteID: f.site.ID, Date: "2026-03-04"}
	case PlanPack:
		req.PackID = f.pack.ID
	}
	return req
}

func (f *stripeFixture) checkout(t testing.TB, user, kind string) *CheckoutResult {
	t.Helper()
	res, err := f.bill.Checkout(context.Background(), user, f.checkoutRequest(kind))
	if err != nil {
		t.Fatalf("checkout %s: %v", kind, err)
	}
	return res
}

func problemCode(err error) string {
	var p *errs.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return fmt.Sprint(err)
}

func TestStripeCheckout(t *testing.T) {
	t.Parallel()
	proxyURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f := newStripeFixture(t, 2, proxyURL)
	ctx := context.Background()
	member := f.users[0]
	for _, tc := range []struct {
		kind string
		plan *Plan
		mode string
		name string
	}{
		{PlanMembership, f.membership, "subscription", "Nomade"},
		{PlanDayPass, f.dayPass, "payment", "Journée – 2026-03-04"},
		{PlanPack, f.pack, "payment", "10 h de salle"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			res := f.checkout(t, member, tc.kind)
			if !strings.HasPrefix(res.URL, "https://") || !strings.HasPrefix(res.SessionID, "cs_") {
				t.Fatalf("result = %+v, want a checkout URL and session id", res)
			}
			pay := f.payment(t, res.PaymentID)
			if pay.Status != payPending || pay.Provider != SourceStripe || pay.Method != MethodCard || pay.Purpose != tc.kind ||
				pay.AmountCents != tc.plan.PriceCents || *pay.PlanID != tc.plan.ID || *pay.TargetID != res.TargetID ||
				pay.StripeCheckoutSessionID == nil || *pay.StripeCheckoutSessionID != res.SessionID {
				t.Fatalf("payment = %+v", pay)
			}
			if got := f.targetStatus(t, tc.kind, res.TargetID); got != StatusPending {
				t.Fatalf("%s is %s, want pending", tc.kind, got)
			}
			var source string
			f.db.NewSelect().Table(targetTable(tc.kind)).Column("source").Where("id = ?", res.TargetID).Scan(ctx, &source)
			if source != SourceStripe {
				t.Fatalf("source = %q, want stripe", source)
			}
			sessions := rec.Posts("/v1/checkout/sessions")
			sent := sessions[len(sessions)-1]
			want := map[string]string{
				"mode":                    tc.mode,
				"client_reference_id":     res.PaymentID,
				"metadata[payment_id]":    res.PaymentID,
				"metadata[target_id]":     res.TargetID,
				"metadata[user_id]":       member,
				"line_items[0][quantity]": "1",
				"success_url":             "https://relais.example.fr/paye",
			}
			if tc.kind == PlanMembership {
				// A subscription bills the plan's own Stripe Price, created
				// once with the plan's name, amount and id.
				p, _ := f.bill.GetPlan(ctx, tc.plan.ID)
				if p.StripePriceID == nil || p.StripeProductID == nil {
					t.Fatalf("plan has no Stripe price after its checkout: %+v", p)
				}
				want["line_items[0][price]"] = *p.StripePriceID
				products, prices := rec.Posts("/v1/products"), rec.Posts("/v1/prices")
				if len(products) != 1 || products[0].Form.Get("name") != "Nomade" || products[0].Form.Get("metadata[plan_id]") != p.ID ||
					products[0].IdempotencyKey != "relais-product-"+p.ID {
					t.Errorf("product creations = %+v", products)
				}
				if len(prices) != 1 || prices[0].Form.Get("product") != *p.StripeProductID || prices[0].Form.Get("unit_amount") != "30000" ||
					prices[0].Form.Get("currency") != "eur" || prices[0].Form.Get("recurring[interval]") != "month" ||
					prices[0].Form.Get("metadata[plan_id]") != p.ID || prices[0].IdempotencyKey != "relais-price-"+p.ID {
					t.Errorf("price creations = %+v", prices)
				}
				if sent.Form.Get("line_items[0][price_data][unit_amount]") != "" {
					t.Errorf("subscription session with an inline price")
				}
			} else {
				want["line_items[0][price_data][currency]"] = "eur"
				want["line_items[0][price_data][unit_amount]"] = fmt.Sprint(tc.plan.PriceCents)
				want["line_items[0][price_data][product_data][name]"] = tc.name
				if got := sent.Form.Get("line_items[0][price_data][recurring][interval]"); got != "" {
					t.Errorf("recurring interval = %q for a one-off payment", got)
				}
			}
			for key, want := range want {
				if got := sent.Form.Get(key); got != want {
					t.Errorf("session %s = %q, want %q", key, got, want)
				}
			}
			if sent.IdempotencyKey != "relais-checkout-"+res.PaymentID {
				t.Errorf("idempotency key = %q", sent.IdempotencyKey)
			}
		})
	}
	// One Stripe customer per member, created once and reused.
	customers := rec.Posts("/v1/customers")
	if len(customers) != 1 || customers[0].IdempotencyKey != "relais-customer-"+member || customers[0].Form.Get("email") != "m0@example.fr" {
		t.Fatalf("customer creations = %+v, want one for the member", customers)
	}
	var customerID string
	if err := f.db.NewSelect().Table("stripe_customers").Column("customer_id").Where("user_id = ?", member).Scan(ctx, &customerID); err != nil {
		t.Fatal(err)
	}
	for _, s := range rec.Posts("/v1/checkout/sessions") {
		if s.Form.Get("customer") != customerID {
			t.Fatalf("session for customer %q, want the stored %q", s.Form.Get("customer"), customerID)
		}
	}
	// Another member gets their own.
	f.checkout(t, f.users[1], PlanDayPass)
	if n := len(rec.Posts("/v1/customers")); n != 2 || f.count(t, "stripe_customers", "TRUE") != 2 {
		t.Fatalf("%d customers created, want 2", n)
	}
}

func TestStripeCheckoutValidation(t *testing.T) {
	t.Parallel()
	// Validation comes before any call to Stripe, which is unreachable here.
	f := newStripeFixture(t, 1, closedURL(t))
	ctx := context.Background()
	retired, _ := f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanMembership, Name: "Ancien", PriceCents: 20000})
	f.bill.UpdatePlan(ctx, retired.ID, PlanUpdate{Active: new(bool)}) // retired
	free, _ := f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanPack, Name: "Offert", PriceCents: 0,
		Includes: Includes{PackResourceKind: calendar.KindRoom, PackMinutes: 60, PackValidDays: 30}})
	ok := f.checkoutRequest(PlanMembership)
	with := func(change func(*CheckoutRequest)) CheckoutRequest {
		r := ok
		change(&r)
		return r
	}
	for _, tc := range []struct {
		name  string
		req   CheckoutRequest
		field string
		code  string
	}{
		{"nothing to buy", with(func(r *CheckoutRequest) { r.PlanID = "" }), "plan_id", ""},
		{"two things", with(func(r *CheckoutRequest) { r.PackID = f.pack.ID }), "plan_id", ""},
		{"unknown plan", with(func(r *CheckoutRequest) { r.PlanID = "01J0000000000000000000000" }), "plan_id", ""},
		{"not a membership", with(func(r *CheckoutRequest) { r.PlanID = f.pack.ID }), "plan_id", ""},
		{"retired plan", with(func(r *CheckoutRequest) { r.PlanID = retired.ID }), "plan_id", ""},
		{"pack id of a membership", with(func(r *CheckoutRequest) { r.PlanID, r.PackID = "", f.membership.ID }), "pack_id", ""},
		{"free pack", with(func(r *CheckoutRequest) { r.PlanID, r.PackID = "", free.ID }), "pack_id", "price_too_low_for_online_payment"},
		{"no success url", with(func(r *CheckoutRequest) { r.SuccessURL = "" }), "success_url", ""},
		{"relative cancel url", with(func(r *CheckoutRequest) { r.CancelURL = "/annule" }), "cancel_url", ""},
		{"no billing address", with(func(r *CheckoutRequest) { r.Buyer = nil }), "buyer.address", ""},
		{"day pass on an unknown site", with(func(r *CheckoutRequest) {
			r.PlanID, r.DayPass = "", &DayPassCheckout{SiteID: "nope", Date: "2026-03-04"}
		}), "day_pass.site_id", ""},
		{"day pass without date", with(func(r *CheckoutRequest) { r.PlanID, r.DayPass = "", &DayPassCheckout{SiteID: f.site.ID} }), "day_pass.date", ""},
		{"day pass in the past", with(func(r *CheckoutRequest) {
			r.PlanID, r.DayPass = "", &DayPassCheckout{SiteID: f.site.ID, Date: "2026-03-01"}
		}), "day_pass.date", "date_in_past"},
		{"day pass not a date", with(func(r *CheckoutRequest) {
			r.PlanID, r.DayPass = "", &DayPassCheckout{SiteID: f.site.ID, Date: "demain"}
		}), "day_pass.date", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.bill.Checkout(ctx, f.users[0], tc.req)
			var fields []errs.FieldError
			var ve *errs.ValidationError
			var pr *errs.Problem
			switch {
			case errors.As(err, &ve):
				fields = ve.Fields
			case errors.As(err, &pr) && errors.Is(err, errs.ErrInvalid):
				fields = pr.Fields
			}
			if len(fields) == 0 || fields[0].Field != tc.field {
				t.Fatalf("err = %v, want a validation error on %s", err, tc.field)
			}
			if tc.code != "" && problemCode(err) != tc.code {
				t.Fatalf("code = %s, want %s", problemCode(err), tc.code)
			}
		})
	}
	if n := f.count(t, "payments", "TRUE"); n != 0 {
		t.Fatalf("%d payments after refused checkouts", n)
	}
}

// closedURL is an address where nothing listens.
func closedURL(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestStripeCheckoutUnavailable(t *testing.T) {
	t.Parallel()
	t.Run("no secret key", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, "")
		for _, configure := range []func(){func() {}, func() { f.withStripe(StripeConfig{WebhookSecret: testWebhookSecret}) }} {
			configure()
			_, err := f.bill.Checkout(context.Background(), f.users[0], f.checkoutRequest(PlanMembership))
			if !errors.Is(err, errs.ErrUnavailable) || problemCode(err) != "online_payment_unavailable" {
				t.Fatalf("err = %v, want online_payment_unavailable", err)
			}
		}
		if n := f.count(t, "payments", "TRUE") + f.count(t, "memberships", "TRUE"); n != 0 {
			t.Fatalf("%d rows left", n)
		}
	})

	// Stripe down, refusing the request, or too slow for the member: the
	// checkout fails with 503 and leaves nothing pending.
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"No such customer"}}`)
	}))
	t.Cleanup(refusing.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the client leaving only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	for _, tc := range []struct {
		name    string
		url     string
		timeout time.Duration
	}{
		{"stripe down", closedURL(t), time.Minute},
		{"stripe refuses", refusing.URL, time.Minute},
		{"stripe too slow", slow.URL, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newStripeFixture(t, 1, tc.url)
			for _, kind := range []string{PlanMembership, PlanDayPass, PlanPack} {
				ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
				_, err := f.bill.Checkout(ctx, f.users[0], f.checkoutRequest(kind))
				cancel()
				if !errors.Is(err, errs.ErrUnavailable) || problemCode(err) != "payment_provider_unavailable" {
					t.Fatalf("%s: err = %v, want payment_provider_unavailable", kind, err)
				}
			}
			if n := f.count(t, "payments", "status <> ?", payExpired); n != 0 {
				t.Fatalf("%d payments not expired", n)
			}
			for _, table := range []string{"memberships", "day_passes", "packs"} {
				if n := f.count(t, table, "status <> ?", StatusCanceled); n != 0 {
					t.Fatalf("%d %s not canceled", n, table)
				}
				if n := f.count(t, table, "TRUE"); n != 1 {
					t.Fatalf("%d %s, want the one canceled", n, table)
				}
			}
		})
	}
}

// TestStripeMembershipCancelledAtStripe: cancelling a membership paid by a
// Stripe subscription asks Stripe to stop at the period's end first; with
// Stripe unreachable nothing changes here.
func TestStripeMembershipCancelledAtStripe(t *testing.T) {
	apiURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f := newStripeFixture(t, 1, apiURL)
	ctx := context.Background()
	res := f.paid(t, PlanMembership)
	m, err := f.bill.CancelMembership(ctx, res.TargetID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !m.CancelAtPeriodEnd {
		t.Fatalf("membership = %+v", m)
	}
	calls := rec.Posts("/v1/subscriptions/" + subID(res))
	if len(calls) != 1 || calls[0].Form.Get("cancel_at_period_end") != "true" || calls[0].IdempotencyKey == "" {
		t.Fatalf("calls to Stripe = %+v", calls)
	}

	g := newStripeFixture(t, 1, stripetest.Start(t))
	res2 := g.paid(t, PlanMembership)
	g.withStripe(StripeConfig{SecretKey: "sk_test_x", WebhookSecret: testWebhookSecret, APIURL: closedURL(t)})
	if _, err := g.bill.CancelMembership(ctx, res2.TargetID, true); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("cancel with Stripe down: %v", err)
	}
	if got, _ := g.bill.GetMembership(ctx, res2.TargetID); got.CancelAtPeriodEnd || got.Status != StatusActive {
		t.Fatalf("membership changed although Stripe was down: %+v", got)
	}
}

func TestNetworkPlanOnlineNamesItsSellingSite(t *testing.T) {
	f := newStripeFixture(t, 1, stripetest.Start(t))
	p, err := f.bill.CreatePlan(context.Background(), NewPlan{Kind: PlanMembership, Name: "Réseau", PriceCents: 40000})
	if err != nil {
		t.Fatal(err)
	}
	req := f.checkoutRequest(PlanMembership)
	req.PlanID = p.ID
	if _, err := f.bill.Checkout(context.Background(), f.users[0], req); problemCode(err) != "selling_site_required" {
		t.Fatalf("online checkout of a network plan without its selling site: %v", err)
	}
	if n := f.count(t, "payments", "plan_id = ?", p.ID); n != 0 {
		t.Fatalf("%d payments left behind", n)
	}
	// Named, the selling site's entity invoices it; the membership stays
	// valid on the whole network.
	req.SiteID = f.site.ID
	res, err := f.bill.Checkout(context.Background(), f.users[0], req)
	if err != nil {
		t.Fatal(err)
	}
	f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanMembership, "paid")))
	pay := f.payment(t, res.PaymentID)
	if pay.Status != paySucceeded || pay.SiteID == nil || *pay.SiteID != f.site.ID {
		t.Fatalf("payment = %+v", pay)
	}
	if m := f.membershipRow(t, res.TargetID); m.SiteID != nil || m.Status != StatusActive {
		t.Fatalf("membership = %+v", m.Membership)
	}
}
