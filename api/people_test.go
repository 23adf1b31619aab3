package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/privacy"
)

type personOut struct {
	ID          string
	Name        string
	Email       *string
	HasEmail    bool `json:"has_email"`
	Awaiting    bool `json:"awaiting_password"`
	Phone       *string
	Active      bool
	Memberships []struct {
		PlanName string `json:"plan_name"`
		Status   string
	}
	DayPasses []struct {
		PlanName string `json:"plan_name"`
		Day      string
	} `json:"day_passes"`
}

type peoplePage struct {
	Items      []personOut
	NextCursor string `json:"next_cursor"`
}

type peopleFixture struct {
	*calendarFixture
	dayPass, otherSite, olga string
}

func newPeopleFixture(t *testing.T) *peopleFixture {
	f := &peopleFixture{calendarFixture: newCalendarFixture(t)}
	var plan struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "day_pass", "name": "Journée",
		"price_cents": 2500, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(t, http.StatusCreated).decode(t, &plan)
	f.dayPass = plan.ID
	f.otherSite = f.h.site(f.admin, "Le Relais du Bourg")
	olgaID, _, _ := f.h.member("olga@example.fr")
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.otherSite + "/managers", token: f.admin, body: map[string]string{"user_id": olgaID}}).expect(t, http.StatusCreated)
	f.olga, _ = f.h.login("olga@example.fr", password)
	return f
}

func (f *peopleFixture) search(t *testing.T, token, query string) peoplePage {
	t.Helper()
	var out peoplePage
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/people?" + query, token: token}).expect(t, http.StatusOK).decode(t, &out)
	return out
}

func names(p peoplePage) string {
	var ns []string
	for _, it := range p.Items {
		ns = append(ns, it.Name)
	}
	return strings.Join(ns, ",")
}

