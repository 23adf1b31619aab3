package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

type guestOut struct {
	ID      string
	SiteID  string `json:"site_id"`
	Name    string
	Phone   *string
	Email   *string
	Commune struct {
		Name       string
		INSEE      *string
		PostalCode *string `json:"postal_code"`
	}
	AgeBand    string `json:"age_band"`
	HasAccount bool   `json:"has_account"`
}

// The animateur registers guests (a senior without an email, a resident
// with one who is mailed no invitation), serves them as members (a booking
// on their behalf, a day pass at the desk), corrects them; bad input
// changes nothing; managers of other sites and members never see them.
func TestGuestsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	guests := "/v1/sites/" + f.site + "/guests"

	var jeanne guestOut
	r := h.do(req{method: "POST", path: guests, token: f.manager, headers: map[string]string{"Idempotency-Key": "guest-1"},
		body: map[string]any{"name": "Jeanne Martin", "phone": "+33555123456", "age_band": "70_plus",
			"commune": map[string]any{"name": "Bourganeuf", "insee": "23030", "postal_code": "23400"}}}).expect(t, http.StatusCreated)
	r.decode(t, &jeanne)
	if r.Header.Get("Location") != "/v1/guests/"+jeanne.ID || jeanne.Name != "Jeanne Martin" || jeanne.Email != nil || jeanne.SiteID != f.site ||
		jeanne.AgeBand != "70_plus" || jeanne.Commune.Name != "Bourganeuf" || jeanne.Commune.INSEE == nil || *jeanne.Commune.INSEE != "23030" ||
		jeanne.HasAccount {
		t.Fatalf("jeanne = %+v", jeanne)
	}
	// The same request again is the same guest.
	var again guestOut
	replay := h.do(req{method: "POST", path: guests, token: f.manager, headers: map[string]string{"Idempotency-Key": "guest-1"},
		body: map[string]any{"name": "Jeanne Martin", "phone": "+33555123456", "age_band": "70_plus",
			"commune": map[string]any{"name": "Bourganeuf", "insee": "23030", "postal_code": "23400"}}}).expect(t, http.StatusCreated)
	replay.decode(t, &again)
	if again.ID != jeanne.ID || replay.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %+v (%q)", again, replay.Header.Get("Idempotent-Replayed"))
	}

	// With an email: no invitation (no link stored), the age not said.
	var paul guestOut
	h.do(req{method: "POST", path: guests, token: f.manager,
		body: map[string]any{"name": "Paul Roux", "email": "Paul.Roux@example.fr", "commune": map[string]any{"name": "Royère-de-Vassivière"}}}).
		expect(t, http.StatusCreated).decode(t, &paul)
	if paul.Email == nil || *paul.Email != "paul.roux@example.fr" || paul.AgeBand != "unknown" || paul.Commune.INSEE != nil {
		t.Fatalf("paul = %+v", paul)
	}
	if n := h.rows("password_resets", "user_id", paul.ID); n != 0 {
		t.Fatalf("a guest got %d invitation links", n)
	}
	// A member's email is theirs: serve the member.
	anneID, anne, _ := h.member("anne@example.fr")
	var taken struct {
		Code   string
		UserID string `json:"user_id"`
	}
	h.do(req{method: "POST", path: guests, token: f.manager, body: map[string]any{"name": "Anne", "email": "anne@example.fr",
		"commune": map[string]any{"name": "Guéret"}}}).expect(t, http.StatusConflict).decode(t, &taken)
	if taken.Code != "email_taken" || taken.UserID != anneID {
		t.Fatalf("member's email: %+v", taken)
	}

	// Bad input names the field and creates nobody.
	before := len(f.search(t, f.manager, "").Items)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "X", "commune": map[string]any{"name": " "}}, "commune.name"},
		{map[string]any{"name": "X"}, "commune.name"},
		{map[string]any{"name": "X", "commune": map[string]any{"name": "Guéret", "insee": "2300"}}, "commune.insee"},
		{map[string]any{"name": "X", "commune": map[string]any{"name": "Guéret", "postal_code": "F-23000"}}, "commune.postal_code"},
		{map[string]any{"name": "X", "commune": map[string]any{"name": "Guéret"}, "age_band": "old"}, "age_band"},
		{map[string]any{"name": "", "commune": map[string]any{"name": "Guéret"}}, "name"},
	} {
		p := h.do(req{method: "POST", path: guests, token: f.manager, body: c.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(c.field) {
			t.Errorf("%v: %+v, want %s named", c.body, p, c.field)
		}
	}
	if after := len(f.search(t, f.manager, "").Items); after != before {
		t.Fatalf("refused guests left people: %d then %d", before, after)
	}

	// Served as a member: a desk sale and a booking on her behalf.
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager,
		body: map[string]any{"user_id": jeanne.ID, "plan_id": f.dayPass, "date": "2026-03-03", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/reservations", token: f.manager,
		body: map[string]any{"resource_id": f.desk, "user_id": jeanne.ID, "start": f.at(3, 10, 0), "end": f.at(3, 12, 0)}}).
		expect(t, http.StatusCreated)
	if got := names(f.search(t, f.manager, "q=jeanne")); got != "Jeanne Martin" {
		t.Fatalf("the desk's search finds %q", got)
	}

	// Corrections: commune and age band; the phone removed.
	var fixed guestOut
	h.do(req{method: "PATCH", path: "/v1/guests/" + jeanne.ID, token: f.manager,
		body: map[string]any{"phone": nil, "age_band": "60_69", "commune": map[string]any{"name": "Ajaccio", "insee": "2a004"}}}).
		expect(t, http.StatusOK).decode(t, &fixed)
	if fixed.Phone != nil || fixed.AgeBand != "60_69" || fixed.Commune.Name != "Ajaccio" || fixed.Commune.INSEE == nil || *fixed.Commune.INSEE != "2A004" ||
		fixed.Commune.PostalCode != nil || fixed.Name != "Jeanne Martin" {
		t.Fatalf("fixed = %+v", fixed)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/guests/" + jeanne.ID, token: f.manager, body: map[string]any{"age_band": "ancient"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("age_band") {
		t.Fatalf("bad band: %+v", p)
	}
	var still guestOut
	h.do(req{method: "GET", path: "/v1/guests/" + jeanne.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &still)
	if still.AgeBand != "60_69" {
		t.Fatalf("a refused change changed the guest: %+v", still)
	}

	// Nobody else: a manager of another site, a member, the member herself
	// through this route; a member's account is no guest.
	h.do(req{method: "GET", path: "/v1/guests/" + jeanne.ID, token: f.olga}).expect(t, http.StatusNotFound)
	h.do(req{method: "PATCH", path: "/v1/guests/" + jeanne.ID, token: f.olga, body: map[string]any{"age_band": "unknown"}}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/guests/" + jeanne.ID, token: anne}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/guests/" + anneID, token: f.admin}).expect(t, http.StatusNotFound)
	h.do(req{method: "POST", path: guests, token: anne, body: map[string]any{"name": "X", "commune": map[string]any{"name": "Guéret"}}}).
		expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: guests, token: f.olga, body: map[string]any{"name": "X", "commune": map[string]any{"name": "Guéret"}}}).
		expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/guests/" + jeanne.ID, token: f.admin}).expect(t, http.StatusOK)
}

