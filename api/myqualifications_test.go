package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestMyQualifications: a member lists the trainings they hold now, until
// when, and the machines each opens; not others' grants, not a revoked or
// expired one; an API key holds none.
func TestMyQualifications(t *testing.T) {
	f := newCalendarFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	_, bruno, _ := h.member("bruno@example.fr")

	type mine struct {
		Items []struct {
			Qualification struct{ ID, Name string }
			GrantedAt     time.Time  `json:"granted_at"`
			ExpiresAt     *time.Time `json:"expires_at"`
			Machines      []struct{ ID, Name, Kind string }
		}
	}
	list := func(token string) mine {
		t.Helper()
		var m mine
		h.do(req{method: "GET", path: "/v1/me/qualifications", token: token}).expect(t, http.StatusOK).decode(t, &m)
		return m
	}
	if m := list(anne); len(m.Items) != 0 {
		t.Fatalf("before any grant: %+v", m)
	}

	// A second training, granted then revoked, and a third never granted.
	var router, cnc struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/qualifications", token: f.manager, body: map[string]string{"name": "Router"}}).
		expect(t, http.StatusCreated).decode(t, &router)
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/qualifications", token: f.manager, body: map[string]string{"name": "CNC"}}).
		expect(t, http.StatusCreated).decode(t, &cnc)
	f.resource(t, map[string]any{"kind": "machine", "name": "Défonceuse", "qualification_id": router.ID})
	h.do(req{method: "POST", path: "/v1/qualifications/" + router.ID + "/grants", token: f.manager, body: map[string]any{"user_id": anneID}}).
		expect(t, http.StatusCreated)
	h.do(req{method: "DELETE", path: "/v1/qualifications/" + router.ID + "/grants/" + anneID, token: f.manager}).expect(t, http.StatusNoContent)

	until := h.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	h.do(req{method: "POST", path: "/v1/qualifications/" + f.qual + "/grants", token: f.manager,
		body: map[string]any{"user_id": anneID, "expires_at": until.Format(time.RFC3339)}}).expect(t, http.StatusCreated)

	m := list(anne)
	if len(m.Items) != 1 {
		t.Fatalf("anne holds %+v, want the laser induction alone", m)
	}
	got := m.Items[0]
	if got.Qualification.ID != f.qual || got.Qualification.Name != "Laser induction" {
		t.Errorf("qualification %+v", got.Qualification)
	}
	if got.ExpiresAt == nil || !got.ExpiresAt.Equal(until) {
		t.Errorf("expires_at %v, want %v", got.ExpiresAt, until)
	}
	if !got.GrantedAt.Equal(h.clock.Now()) {
		t.Errorf("granted_at %v, want %v", got.GrantedAt, h.clock.Now())
	}
	if len(got.Machines) != 1 || got.Machines[0].ID != f.las || got.Machines[0].Name != "Laser" || got.Machines[0].Kind != "machine" {
		t.Errorf("machines %+v, want the laser", got.Machines)
	}

	// Another member sees none of anne's.
	if m := list(bruno); len(m.Items) != 0 {
		t.Errorf("bruno sees %+v", m)
	}

	// Past its expiry, the training is no longer held.
	h.clock.Advance(31 * 24 * time.Hour)
	anne, _ = h.login("anne@example.fr", password) // the old token has expired too
	if m := list(anne); len(m.Items) != 0 {
		t.Errorf("after expiry: %+v", m)
	}

	// An API key, even of the site, holds no training.
	_, admin := h.admin()
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: admin,
		body: map[string]any{"name": "kiosk", "scopes": []string{"sites:read"}, "site_ids": []string{f.site}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	var problem struct{ Detail string }
	h.do(req{method: "GET", path: "/v1/me/qualifications", token: key.Secret}).expect(t, http.StatusForbidden).decode(t, &problem)
	if problem.Detail != "an API key holds no qualification" {
		t.Errorf("API key refused with %q", problem.Detail)
	}
	h.do(req{method: "GET", path: "/v1/me/qualifications"}).expect(t, http.StatusUnauthorized)
}
