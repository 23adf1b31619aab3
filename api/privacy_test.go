package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/privacy"
)

func testPrivacy(t testing.TB, c privacy.Config) *privacy.Service {
	t.Helper()
	svc, err := privacy.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// privacyJobs starts a job client that works the exports and their mails,
// as serve's does.
func (h *harness) privacyJobs() *river.Client[*sql.Tx] {
	h.t.Helper()
	return h.jobClient(h.api.Privacy.AddWorkers, h.access.AddWorkers)
}

// sellDayPass has the site's manager take a day pass's price from userID
// at the desk: a payment and its invoice.
func (f *calendarFixture) sellDayPass(t *testing.T, userID, day string) {
	t.Helper()
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée " + day,
		"price_cents": 2500, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": userID, "plan_id": plan.ID, "date": day, "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)
}

// readZIP opens an export and returns its files by name.
func readZIP(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
	}
	return files
}

// A member exports their data: a job builds the ZIP, a mail says it is
// ready, and the ZIP holds their records and invoices' PDFs, and nothing
// of another member.
func TestExportOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	bobID, bob, _ := f.h.member("bob@example.fr")
	f.sellDayPass(t, anneID, "2026-03-03")
	f.sellDayPass(t, bobID, "2026-03-04")
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	f.book(bob, f.desk, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated)

	f.h.do(req{method: "GET", path: "/v1/me/export", token: anne}).expect(t, http.StatusNotFound)
	var ex struct {
		ID, Status  string
		DownloadURL *string `json:"download_url"`
	}
	f.h.do(req{method: "POST", path: "/v1/me/export", token: anne}).expect(t, http.StatusAccepted).decode(t, &ex)
	if ex.Status != "pending" || ex.DownloadURL != nil {
		t.Fatalf("started export = %+v", ex)
	}
	if p := f.h.do(req{method: "POST", path: "/v1/me/export", token: anne}).expect(t, http.StatusConflict).problem(t); p.Code != "export_in_progress" {
		t.Fatalf("second export: %+v", p)
	}
	if p := f.h.do(req{method: "GET", path: "/v1/me/export/download", token: anne}).expect(t, http.StatusConflict).problem(t); p.Code != "export_not_ready" {
		t.Fatalf("download before ready: %+v", p)
	}
	// Bob sees no export of Anne's.
	f.h.do(req{method: "GET", path: "/v1/me/export", token: bob}).expect(t, http.StatusNotFound)

	jc := f.h.privacyJobs()
	jobstest.WaitCompleted(t, jc, privacy.ExportArgs{}.Kind(), 1)
	jobstest.WaitCompleted(t, jc, privacy.ExportMailArgs{}.Kind(), 1)
	f.h.do(req{method: "GET", path: "/v1/me/export", token: anne}).expect(t, http.StatusOK).decode(t, &ex)
	if ex.Status != "ready" || ex.DownloadURL == nil || *ex.DownloadURL != "/v1/me/export/download" {
		t.Fatalf("ready export = %+v", ex)
	}
	// Anne's verification mail may come after this one: find it by subject.
	mail := f.h.mails.About(t, "anne@example.fr", "Vos données sont prêtes")
	if !strings.Contains(mail.Text(), "GET /v1/me/export/download") {
		t.Fatalf("export mail without PUBLIC_URL names the API call:\n%s", mail.Text())
	}

	r := f.h.do(req{method: "GET", path: "/v1/me/export/download", token: anne}).expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="relais-mes-donnees-`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	checkExportFiles(t, readZIP(t, r.Body), anneID, bobID)
}

func checkExportFiles(t *testing.T, files map[string][]byte, anneID, bobID string) {
	t.Helper()
	for _, name := range []string{"README.txt", "account.json", "sessions.json", "reservations.json", "waiting_list.json", "memberships.json",
		"payments.json", "invoices.json", "credits.json", "contributions.json", "access_events.json", "ateliers.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("no %s in the export", name)
		}
	}
	var account struct{ ID, Email string }
	if err := json.Unmarshal(files["account.json"], &account); err != nil || account.ID != anneID || account.Email != "anne@example.fr" {
		t.Fatalf("account.json = %s (%v)", files["account.json"], err)
	}
	var reservations []struct{ ID, Status string }
	if err := json.Unmarshal(files["reservations.json"], &reservations); err != nil || len(reservations) != 1 {
		t.Fatalf("reservations.json = %s (%v)", files["reservations.json"], err)
	}
	var invoices []struct {
		Number      string
		BuyerUserID string `json:"buyer_user_id"`
	}
	if err := json.Unmarshal(files["invoices.json"], &invoices); err != nil || len(invoices) != 1 || invoices[0].BuyerUserID != anneID {
		t.Fatalf("invoices.json = %s (%v)", files["invoices.json"], err)
	}
	pdf := files["invoices/"+invoices[0].Number+".pdf"]
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Fatalf("invoices/%s.pdf is not a PDF: %.20q", invoices[0].Number, pdf)
	}
	for name, b := range files {
		if bytes.Contains(b, []byte(bobID)) || bytes.Contains(b, []byte("bob@example.fr")) {
			t.Errorf("%s holds Bob's data", name)
		}
	}
}