// The front desk: walk-ins with and without an email, found by name,
// email or phone without accents, by status, page by page; nobody else
// sees them.
func TestPeopleDesk(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	mails := h.mailJobs()
	people := "/v1/sites/" + f.site + "/people"

	var helene, marcel personOut
	h.do(req{method: "POST", path: people, token: f.manager, headers: map[string]string{"Idempotency-Key": "walkin-1"},
		body: map[string]any{"name": "Hélène Lefèvre", "email": "Helene@Example.fr", "phone": "+33612345678"}}).
		expect(t, http.StatusCreated).decode(t, &helene)
	if !helene.HasEmail || helene.Email == nil || *helene.Email != "helene@example.fr" {
		t.Fatalf("helene = %+v", helene)
	}
	h.do(req{method: "POST", path: people, token: f.manager, body: map[string]any{"name": "Marcel Dupont", "phone": "+33145678901"}}).
		expect(t, http.StatusCreated).decode(t, &marcel)
	if marcel.HasEmail || marcel.Email != nil {
		t.Fatalf("marcel = %+v", marcel)
	}
	// The desk sells to Marcel at once: a day pass for today, in cash.
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": marcel.ID, "plan_id": f.dayPass, "date": "2026-03-02", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)

	for _, tc := range []struct{ query, want string }{
		{"q=helene", "Hélène Lefèvre"},
		{"q=" + url.QueryEscape("HÉLÈNE lef"), "Hélène Lefèvre"},
		{"q=" + url.QueryEscape("06 12 34 56 78"), "Hélène Lefèvre"},
		{"q=" + url.QueryEscape("+33 1 45"), "Marcel Dupont"},
		{"q=" + url.QueryEscape("helene@example"), "Hélène Lefèvre"},
		{"q=dupont", "Marcel Dupont"},
		{"q=" + url.QueryEscape("100%_"), ""},
		{"status=active", "Marcel Dupont"},
		{"status=lapsed", "Hélène Lefèvre"},
		{"", "Hélène Lefèvre,Marcel Dupont"},
	} {
		if got := names(f.search(t, f.manager, tc.query)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
	all := f.search(t, f.admin, "status=active")
	if len(all.Items) != 1 || !all.Items[0].Active || len(all.Items[0].DayPasses) != 1 || all.Items[0].DayPasses[0].PlanName != "Journée" {
		t.Fatalf("active = %+v", all)
	}
	// Pages of one, in order, without repeats.
	first := f.search(t, f.manager, "limit=1")
	second := f.search(t, f.manager, "limit=1&cursor="+first.NextCursor)
	if names(first) != "Hélène Lefèvre" || names(second) != "Marcel Dupont" || second.NextCursor != "" {
		t.Fatalf("pages %+v then %+v", first, second)
	}
	h.do(req{method: "GET", path: people + "?status=gone", token: f.manager}).expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "GET", path: people + "?cursor=nope", token: f.manager}).expect(t, http.StatusUnprocessableEntity)

	// Nobody else: a member, a manager of another site, who sees none of
	// them at hers either.
	_, anne, _ := h.member("anne@example.fr")
	h.do(req{method: "GET", path: people, token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: people, token: f.olga}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: people + "/" + helene.ID, token: f.olga}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: people, token: f.olga, body: map[string]any{"name": "X"}}).expect(t, http.StatusForbidden)
	var hers peoplePage
	h.do(req{method: "GET", path: "/v1/sites/" + f.otherSite + "/people", token: f.olga}).expect(t, http.StatusOK).decode(t, &hers)
	if len(hers.Items) != 0 {
		t.Fatalf("olga's site shows %+v", hers)
	}
	h.do(req{method: "GET", path: "/v1/sites/0190a000-0000-7000-8000-000000000000/people", token: f.admin}).expect(t, http.StatusNotFound)

	// Hélène's invitation: the link sets her password, then she logs in.
	jobstest.WaitCompleted(t, mails, identity.InvitationMailArgs{}.Kind(), 1)
	var tok []string
	for _, m := range h.mails.All("helene@example.fr") {
		if found := resetToken.FindStringSubmatch(m.Text()); found != nil {
			tok = found
		}
	}
	if tok == nil {
		t.Fatal("no invitation to helene")
	}
	h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": tok[1], "new_password": "her own long password"}}).
		expect(t, http.StatusNoContent)
	heleneToken, _ := h.login("helene@example.fr", "her own long password")
	// A member never lists the desk, even about herself.
	h.do(req{method: "GET", path: people + "/" + helene.ID, token: heleneToken}).expect(t, http.StatusForbidden)

	// An email that has an account: 409 naming it.
	anneID := ""
	var me struct{ ID string }
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &me)
	anneID = me.ID
	var conflict struct {
		Code   string
		UserID string `json:"user_id"`
	}
	h.do(req{method: "POST", path: people, token: f.manager, body: map[string]any{"name": "Anne", "email": "ANNE@example.fr"}}).
		expect(t, http.StatusConflict).decode(t, &conflict)
	if conflict.Code != "email_taken" || conflict.UserID != anneID {
		t.Fatalf("409 = %+v, want anne %s", conflict, anneID)
	}
	// Anne has no relation to the site: 404 there.
	h.do(req{method: "GET", path: people + "/" + anneID, token: f.manager}).expect(t, http.StatusNotFound)

	// Marcel gets an email later, and his invitation; Hélène, who has
	// chosen her password, edits her own profile.
	if p := h.do(req{method: "PATCH", path: people + "/" + helene.ID, token: f.manager, body: map[string]any{"email": "h2@example.fr"}}).
		expect(t, http.StatusForbidden).problem(t); p.Code != "person_edits_own_profile" {
		t.Fatalf("problem = %+v", p)
	}
	h.do(req{method: "PATCH", path: people + "/" + marcel.ID, token: f.manager, body: map[string]any{"email": "anne@example.fr"}}).
		expect(t, http.StatusConflict)
	var marcel2 personOut
	h.do(req{method: "PATCH", path: people + "/" + marcel.ID, token: f.manager, body: map[string]any{"email": "marcel@example.fr"}}).
		expect(t, http.StatusOK).decode(t, &marcel2)
	if !marcel2.HasEmail {
		t.Fatalf("marcel after = %+v", marcel2)
	}
	jobstest.WaitCompleted(t, mails, identity.InvitationMailArgs{}.Kind(), 2)
	if h.mails.Count("marcel@example.fr") != 1 {
		t.Fatalf("marcel got %d mails", h.mails.Count("marcel@example.fr"))
	}
	if got := names(f.search(t, f.manager, "q=marcel%40example")); got != "Marcel Dupont" {
		t.Fatalf("by new email: %q", got)
	}
}

