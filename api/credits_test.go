package api_test

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

type creditsDoc struct {
	Totals []struct {
		Unit         string  `json:"unit"`
		ResourceKind *string `json:"resource_kind"`
		Available    int64   `json:"available"`
		Pending      int64   `json:"pending"`
	} `json:"totals"`
	Lots []struct {
		LotID     string     `json:"lot_id"`
		ExpiresAt *time.Time `json:"expires_at"`
		Available int64      `json:"available"`
	} `json:"lots"`
}

func (d creditsDoc) total(unit string) (available, pending int64) {
	for _, t := range d.Totals {
		if t.Unit == unit {
			available += t.Available
			pending += t.Pending
		}
	}
	return available, pending
}

func (f *calendarFixture) credits(t testing.TB, token string) creditsDoc {
	t.Helper()
	var d creditsDoc
	f.h.do(req{method: "GET", path: "/v1/me/credits", token: token}).expect(t, http.StatusOK).decode(t, &d)
	return d
}

// win1252 encodes s as French spreadsheets save CSV.
func win1252(s string) []byte {
	var b []byte
	for _, r := range s {
		if r < 0x100 {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	return b
}

func TestCrowdfundingOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	deadline := time.Date(2026, 4, 1, 12, 0, 0, 0, f.paris).Format(time.RFC3339)
	tiers := []map[string]any{
		{"name": "Soutien", "min_cents": 2000, "credit_unit": "cents", "credit_amount": 2400},
		{"name": "Laser", "min_cents": 10000, "credit_unit": "minutes", "credit_amount": 600, "resource_kind": "machine", "expires_after_days": 365},
	}
	campaign := map[string]any{"title": "Une découpeuse laser", "goal_cents": 15000, "deadline": deadline, "mode": "all_or_nothing", "tiers": tiers}
	path := "/v1/sites/" + f.site + "/campaigns"

	// Members cannot open campaigns; bad input names the field.
	h.do(req{method: "POST", path: path, token: anne, body: campaign}).expect(t, http.StatusForbidden)
	for field, bad := range map[string]map[string]any{
		"goal_cents":         {"goal_cents": -5},
		"tiers[1].min_cents": {"goal_cents": 5000},
		"deadline":           {"deadline": f.at(1, 12, 0)},
		"mode":               {"mode": "sometimes"},
	} {
		body := map[string]any{}
		for k, v := range campaign {
			body[k] = v
		}
		for k, v := range bad {
			body[k] = v
		}
		p := h.do(req{method: "POST", path: path, token: f.manager, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(field) {
			t.Fatalf("%s: problem %+v", field, p)
		}
	}
	var c struct {
		ID     string
		Status string
	}
	key := map[string]string{"Idempotency-Key": "campaign-1"}
	h.do(req{method: "POST", path: path, token: f.manager, body: campaign, headers: key}).expect(t, http.StatusCreated).decode(t, &c)
	h.do(req{method: "POST", path: path, token: f.manager, body: campaign, headers: key}).expect(t, http.StatusCreated)
	var cl struct{ Items []any }
	h.do(req{method: "GET", path: path, token: anne}).expect(t, http.StatusOK).decode(t, &cl)
	if len(cl.Items) != 1 {
		t.Fatalf("%d campaigns after a replayed creation", len(cl.Items))
	}

	// A HelloAsso export in Windows-1252 with semicolons: Anne is a member,
	// Zoé not yet.
	csvBody := win1252("Référence commande;Date de la commande;Statut de la commande;Nom payeur;Prénom payeur;Email payeur;Montant\r\n" +
		"H-1;02/03/2026 08:00;Validé;Martin;Anne;anne@example.fr;120,00\r\n" +
		"H-2;02/03/2026 08:05;Validé;Roux;Zoé;zoe@example.fr;40,00\r\n")
	imp := "/v1/campaigns/" + c.ID + "/imports"
	csvHeaders := map[string]string{"Content-Type": "text/csv", "Idempotency-Key": "import-1"}
	h.do(req{method: "POST", path: imp, token: anne, body: csvBody, headers: map[string]string{"Content-Type": "text/csv"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: imp, token: f.manager, body: csvBody}).expect(t, http.StatusUnsupportedMediaType) // JSON content type
	var rep struct {
		Format     string
		Encoding   string
		Created    int
		Duplicates int
		Held       int
	}
	h.do(req{method: "POST", path: imp, token: f.manager, body: csvBody, headers: csvHeaders}).expect(t, http.StatusCreated).decode(t, &rep)
	if rep.Format != "helloasso" || rep.Encoding != "windows-1252" || rep.Created != 2 || rep.Held != 1 {
		t.Fatalf("report = %+v", rep)
	}
	replay := h.do(req{method: "POST", path: imp, token: f.manager, body: csvBody, headers: csvHeaders}).expect(t, http.StatusCreated)
	if replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("the import was not replayed")
	}
	h.do(req{method: "POST", path: imp, token: f.manager, body: csvBody, headers: map[string]string{"Content-Type": "text/csv"}}).
		expect(t, http.StatusCreated).decode(t, &rep)
	if rep.Created != 0 || rep.Duplicates != 2 {
		t.Fatalf("second import = %+v", rep)
	}
	// A bad file: every bad row with its line, nothing applied.
	bad := "contribution_id,email,amount,date\nG-1,x@example.fr,10,2026-03-02\nG-2,nope,10,2026-03-02\nG-3,y@example.fr,-3,2026-03-02\n"
	p := h.do(req{method: "POST", path: imp, token: f.manager, body: bad, headers: map[string]string{"Content-Type": "text/csv"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "csv_rows_invalid" || !p.hasField("line 3: email") || !p.hasField("line 4: amount") {
		t.Fatalf("problem = %+v", p)
	}
	p = h.do(req{method: "POST", path: imp, token: f.manager, body: "email;amount\nx@y.fr;3\n", headers: map[string]string{"Content-Type": "text/csv"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "csv_unreadable" || !strings.Contains(p.Detail, "missing columns") {
		t.Fatalf("problem = %+v", p)
	}

	// Public page: no login, nobody named.
	var pub struct {
		RaisedCents int64    `json:"raised_cents"`
		Backers     int      `json:"backers"`
		BackerNames []string `json:"backer_names"`
	}
	h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/public"}).expect(t, http.StatusOK).decode(t, &pub)
	if pub.RaisedCents != 16000 || pub.Backers != 2 || len(pub.BackerNames) != 0 {
		t.Fatalf("public = %+v", pub)
	}
	// Pending until the goal is settled.
	if a, pd := f.credits(t, anne).total("minutes"); a != 0 || pd != 600 {
		t.Fatalf("anne before settlement: %d available, %d pending", a, pd)
	}
	// Zoé registers: her contribution becomes hers once she has followed
	// the link mailed to her address, and not before.
	h.mailJobs()
	_, zoe, _ := h.member("zoe@example.fr")
	if _, pd := f.credits(t, zoe).total("cents"); pd != 0 {
		t.Fatalf("zoe's pending credit before verifying her address = %d", pd)
	}
	h.verifyEmail("zoe@example.fr").expect(t, http.StatusOK)
	if _, pd := f.credits(t, zoe).total("cents"); pd != 2400 {
		t.Fatalf("zoe's pending credit = %d", pd)
	}
	// Editing after the start is refused; closing early settles it (goal met).
	h.do(req{method: "PATCH", path: "/v1/campaigns/" + c.ID, token: f.manager, body: map[string]any{"goal_cents": 1000}}).expect(t, http.StatusConflict)
	h.do(req{method: "POST", path: "/v1/campaigns/" + c.ID + "/close", token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: "/v1/campaigns/" + c.ID + "/close", token: f.manager}).expect(t, http.StatusOK).decode(t, &c)
	if c.Status != "succeeded" {
		t.Fatalf("status = %s", c.Status)
	}
	if a, pd := f.credits(t, anne).total("minutes"); a != 600 || pd != 0 {
		t.Fatalf("anne after settlement: %d available, %d pending", a, pd)
	}

	// Contributions: managers list and export them; members see their own
	// and their receipt.
	var ks struct {
		Items []struct {
			ID            string
			ReceiptNumber string `json:"receipt_number"`
		}
		NextCursor string `json:"next_cursor"`
	}
	h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/contributions?limit=1", token: f.manager}).expect(t, http.StatusOK).decode(t, &ks)
	if len(ks.Items) != 1 || ks.NextCursor == "" {
		t.Fatalf("page = %+v", ks)
	}
	h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/contributions", token: anne}).expect(t, http.StatusForbidden)
	csvOut := h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/contributions.csv", token: f.manager}).expect(t, http.StatusOK)
	if !bytes.Contains(csvOut.Body, []byte("zoe@example.fr")) || !bytes.HasPrefix(csvOut.Body, []byte("receipt_number,")) {
		t.Fatalf("export = %s", csvOut.Body)
	}
	h.do(req{method: "GET", path: "/v1/me/contributions", token: anne}).expect(t, http.StatusOK).decode(t, &ks)
	if len(ks.Items) != 1 {
		t.Fatalf("anne's contributions = %+v", ks)
	}
	var receipt struct {
		ReceiptNumber string `json:"receipt_number"`
		Text          string
	}
	h.do(req{method: "GET", path: "/v1/contributions/" + ks.Items[0].ID + "/receipt", token: anne}).expect(t, http.StatusOK).decode(t, &receipt)
	if receipt.ReceiptNumber != ks.Items[0].ReceiptNumber || !strings.Contains(receipt.Text, "120,00 €") {
		t.Fatalf("receipt = %+v", receipt)
	}
	h.do(req{method: "GET", path: "/v1/contributions/" + ks.Items[0].ID + "/receipt", token: bob}).expect(t, http.StatusNotFound)
	// The same receipt as a PDF, for Anne and the manager; Bob gets 404.
	for _, who := range []string{anne, f.manager} {
		pdf := h.do(req{method: "GET", path: "/v1/contributions/" + ks.Items[0].ID + "/receipt.pdf", token: who}).expect(t, http.StatusOK)
		if pdf.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf.Body, []byte("%PDF-")) ||
			pdf.Header.Get("Content-Disposition") != `attachment; filename="recu-`+ks.Items[0].ReceiptNumber+`.pdf"` {
			t.Fatalf("receipt.pdf: %v %q", pdf.Header, pdf.Body[:min(20, len(pdf.Body))])
		}
	}
	h.do(req{method: "GET", path: "/v1/contributions/" + ks.Items[0].ID + "/receipt.pdf", token: bob}).expect(t, http.StatusNotFound)

	// Anne's hour credit pays the laser (qualification granted), then she
	// gives money credit to Bob, and the manager grants and withdraws.
	laser := f.resource(t, map[string]any{"kind": "machine", "name": "Laser 2", "price_per_hour_cents": 1200,
		"rules": map[string]any{"cancel_deadline_minutes": 2880, "late_cancel_refund_percent": 50}})
	f.book(anne, laser, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	if a, _ := f.credits(t, anne).total("minutes"); a != 540 {
		t.Fatalf("after booking, minutes = %d", a)
	}
	g := h.do(req{method: "POST", path: "/v1/me/credits/gifts", token: anne,
		body: map[string]any{"to_email": "bob@example.fr", "unit": "cents", "amount": 100}}).expect(t, http.StatusUnprocessableEntity).problem(t)
	if g.Code != "insufficient_credit" {
		t.Fatalf("gift = %+v", g)
	}
	// A member may not grant herself credit: a 403 naming site_id, in the
	// plain form it had when api decided it (no code of its own).
	var refused map[string]any
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: anne,
		body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 1000, "reason": "x"}}).expect(t, http.StatusForbidden).decode(t, &refused)
	delete(refused, "request_id")
	why := "only managers of the site grant or withdraw its credit"
	if want := (map[string]any{"type": "urn:relais:problem:forbidden", "title": "Forbidden", "status": float64(403), "detail": why,
		"errors": []any{map[string]any{"field": "site_id", "reason": why}}}); !reflect.DeepEqual(refused, want) {
		t.Fatalf("refusal = %v, want %v", refused, want)
	}
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 0, "reason": "x"}}).expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 1000, "reason": "bénévolat"}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/me/credits/gifts", token: anne, headers: map[string]string{"Idempotency-Key": "gift-1"},
		body: map[string]any{"to_email": "bob@example.fr", "unit": "cents", "amount": 300, "message": "merci"}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/me/credits/gifts", token: anne, headers: map[string]string{"Idempotency-Key": "gift-1"},
		body: map[string]any{"to_email": "bob@example.fr", "unit": "cents", "amount": 300, "message": "merci"}}).expect(t, http.StatusCreated)
	if a, _ := f.credits(t, bob).total("cents"); a != 300 {
		t.Fatalf("bob = %d after one gift replayed", a)
	}
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "withdraw", "unit": "cents", "amount": 5000, "reason": "erreur"}}).expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "withdraw", "unit": "cents", "amount": 200, "reason": "erreur"}}).expect(t, http.StatusCreated)
	if a, _ := f.credits(t, anne).total("cents"); a != 500 {
		t.Fatalf("anne's money = %d", a)
	}

	// Movements, paginated; statements in CSV and PDF.
	var mv struct {
		Items      []struct{ Kind string }
		NextCursor string `json:"next_cursor"`
	}
	h.do(req{method: "GET", path: "/v1/me/credits/movements?limit=2", token: anne}).expect(t, http.StatusOK).decode(t, &mv)
	if len(mv.Items) != 2 || mv.Items[0].Kind != "credit" || mv.Items[1].Kind != "vest" || mv.NextCursor == "" {
		t.Fatalf("movements = %+v", mv)
	}
	h.do(req{method: "GET", path: "/v1/me/credits/movements?cursor=" + mv.NextCursor, token: anne}).expect(t, http.StatusOK).decode(t, &mv)
	kinds := []string{}
	for _, m := range mv.Items {
		kinds = append(kinds, m.Kind)
	}
	if strings.Join(kinds, ",") != "spend,grant,gift,withdraw" {
		t.Fatalf("movements page 2 = %v", kinds)
	}
	st := h.do(req{method: "GET", path: "/v1/me/credits/statement.csv", token: anne}).expect(t, http.StatusOK)
	if lines := strings.Split(strings.TrimSpace(string(st.Body)), "\n"); len(lines) != 8 || !strings.HasPrefix(lines[0], "date,movement_id") {
		t.Fatalf("statement = %s", st.Body)
	}
	pdf := h.do(req{method: "GET", path: "/v1/me/credits/statement.pdf", token: anne}).expect(t, http.StatusOK)
	if !bytes.HasPrefix(pdf.Body, []byte("%PDF")) {
		t.Fatal("statement.pdf is not a PDF")
	}
	h.do(req{method: "GET", path: "/v1/me/credits/statement.csv?from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z", token: anne}).expect(t, http.StatusBadRequest)
}