// stillThere counts the rows of table about userID.
func (h *harness) rows(table, column, userID string) int {
	h.t.Helper()
	n, err := h.db.NewSelect().Table(table).Where("? = ?", bun.Ident(column), userID).Count(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

// privacyFixture is a site where Anne has a membership paid by a Stripe
// subscription, an invoice, a booking to come, a waiting-list entry, a
// calendar feed and a training; Stripe's requests are recorded.
type privacyFixture struct {
	*calendarFixture
	anneID, anne, anneRefresh string
	bob                       string
	booking                   string
	stripe                    *stripetest.Recorder
}

func newPrivacyFixture(t *testing.T) *privacyFixture {
	f := &privacyFixture{calendarFixture: newCalendarFixture(t)}
	apiURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f.stripe = rec
	f.h.withStripe(billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: whsec, APIURL: apiURL})
	f.anneID, f.anne, f.anneRefresh = f.h.member("anne@example.fr")
	_, f.bob, _ = f.h.member("bob@example.fr")
	f.sellDayPass(t, f.anneID, "2026-03-03")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Nomade",
		"price_cents": 6000, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": f.anneID, "plan_id": plan.ID, "method": "cash", "amount_cents": 6000, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)
	// As if Stripe paid it: the erasure must stop the subscription.
	if _, err := f.h.db.NewUpdate().Table("memberships").Set("stripe_subscription_id = ?", "sub_anne").Where("user_id = ?", f.anneID).
		Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rv struct{ ID string }
	f.book(f.anne, f.desk, f.at(5, 9, 0), f.at(5, 10, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	f.booking = rv.ID
	f.book(f.bob, f.desk, f.at(6, 9, 0), f.at(6, 10, 0)).expect(t, http.StatusCreated)
	f.h.do(req{method: "POST", path: "/v1/waitlist", token: f.anne, body: map[string]any{"resource_id": f.desk, "start": f.at(6, 9, 0), "end": f.at(6, 10, 0)}}).
		expect(t, http.StatusCreated)
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: f.anne}).expect(t, http.StatusCreated)
	f.h.do(req{method: "POST", path: "/v1/qualifications/" + f.qual + "/grants", token: f.manager, body: map[string]any{"user_id": f.anneID}}).
		expect(t, http.StatusCreated)
	return f
}

// A member erases their account: with their password, not while owing
// money; afterwards nothing of them remains but what the law keeps.
func TestEraseMeOverHTTP(t *testing.T) {
	t.Parallel()
	f := newPrivacyFixture(t)
	h := f.h
	var invoicesBefore []map[string]any
	h.do(req{method: "GET", path: "/v1/me/invoices", token: f.anne}).expect(t, http.StatusOK).decode(t, &struct{ Items *[]map[string]any }{&invoicesBefore})

	if p := h.do(req{method: "DELETE", path: "/v1/me", token: f.anne, body: map[string]any{"password": "not the password"}}).
		expect(t, http.StatusForbidden).problem(t); !p.hasField("password") {
		t.Fatalf("wrong password: %+v", p)
	}
	// A membership past due is money owed: 409 with the amount, nothing changes.
	if _, err := h.db.NewUpdate().Table("memberships").Set("status = 'past_due'").Where("user_id = ?", f.anneID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := h.do(req{method: "DELETE", path: "/v1/me", token: f.anne, body: map[string]any{"password": password}}).expect(t, http.StatusConflict)
	var owed struct {
		Code        string
		AmountCents int64 `json:"amount_cents"`
	}
	r.decode(t, &owed)
	if owed.Code != "unpaid_balance" || owed.AmountCents != 6000 {
		t.Fatalf("unpaid balance: %s", r.Body)
	}
	if h.rows("waitlist_entries", "user_id", f.anneID) != 1 || len(f.stripe.Requests("DELETE", "/v1/subscriptions/sub_anne")) != 0 {
		t.Fatal("a refused erasure changed something")
	}
	h.do(req{method: "GET", path: "/v1/me", token: f.anne}).expect(t, http.StatusOK)
	if _, err := h.db.NewUpdate().Table("memberships").Set("status = 'active'").Where("user_id = ?", f.anneID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}

	h.do(req{method: "DELETE", path: "/v1/me", token: f.anne, body: map[string]any{"password": password}}).expect(t, http.StatusNoContent)
	checkErased(t, f)

	// The address registers again, as someone new.
	newID, _, _ := h.member("anne@example.fr")
	if newID == f.anneID {
		t.Fatal("re-registration reused the erased account")
	}
	// The invoices keep their buyer, and the chain still verifies.
	var after struct {
		Buyer struct{ Name string }
	}
	for _, inv := range invoicesBefore {
		h.do(req{method: "GET", path: "/v1/invoices/" + inv["id"].(string), token: f.admin}).expect(t, http.StatusOK).decode(t, &after)
		if after.Buyer.Name != "anne" {
			t.Fatalf("invoice %v buyer after erasure = %q", inv["number"], after.Buyer.Name)
		}
	}
	var rep struct{ OK bool }
	h.do(req{method: "GET", path: "/v1/admin/invoices/verify", token: f.admin}).expect(t, http.StatusOK).decode(t, &rep)
	if !rep.OK || len(invoicesBefore) != 2 {
		t.Fatalf("chain after erasure: ok=%v, %d invoices", rep.OK, len(invoicesBefore))
	}
}

func checkErased(t *testing.T, f *privacyFixture) {
	t.Helper()
	h := f.h
	h.do(req{method: "GET", path: "/v1/me", token: f.anne}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]any{"refresh_token": f.anneRefresh}}).expect(t, http.StatusUnauthorized)
	if p := h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password}}).
		expect(t, http.StatusUnauthorized).problem(t); p.Code != "invalid_credentials" {
		t.Fatalf("login after erasure: %+v", p)
	}
	var rv struct{ Status string }
	h.do(req{method: "GET", path: "/v1/reservations/" + f.booking, token: f.manager}).expect(t, http.StatusOK).decode(t, &rv)
	if rv.Status != "cancelled" {
		t.Fatalf("future booking after erasure: %s", rv.Status)
	}
	for _, c := range []struct{ table, column string }{
		{"sessions", "user_id"}, {"login_addresses", "user_id"}, {"login_devices", "user_id"}, {"api_keys", "created_by"}, {"waitlist_entries", "user_id"},
		{"calendar_tokens", "user_id"}, {"qualification_grants", "user_id"},
	} {
		if n := h.rows(c.table, c.column, f.anneID); n != 0 {
			t.Errorf("%d rows of %s left", n, c.table)
		}
	}
	var u struct {
		Name, Email, Phone string
	}
	if err := h.db.NewSelect().Table("users").Column("name", "email", "phone").Where("id = ?", f.anneID).Scan(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.Name, "anne") || strings.Contains(u.Email, "anne") {
		t.Fatalf("erased account still says %+v", u)
	}
	var status string
	if err := h.db.NewSelect().Table("memberships").Column("status").Where("user_id = ?", f.anneID).Scan(context.Background(), &status); err != nil {
		t.Fatal(err)
	}
	if status != "canceled" || len(f.stripe.Requests("DELETE", "/v1/subscriptions/sub_anne")) != 1 {
		t.Fatalf("membership %s, Stripe cancellations %d", status, len(f.stripe.Requests("DELETE", "/v1/subscriptions/sub_anne")))
	}
}