// Managers are added by email as well as by id.
func TestManagerByEmail(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	id, _, _ := f.h.member("paul@example.fr")
	var u struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.otherSite + "/managers", token: f.admin, body: map[string]string{"email": "Paul@example.fr"}}).
		expect(t, http.StatusCreated).decode(t, &u)
	if u.ID != id {
		t.Fatalf("manager %s, want %s", u.ID, id)
	}
	for _, body := range []map[string]string{{"email": "nobody@example.fr"}, {}, {"email": "paul@example.fr", "user_id": id}} {
		f.h.do(req{method: "POST", path: "/v1/sites/" + f.otherSite + "/managers", token: f.admin, body: body}).expect(t, http.StatusUnprocessableEntity)
	}
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.otherSite + "/managers", token: f.manager, body: map[string]string{"email": "paul@example.fr"}}).
		expect(t, http.StatusForbidden)
}

// Notes are the managers': signed, listed, deleted, never the member's.
func TestPeopleNotes(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	var p personOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/people", token: f.manager, body: map[string]any{"name": "Jeanne", "email": "jeanne@example.fr"}}).
		expect(t, http.StatusCreated).decode(t, &p)
	notes := "/v1/sites/" + f.site + "/people/" + p.ID + "/notes"
	var n struct {
		ID         string
		AuthorName string `json:"author_name"`
		Note       string
	}
	h.do(req{method: "POST", path: notes, token: f.manager, body: map[string]any{"note": "Préfère le bureau près de la fenêtre.\nMalentendante."}}).
		expect(t, http.StatusCreated).decode(t, &n)
	if n.AuthorName != "manon" {
		t.Fatalf("note = %+v", n)
	}
	h.do(req{method: "POST", path: notes, token: f.manager, body: map[string]any{"note": " "}}).expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "POST", path: notes, token: f.olga, body: map[string]any{"note": "x"}}).expect(t, http.StatusForbidden)
	var list struct{ Items []struct{ Note string } }
	h.do(req{method: "GET", path: notes, token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || !strings.Contains(list.Items[0].Note, "fenêtre") {
		t.Fatalf("notes = %+v", list)
	}
	var pic struct{ Notes []struct{ Note string } }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/people/" + p.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &pic)
	if len(pic.Notes) != 1 {
		t.Fatalf("picture notes = %+v", pic)
	}

	// Jeanne herself: nothing of it in /v1/me, and no access to the notes.
	mails := h.mailJobs()
	jobstest.WaitCompleted(t, mails, identity.InvitationMailArgs{}.Kind(), 1)
	var tok []string
	for _, m := range h.mails.All("jeanne@example.fr") {
		tok = resetToken.FindStringSubmatch(m.Text())
	}
	if tok == nil {
		t.Fatal("no invitation")
	}
	h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": tok[1], "new_password": "jeanne long password"}}).expect(t, http.StatusNoContent)
	jeanne, _ := h.login("jeanne@example.fr", "jeanne long password")
	if me := h.do(req{method: "GET", path: "/v1/me", token: jeanne}).expect(t, http.StatusOK); strings.Contains(string(me.Body), "fenêtre") {
		t.Fatalf("/v1/me shows the note: %s", me.Body)
	}
	h.do(req{method: "GET", path: notes, token: jeanne}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: notes + "/" + n.ID, token: jeanne}).expect(t, http.StatusForbidden)

	h.do(req{method: "DELETE", path: notes + "/" + n.ID, token: f.manager}).expect(t, http.StatusNoContent)
	h.do(req{method: "DELETE", path: notes + "/" + n.ID, token: f.manager}).expect(t, http.StatusNotFound)
}

