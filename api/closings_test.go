package api_test

import (
	archivezip "archive/zip"
	"bytes"
	"io/fs"
	"net/http"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/closings"
)

func TestClosingsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": plan.ID, "date": "2026-03-02", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)
	base := "/v1/entities/732829320"

	// A member, or an unknown entity: 404. Today is not over: 422.
	f.h.do(req{method: "GET", path: base + "/closings", token: anne}).expect(t, http.StatusNotFound)
	f.h.do(req{method: "GET", path: "/v1/entities/999999999/closings", token: f.manager}).expect(t, http.StatusNotFound)
	if p := f.h.do(req{method: "POST", path: base + "/closings", token: f.manager, body: map[string]string{"period": "2026-03-02"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != "period_not_over" {
		t.Fatalf("problem %+v", p)
	}

	f.h.clock.Advance(18 * time.Hour) // 3 March, 01:00 in Paris
	f.manager, _ = f.h.login("manon@example.fr", password)
	var c closings.Closing
	f.h.do(req{method: "POST", path: base + "/closings", token: f.manager, body: map[string]string{"period": "2026-03-02"}}).
		expect(t, http.StatusCreated).decode(t, &c)
	if c.Kind != "day" || c.InvoicesCount != 1 || c.PaymentsCount != 1 || c.TotalTTCCents != 2500 || c.GrandTotalCents != 2500 ||
		len(c.ByMethod) != 1 || c.ByMethod[0] != (closings.MethodTotal{Method: "cash", TTCCents: 2500}) || c.Hash == "" {
		t.Fatalf("closing %+v", c)
	}
	var list struct{ Items []closings.Closing }
	f.h.do(req{method: "GET", path: base + "/closings?kind=day&from=2026-03-01&to=2026-04", token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != c.ID {
		t.Fatalf("list %+v", list)
	}
	f.h.do(req{method: "GET", path: base + "/closings/" + c.ID, token: f.manager}).expect(t, http.StatusOK)
	testClosingsPeriods(t, f, base, c.ID)

	// The month is not closed: no archive yet. Once over and closed, its
	// archive verifies with the served key.
	if p := f.h.do(req{method: "GET", path: base + "/archives/2026-03", token: f.manager}).expect(t, http.StatusConflict).problem(t); p.Code != "period_not_closed" {
		t.Fatalf("problem %+v", p)
	}
	f.h.clock.Advance(30 * 24 * time.Hour)
	f.manager, _ = f.h.login("manon@example.fr", password)
	f.h.do(req{method: "POST", path: base + "/closings", token: f.manager, body: map[string]string{"period": "2026-03"}}).expect(t, http.StatusCreated)
	zip := f.h.do(req{method: "GET", path: base + "/archives/2026-03", token: f.manager}).expect(t, http.StatusOK)
	key := f.h.do(req{method: "GET", path: "/v1/archives/public-key"}).expect(t, http.StatusOK)
	pub, err := closings.ParsePublicKey(key.Body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := closings.VerifyArchive(zip.Body, pub); err != nil {
		t.Fatalf("archive: %v", err)
	}
	// Its journal holds the site's changes too (the plan created in March).
	zr, err := archivezip.NewReader(bytes.NewReader(zip.Body), int64(len(zip.Body)))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(zr, "journal.json"); err != nil || !bytes.Contains(b, []byte(`"object_kind": "plan"`)) {
		t.Fatalf("journal.json: %v\n%s", err, b)
	}

	// The journal has the plan's creation, the price change (who, before,
	// after), the closings, the archive's download and the FEC export.
	f.h.do(req{method: "PATCH", path: "/v1/resources/" + f.desk, token: f.manager, body: map[string]any{"price_per_hour_cents": 600}}).expect(t, http.StatusOK)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/fec?from=2026-03-01T00:00:00%2B01:00&to=2026-04-01T00:00:00%2B02:00", token: f.manager}).expect(t, http.StatusOK)
	var journal struct {
		Items []struct {
			Action     string
			ObjectKind string `json:"object_kind"`
			ActorKind  string `json:"actor_kind"`
			Field      string
			Before     string
			After      string
		}
	}
	f.h.do(req{method: "GET", path: base + "/journal", token: f.manager}).expect(t, http.StatusOK).decode(t, &journal)
	actions := map[string]int{}
	for _, e := range journal.Items {
		actions[e.Action+" "+e.ObjectKind]++
	}
	for _, e := range journal.Items {
		if e.ObjectKind == "resource" && (e.Field != "price_per_hour_cents" || e.Before != "500" || e.After != "600" || e.ActorKind != "user") {
			t.Errorf("price change recorded as %+v", e)
		}
	}
	if actions["close closing"] < 2 || actions["export archive"] != 1 || actions["create plan"] != 1 || actions["update resource"] != 1 || actions["export fec"] != 1 {
		t.Fatalf("journal %+v", journal.Items)
	}
}

// testClosingsPeriods: the closings and the journal read period, from and
// to with the shared parser, dates in the entity's zone. The closing of
// 2 March starts at its Paris midnight (23:00 UTC on 1 March), so to=a date
// of 1 March (its end: that midnight, exclusive) leaves it out where a UTC
// reading would keep it.
func testClosingsPeriods(t *testing.T, f *calendarFixture, base, closingID string) {
	cases := []struct {
		name, query string
		found       bool
		field       string // a 400 naming it
	}{
		{"a month", "period=2026-03", true, ""},
		{"a date as period", "period=2026-03-02", true, ""},
		{"a date as from and to", "from=2026-03-02&to=2026-03-02", true, ""},
		{"a month as to", "to=2026-03", true, ""},
		{"to the day before, in the entity's zone", "to=2026-03-01", false, ""},
		{"from the day after", "from=2026-03-03", false, ""},
		{"an instant with an unencoded plus", "from=2026-03-02T00:00:00+01:00", true, ""},
		{"an instant just after", "from=2026-03-02T00:00:01+01:00", false, ""},
		{"garbage from", "from=yesterday", false, "from"},
		{"bad month as to", "to=2026-13", false, "to"},
		{"period with from", "period=2026-03&from=2026-03-02", false, "period"},
		{"bad period", "period=mars", false, "period"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := base + "/closings?kind=day&" + tc.query
			if tc.field != "" {
				for _, path := range []string{path, base + "/journal?" + tc.query} {
					p := f.h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusBadRequest).problem(t)
					if p.Type != "urn:relais:problem:invalid_parameter" || !p.hasField(tc.field) {
						t.Fatalf("%s: problem %+v, want invalid_parameter naming %s", path, p, tc.field)
					}
				}
				return
			}
			var list struct{ Items []closings.Closing }
			f.h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
			if found := len(list.Items) == 1 && list.Items[0].ID == closingID; found != tc.found || len(list.Items) > 1 {
				t.Fatalf("%s: %d closings, want the one: %v", path, len(list.Items), tc.found)
			}
		})
	}
	// The journal's window: the closing was recorded on 3 March, Paris.
	var journal struct{ Items []struct{ Action string } }
	f.h.do(req{method: "GET", path: base + "/journal?period=2026-03-03", token: f.manager}).expect(t, http.StatusOK).decode(t, &journal)
	if len(journal.Items) == 0 {
		t.Fatal("no journal entry on 3 March")
	}
	f.h.do(req{method: "GET", path: base + "/journal?period=2026-03-04", token: f.manager}).expect(t, http.StatusOK).decode(t, &journal)
	if len(journal.Items) != 0 {
		t.Fatalf("journal entries on 4 March: %+v", journal.Items)
	}
}

// TestPlanVATOverHTTP: a plan's VAT rate changes through its PATCH, for
// those who may sell it, and the entity's journal says who changed it from
// what to what.
func TestPlanVATOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	var plan struct {
		ID        string
		VATRateBP int `json:"vat_rate_bp"`
		PriceHT   int `json:"price_ht_cents"`
	}
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée", "price_cents": 2200,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	path := "/v1/plans/" + plan.ID
	f.h.do(req{method: "PATCH", path: path, token: anne, body: map[string]any{"vat_rate_bp": 1000}}).expect(t, http.StatusForbidden)
	if p := f.h.do(req{method: "PATCH", path: path, token: f.manager, body: map[string]any{"vat_rate_bp": 700}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("vat_rate_bp") {
		t.Fatalf("problem %+v", p)
	}
	f.h.do(req{method: "PATCH", path: path, token: f.manager, body: map[string]any{"vat_rate_bp": 1000}}).expect(t, http.StatusOK).decode(t, &plan)
	if plan.VATRateBP != 1000 || plan.PriceHT != 2000 {
		t.Fatalf("plan %+v", plan)
	}
	var journal struct {
		Items []struct {
			Action, Field, Before, After string
			ObjectID                     string `json:"object_id"`
			ActorKind                    string `json:"actor_kind"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/entities/732829320/journal", token: f.manager}).expect(t, http.StatusOK).decode(t, &journal)
	found := 0
	for _, e := range journal.Items {
		if e.ObjectID == plan.ID && e.Field == "vat_rate_bp" {
			found++
			if e.Action != "update" || e.Before != "2000" || e.After != "1000" || e.ActorKind != "user" {
				t.Errorf("entry %+v", e)
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d entries for the rate's change: %+v", found, journal.Items)
	}
}