// Guests no longer served for the retention period are erased by the
// daily purge; one with a booking or an atelier since, or who took their
// account, stays.
func TestStaleGuestsArePurged(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	ctx := context.Background()
	guests := "/v1/sites/" + f.site + "/guests"
	mk := func(name, email string) string {
		t.Helper()
		body := map[string]any{"name": name, "commune": map[string]any{"name": "Guéret"}}
		if email != "" {
			body["email"] = email
		}
		var g guestOut
		h.do(req{method: "POST", path: guests, token: f.manager, body: body}).expect(t, http.StatusCreated).decode(t, &g)
		return g.ID
	}
	gone, booked, member := mk("Gone Away", ""), mk("Comes Back", ""), mk("Took Account", "took@example.fr")
	// A fourth comes to an atelier in two days, registered by the desk.
	learner := mk("Learns Tablets", "")
	atelier := f.newAtelier(t, map[string]any{"resource_ids": []string{}}, [2]string{"2026-03-04T14:00", "2026-03-04T16:00"})
	f.register(t, f.manager, atelier.ID, map[string]any{"guest_id": learner}, http.StatusCreated)
	// Taking the account, as confirming "forgot password" does.
	if _, err := h.db.ExecContext(ctx, "UPDATE users SET awaiting_password = ? WHERE id = ?", false, member); err != nil {
		t.Fatal(err)
	}

	// "Comes Back" has a booking in two days; then two years and a day go
	// by: the booking ended within the retention period.
	h.do(req{method: "POST", path: "/v1/reservations", token: f.manager,
		body: map[string]any{"resource_id": f.desk, "user_id": booked, "start": f.at(4, 10, 0), "end": f.at(4, 11, 0)}}).
		expect(t, http.StatusCreated)
	h.clock.Advance(2*365*24*time.Hour + 24*time.Hour)

	if _, err := h.api.Privacy.PurgeOld(ctx); err != nil {
		t.Fatal(err)
	}
	_, admin := h.admin() // the fixture's token has expired meanwhile
	h.do(req{method: "GET", path: "/v1/guests/" + gone, token: admin}).expect(t, http.StatusNotFound)
	if n := h.rows("guests", "user_id", gone); n != 0 {
		t.Fatalf("the stale guest's row is still there")
	}
	var deleted int
	if err := h.db.NewSelect().Table("users").ColumnExpr("count(*)").Where("id = ? AND deleted_at IS NOT NULL", gone).Scan(ctx, &deleted); err != nil || deleted != 1 {
		t.Fatalf("the stale guest's account is not erased: %d (%v)", deleted, err)
	}
	for _, kept := range []string{booked, member, learner} {
		h.do(req{method: "GET", path: "/v1/guests/" + kept, token: admin}).expect(t, http.StatusOK)
	}
}