// Notes are personal data about the person: in their export, erased with
// their account.
func TestPeopleNotesInPrivacy(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	var p personOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/people", token: f.manager, body: map[string]any{"name": "Jeanne", "email": "jeanne@example.fr"}}).
		expect(t, http.StatusCreated).decode(t, &p)
	notes := "/v1/sites/" + f.site + "/people/" + p.ID + "/notes"
	h.do(req{method: "POST", path: notes, token: f.manager, body: map[string]any{"note": "Vient le mardi."}}).expect(t, http.StatusCreated)

	// One job client with every worker the test needs: a second client
	// without the export's worker would take that job, fail it and leave
	// it to River's backoff.
	jc := h.privacyJobs()
	jobstest.WaitCompleted(t, jc, identity.InvitationMailArgs{}.Kind(), 1)
	tok := resetToken.FindStringSubmatch(h.mails.To(t, "jeanne@example.fr").Text())
	if tok == nil {
		t.Fatal("no invitation")
	}
	h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": tok[1], "new_password": "jeanne long password"}}).expect(t, http.StatusNoContent)
	jeanne, _ := h.login("jeanne@example.fr", "jeanne long password")

	h.do(req{method: "POST", path: "/v1/me/export", token: jeanne}).expect(t, http.StatusAccepted)
	jobstest.WaitCompleted(t, jc, privacy.ExportArgs{}.Kind(), 1)
	files := readZIP(t, h.do(req{method: "GET", path: "/v1/me/export/download", token: jeanne}).expect(t, http.StatusOK).Body)
	if !strings.Contains(string(files["notes.json"]), "Vient le mardi.") || !strings.Contains(string(files["notes.json"]), "manon") {
		t.Fatalf("notes.json = %s", files["notes.json"])
	}

	h.do(req{method: "DELETE", path: "/v1/users/" + p.ID, token: f.admin}).expect(t, http.StatusNoContent)
	n, err := h.db.NewSelect().Table("people_notes").Where("user_id = ?", p.ID).Count(t.Context())
	if err != nil || n != 0 {
		t.Fatalf("%d notes left after erasure (%v)", n, err)
	}
	// The desk no longer finds her.
	if got := names(f.search(t, f.manager, "q=jeanne")); got != "" {
		t.Fatalf("erased person found: %q", got)
	}
}

// A check-in is a visit: the person's last visit is when they checked in,
// at a site without any door.
func TestPeopleLastVisitIsACheckIn(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	var r struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/reservations", token: anne, body: map[string]any{"resource_id": f.desk,
		"start": f.at(2, 8, 0), "end": f.at(2, 12, 0)}}).expect(t, http.StatusCreated).decode(t, &r)
	type person struct {
		ID          string     `json:"id"`
		LastVisitAt *time.Time `json:"last_visit_at"`
	}
	lastVisit := func() *time.Time {
		var page struct{ Items []person }
		f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/people", token: f.manager}).expect(t, http.StatusOK).decode(t, &page)
		for _, p := range page.Items {
			if p.ID == anneID {
				return p.LastVisitAt
			}
		}
		t.Fatalf("anne is not among the site's people: %+v", page.Items)
		return nil
	}
	if v := lastVisit(); v != nil {
		t.Fatalf("a visit before any arrival: %s", v)
	}
	// 07:50: check-in is open; the morning's tokens have expired.
	f.h.clock.Advance(50 * time.Minute)
	anne, _ = f.h.login("anne@example.fr", password)
	f.manager, _ = f.h.login("manon@example.fr", password)
	var in struct {
		CheckedInAt time.Time `json:"checked_in_at"`
	}
	f.h.do(req{method: "POST", path: "/v1/reservations/" + r.ID + "/check-in", token: anne}).expect(t, http.StatusOK).decode(t, &in)
	if v := lastVisit(); v == nil || !v.Equal(in.CheckedInAt) {
		t.Fatalf("last visit %v, want the check-in at %s", v, in.CheckedInAt)
	}
}

