package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConsoleCImportPreview: a preview answers the import's own report (or
// its 422 with every bad line) and writes nothing; the import that follows
// writes what the preview announced.
func TestConsoleCImportPreview(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	deadline := time.Date(2026, 4, 1, 12, 0, 0, 0, f.paris).Format(time.RFC3339)
	var c struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/campaigns", token: f.manager, body: map[string]any{
		"title": "Un four", "goal_cents": 50000, "deadline": deadline, "mode": "keep_it_all",
		"tiers": []map[string]any{{"name": "Soutien", "min_cents": 1000, "credit_unit": "cents", "credit_amount": 1200}},
	}}).expect(t, http.StatusCreated).decode(t, &c)
	preview := "/v1/campaigns/" + c.ID + "/imports/preview"
	csvType := map[string]string{"Content-Type": "text/csv"}
	contributions := func() int {
		var ks struct{ Items []any }
		h.do(req{method: "GET", path: "/v1/campaigns/" + c.ID + "/contributions", token: f.manager}).expect(t, http.StatusOK).decode(t, &ks)
		return len(ks.Items)
	}

	// A bad line: the same 422 as the import, nothing written.
	bad := "contribution_id,email,amount,date\nG-1,anne@example.fr,20,2026-03-02\nG-2,nope,10,2026-03-02\n"
	p := h.do(req{method: "POST", path: preview, token: f.manager, body: bad, headers: csvType}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "csv_rows_invalid" || !p.hasField("line 3: email") {
		t.Fatalf("problem = %+v", p)
	}
	// Members may not preview; the body must be CSV.
	h.do(req{method: "POST", path: preview, token: anne, body: bad, headers: csvType}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: preview, token: f.manager, body: bad}).expect(t, http.StatusUnsupportedMediaType)

	good := "contribution_id,email,amount,date,status\nG-1,anne@example.fr,20,2026-03-02,paid\nG-2,zoe@example.fr,10,2026-03-02,paid\nG-3,x@example.fr,10,2026-03-02,refunded\n"
	type report struct {
		ImportID   *string `json:"import_id"`
		Rows       int
		Created    int
		Duplicates int
		Matched    int `json:"matched_members"`
		Held       int
		Skipped    []struct {
			Line   int
			Column string
		}
	}
	var rep report
	for range 2 { // twice: the first wrote nothing, so the second says the same
		rep = report{}
		h.do(req{method: "POST", path: preview, token: f.manager, body: good, headers: csvType}).expect(t, http.StatusOK).decode(t, &rep)
		if rep.ImportID != nil || rep.Rows != 2 || rep.Created != 2 || rep.Matched != 1 || rep.Held != 1 || len(rep.Skipped) != 1 || rep.Skipped[0].Line != 4 {
			t.Fatalf("preview = %+v", rep)
		}
		if n := contributions(); n != 0 {
			t.Fatalf("%d contributions after a preview", n)
		}
	}
	var credits creditsDoc
	h.do(req{method: "GET", path: "/v1/me/credits", token: anne}).expect(t, http.StatusOK).decode(t, &credits)
	if a, pd := credits.total("cents"); a != 0 || pd != 0 {
		t.Fatalf("anne credited by a preview: %d available, %d pending", a, pd)
	}

	// The import writes what the preview said; a new preview now sees duplicates.
	h.do(req{method: "POST", path: "/v1/campaigns/" + c.ID + "/imports", token: f.manager, body: good, headers: csvType}).
		expect(t, http.StatusCreated).decode(t, &rep)
	if rep.ImportID == nil || rep.Created != 2 || contributions() != 2 {
		t.Fatalf("import = %+v", rep)
	}
	h.do(req{method: "POST", path: preview, token: f.manager, body: good, headers: csvType}).expect(t, http.StatusOK).decode(t, &rep)
	if rep.Created != 0 || rep.Duplicates != 2 {
		t.Fatalf("preview after import = %+v", rep)
	}
}

// TestConsoleCManagerFeedURLs: a manager obtains secret feed URLs of their
// site and of a resource, which calendar apps read without a header; each
// ends only its own previous URL, and stops once its owner no longer
// manages the site.
func TestConsoleCManagerFeedURLs(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	f.book(anne, f.desk, f.at(3, 11, 0), f.at(3, 12, 0)).expect(t, http.StatusCreated)
	maxID, _, _ := h.member("max@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/managers", token: f.admin, body: map[string]string{"user_id": maxID}}).expect(t, http.StatusCreated)
	max, _ := h.login("max@example.fr", password)

	siteTok := "/v1/sites/" + f.site + "/calendar-token"
	roomTok := "/v1/resources/" + f.room + "/calendar-token"
	h.do(req{method: "POST", path: siteTok, token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: roomTok, token: anne}).expect(t, http.StatusForbidden)
	var site, room, mine struct{ Path string }
	h.do(req{method: "POST", path: siteTok, token: max}).expect(t, http.StatusCreated).decode(t, &site)
	h.do(req{method: "POST", path: roomTok, token: max}).expect(t, http.StatusCreated).decode(t, &room)
	h.do(req{method: "POST", path: "/v1/me/calendar-token", token: max}).expect(t, http.StatusCreated).decode(t, &mine)
	events := func(path string, status int) int {
		r := h.do(req{method: "GET", path: path}).expect(t, status)
		return strings.Count(string(r.Body), "BEGIN:VEVENT")
	}
	// No header: the site's two bookings (named), the room's one; the
	// member feed of Max stays his own (empty).
	if n := events(site.Path, http.StatusOK); n != 2 {
		t.Fatalf("site feed has %d events", n)
	}
	if n := events(room.Path, http.StatusOK); n != 1 {
		t.Fatalf("room feed has %d events", n)
	}
	if n := events(mine.Path, http.StatusOK); n != 0 {
		t.Fatalf("max's own feed has %d events", n)
	}
	// Rotating the site's URL ends the old one and no other.
	var site2 struct{ Path string }
	h.do(req{method: "POST", path: siteTok, token: max}).expect(t, http.StatusCreated).decode(t, &site2)
	events(site.Path, http.StatusNotFound)
	events(site2.Path, http.StatusOK)
	events(room.Path, http.StatusOK)
	events(mine.Path, http.StatusOK)
	// Once Max no longer manages the site, his URLs of it open nothing.
	h.do(req{method: "DELETE", path: "/v1/sites/" + f.site + "/managers/" + maxID, token: f.admin}).expect(t, http.StatusNoContent)
	events(site2.Path, http.StatusNotFound)
	events(room.Path, http.StatusNotFound)
	events(mine.Path, http.StatusOK)
}