// Who may erase whom: an admin erases a member on request, even owing
// money; a manager or a member cannot erase another; an admin does not
// erase themselves here.
func TestEraseUserOverHTTP(t *testing.T) {
	t.Parallel()
	f := newPrivacyFixture(t)
	h := f.h
	bobID, _, _ := h.member("bob2@example.fr")
	adminID, _, err := h.access.EnsureAdmin(context.Background(), "admin@relais.test", password)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, user string
		status            int
	}{
		{"member erases another", f.bob, f.anneID, http.StatusForbidden},
		{"manager erases a member", f.manager, f.anneID, http.StatusForbidden},
		{"admin erases themselves", f.admin, adminID.ID, http.StatusUnprocessableEntity},
		{"admin erases an unknown id", f.admin, id.New(), http.StatusNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.do(req{method: "DELETE", path: "/v1/users/" + c.user, token: c.token}).expect(t, c.status)
		})
	}
	if p := h.do(req{method: "DELETE", path: "/v1/me", token: f.admin, body: map[string]any{"password": password}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "last_admin" {
		t.Fatalf("the only admin erases themselves: %+v", p)
	}
	h.do(req{method: "GET", path: "/v1/me", token: f.anne}).expect(t, http.StatusOK)
	// Anne owes her membership: an admin erases her all the same.
	if _, err := h.db.NewUpdate().Table("memberships").Set("status = 'past_due'").Where("user_id = ?", f.anneID).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.do(req{method: "DELETE", path: "/v1/users/" + f.anneID, token: f.admin}).expect(t, http.StatusNoContent)
	checkErased(t, f)
	h.do(req{method: "DELETE", path: "/v1/users/" + bobID, token: f.admin}).expect(t, http.StatusNoContent)
}

// The retention purge deletes access events and sign-in records older
// than the retention period, and nothing younger; the database refuses
// any other deletion of events, and any of an event younger than 28 days.
func TestRetentionPurge(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	anneID, _, _ := h.member("anne@example.fr")
	ctx := context.Background()
	now := h.clock.Now()
	old, recent := now.Add(-100*24*time.Hour), now.Add(-10*24*time.Hour)
	for _, at := range []time.Time{old, recent} {
		ev := &access.Event{ID: id.New(), SiteID: f.site, OccurredAt: at, Kind: access.EventDoorUnlock, Decision: access.Granted, UserID: &anneID}
		if _, err := h.db.NewInsert().Model(ev).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		} {
			if _, err := h.db.ExecContext(ctx, q, id.New(), anneID, at, at, at.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := h.db.ExecContext(ctx, `INSERT INTO login_addresses (user_id, address, last_login_at) VALUES (?, ?, ?)`,
			anneID, "192.0.2."+at.Format("2"), at); err != nil {
			t.Fatal(err)
		}
		if _, err := h.db.ExecContext(ctx, `INSERT INTO login_devices (user_id, device, last_login_at) VALUES (?, ?, ?)`,
			anneID, "Firefox "+at.Format("2"), at); err != nil {
			t.Fatal(err)
		}
	}
	sessionsBefore := h.rows("sessions", "user_id", anneID) // the two above and the login's
	if _, err := h.api.Privacy.PurgeOld(ctx); err != nil {
		t.Fatal(err)
	}
	var left []time.Time
	if err := h.db.NewSelect().Table("access_events").Column("occurred_at").Where("user_id = ?", anneID).Scan(ctx, &left); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !left[0].Equal(recent) {
		t.Fatalf("events left %v, want only %v", left, recent)
	}
	if n := h.rows("sessions", "user_id", anneID); n != sessionsBefore-1 {
		t.Fatalf("%d sessions left of %d, want one purged", n, sessionsBefore)
	}
	devicesBefore := 3 // the two above and the login's
	for _, c := range []struct {
		table string
		want  int
	}{{"login_addresses", 2}, {"login_devices", devicesBefore - 1}} {
		if n := h.rows(c.table, "user_id", anneID); n != c.want {
			t.Fatalf("%d rows of %s left, want %d", n, c.table, c.want)
		}
	}
	// Nothing but the purge deletes events, however old.
	if _, err := h.db.NewDelete().Model((*access.Event)(nil)).Where("user_id = ?", anneID).Exec(ctx); err == nil {
		t.Fatal("the database let an access event be deleted outside the purge")
	}
	young := &access.Event{ID: id.New(), SiteID: f.site, OccurredAt: time.Now().UTC(), Kind: access.EventDoorUnlock, Decision: access.Granted}
	if _, err := h.db.NewInsert().Model(young).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := h.db.NewDelete().Model((*access.Event)(nil)).Where("id = ?", young.ID).Exec(ctx); err == nil {
		t.Fatal("the database let a fresh access event be deleted")
	}
}

// An API key acts for an integration, not for someone: it neither exports
// nor erases, even an admin's key.
func TestPrivacyRefusesAPIKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	anneID, _, _ := h.member("anne@example.fr")
	_, admin := h.admin()
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: admin, body: map[string]any{"name": "kiosk", "scopes": []string{"users:read"}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	for _, r := range []req{
		{method: "POST", path: "/v1/me/export", token: key.Secret},
		{method: "GET", path: "/v1/me/export", token: key.Secret},
		{method: "GET", path: "/v1/me/export/download", token: key.Secret},
		{method: "DELETE", path: "/v1/me", token: key.Secret, body: map[string]any{"password": password}},
		{method: "DELETE", path: "/v1/users/" + anneID, token: key.Secret},
	} {
		h.do(r).expect(t, http.StatusForbidden)
	}
}