// TestEditWalkIn: the desk corrects a walk-in's name, phone and email until
// they choose their password; then, and for people who signed up
// themselves, it is a 403 saying they edit their own profile.
func TestEditWalkIn(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	mails := h.mailJobs()
	people := "/v1/sites/" + f.site + "/people"
	var odile personOut
	h.do(req{method: "POST", path: people, token: f.manager, body: map[string]any{"name": "Odile Mrtin", "phone": "+33145678901"}}).
		expect(t, http.StatusCreated).decode(t, &odile)
	if !odile.Awaiting {
		t.Fatalf("odile = %+v", odile)
	}
	// A member who signed up and bought a pass here: related, not a walk-in.
	anneID, _, _ := h.member("anne@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": anneID, "plan_id": f.dayPass, "date": "2026-03-02", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)

	var got personOut
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.manager, body: map[string]any{"name": "Odile Martin", "phone": "+33612345678"}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.Name != "Odile Martin" || got.Phone == nil || *got.Phone != "+33612345678" || got.HasEmail {
		t.Fatalf("after name and phone: %+v", got)
	}
	if names(f.search(t, f.manager, "q=martin")) != "Odile Martin" {
		t.Fatal("not found by her corrected name")
	}
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.admin, body: map[string]any{"phone": nil}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.Phone != nil {
		t.Fatalf("phone not removed: %+v", got)
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"empty name", map[string]any{"name": " "}, "name"},
		{"phone not E.164", map[string]any{"phone": "06 12 34 56 78"}, "phone"},
		{"not an email", map[string]any{"email": "odile"}, "email"},
	} {
		p := h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.manager, body: tc.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(tc.field) {
			t.Errorf("%s: problem %+v", tc.name, p)
		}
	}
	// Who may: not a member, not a manager of another site, not an API key.
	anne, _ := h.login("anne@example.fr", password)
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: anne, body: map[string]any{"name": "X"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.olga, body: map[string]any{"name": "X"}}).expect(t, http.StatusForbidden)
	// Anne signed up herself: she edits her own profile.
	if p := h.do(req{method: "PATCH", path: people + "/" + anneID, token: f.manager, body: map[string]any{"name": "Anne M."}}).
		expect(t, http.StatusForbidden).problem(t); p.Code != "person_edits_own_profile" {
		t.Fatalf("anne: %+v", p)
	}

	// Odile is given an email, with a typo, then the right one: the link
	// mailed to the typo stops working; following the right one sets her
	// password and verifies her address.
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.manager, body: map[string]any{"email": "odile@exmple.fr"}}).expect(t, http.StatusOK)
	jobstest.WaitCompleted(t, mails, identity.InvitationMailArgs{}.Kind(), 1)
	h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.manager, body: map[string]any{"email": "Odile@Example.fr"}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.Email == nil || *got.Email != "odile@example.fr" || !got.Awaiting {
		t.Fatalf("after email: %+v", got)
	}
	jobstest.WaitCompleted(t, mails, identity.InvitationMailArgs{}.Kind(), 2)
	link := func(addr string) string {
		for _, m := range h.mails.All(addr) {
			if found := resetToken.FindStringSubmatch(m.Text()); found != nil {
				return found[1]
			}
		}
		t.Fatalf("no invitation to %s", addr)
		return ""
	}
	h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": link("odile@exmple.fr"), "new_password": "odile long password"}}).
		expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": link("odile@example.fr"), "new_password": "odile long password"}}).
		expect(t, http.StatusNoContent)
	odileToken, _ := h.login("odile@example.fr", "odile long password")
	var me struct {
		EmailVerified bool `json:"email_verified"`
	}
	h.do(req{method: "GET", path: "/v1/me", token: odileToken}).expect(t, http.StatusOK).decode(t, &me)
	if !me.EmailVerified {
		t.Fatal("the invitation followed did not verify her address")
	}
	// Now her account is hers.
	if p := h.do(req{method: "PATCH", path: people + "/" + odile.ID, token: f.manager, body: map[string]any{"phone": "+33612345678"}}).
		expect(t, http.StatusForbidden).problem(t); p.Code != "person_edits_own_profile" {
		t.Fatalf("after her password: %+v", p)
	}
	h.do(req{method: "GET", path: people + "/" + odile.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &got)
	if got.Awaiting {
		t.Fatalf("still awaiting her password: %+v", got)
	}
}
