package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// A reservation moves to another resource of its site with PATCH
// resource_id: checked as a new booking of that resource, its old slot
// freed in the same transaction; and refused, naming resource_id, for
// another site's resource, an occurrence of a series, a reservation that
// has started, or a taken slot.
func TestMoveToAnotherResource(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	desk2 := f.resource(t, map[string]any{"kind": "desk", "name": "Desk 2"})
	managersOnly := f.resource(t, map[string]any{"kind": "desk", "name": "Desk of the team", "member_bookable": false})
	var other struct{ ID string }
	body := siteBody("L’Annexe")
	h.do(req{method: "POST", path: "/v1/sites", token: f.admin, body: body}).expect(t, http.StatusCreated).decode(t, &other)
	var away struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + other.ID + "/resources", token: f.admin, body: map[string]any{"kind": "desk", "name": "Desk A"}}).
		expect(t, http.StatusCreated).decode(t, &away)

	type reservation struct {
		ID         string
		ResourceID string `json:"resource_id"`
		Start      time.Time
	}
	var rv reservation
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	move := func(token string, to string) *response {
		return h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: token, body: map[string]any{"resource_id": to}})
	}

	// The quote says what the move would do, and changes nothing.
	var q struct {
		Bookable   bool
		ResourceID string `json:"resource_id"`
	}
	h.do(req{method: "POST", path: "/v1/reservations/" + rv.ID + "/quote", token: anne, body: map[string]any{"resource_id": desk2}}).
		expect(t, http.StatusOK).decode(t, &q)
	if !q.Bookable || q.ResourceID != desk2 {
		t.Fatalf("quote of the move = %+v", q)
	}
	// Anne moves her own booking to Desk 2; Desk 1's hour is free at once.
	var moved reservation
	move(anne, desk2).expect(t, http.StatusOK).decode(t, &moved)
	if moved.ResourceID != desk2 || !moved.Start.Equal(rv.Start) {
		t.Fatalf("moved = %+v", moved)
	}
	f.book(bob, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)

	refusals := []struct {
		name, token, to string
		status          int
		code            string
	}{
		{"back to the desk Bob now holds", anne, f.desk, http.StatusConflict, "slot_taken"},
		{"another site's desk", f.manager, away.ID, http.StatusUnprocessableEntity, "other_site"},
		{"a desk only the managers book", anne, managersOnly, http.StatusForbidden, ""},
		{"an id that is no resource's", anne, "not-an-id", http.StatusUnprocessableEntity, ""},
		{"an unknown resource", anne, "01a24e88-0000-7000-8000-000000000000", http.StatusUnprocessableEntity, "resource_not_found"},
	}
	for _, c := range refusals {
		p := move(c.token, c.to).expect(t, c.status).problem(t)
		if c.code != "" && p.Code != c.code {
			t.Errorf("%s: code %q, want %q (%+v)", c.name, p.Code, c.code, p)
		}
		var now reservation
		h.do(req{method: "GET", path: "/v1/reservations/" + rv.ID, token: anne}).expect(t, http.StatusOK).decode(t, &now)
		if now.ResourceID != desk2 {
			t.Fatalf("%s: the refused move changed the resource to %s", c.name, now.ResourceID)
		}
	}

	// An occurrence of a series stays on the series' resource.
	var series struct{ Created []struct{ ID string } }
	h.do(req{method: "POST", path: "/v1/reservations/series", token: anne, body: map[string]any{"resource_id": f.desk,
		"start": "2026-03-10T14:00", "end": "2026-03-10T15:00", "rrule": "FREQ=WEEKLY;COUNT=2"}}).expect(t, http.StatusCreated).decode(t, &series)
	if p := h.do(req{method: "PATCH", path: "/v1/reservations/" + series.Created[0].ID, token: f.manager, body: map[string]any{"resource_id": desk2}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != "series_resource" {
		t.Errorf("an occurrence moved to another desk: %+v", p)
	}

	// Once started, not even a manager moves it to another resource.
	h.clock.Advance(26*time.Hour + 30*time.Minute) // Tuesday 3 March, 09:30 in Paris
	manager, _ := h.login("manon@example.fr", password)
	if p := move(manager, f.room).expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != "already_started" {
		t.Errorf("a started reservation moved to the room: %+v", p)
	}
}

// Moves crossing between two desks at once take the two desks' locks in
// one order: none waits for the other for ever (PostgreSQL would break
// such a deadlock only after a second, failing a move), and every move
// lands. A move and a booking racing for one slot: exactly one wins.
func TestMovesBetweenResourcesRace(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	desk2 := f.resource(t, map[string]any{"kind": "desk", "name": "Desk 2"})
	var r1, r2 struct{ ID string }
	f.book(anne, f.desk, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated).decode(t, &r1)
	f.book(bob, desk2, f.at(4, 11, 0), f.at(4, 12, 0)).expect(t, http.StatusCreated).decode(t, &r2)
	desks := [2]string{f.desk, desk2}
	var wg sync.WaitGroup
	for i, r := range []struct{ id, token string }{{r1.ID, anne}, {r2.ID, bob}} {
		wg.Go(func() {
			for n := range 10 {
				to := desks[(i+n+1)%2] // r1 goes to Desk 2 first, r2 to Desk 1
				resp := h.do(req{method: "PATCH", path: "/v1/reservations/" + r.id, token: r.token, body: map[string]any{"resource_id": to}})
				if resp.Status != http.StatusOK {
					t.Errorf("move %d of %s: status %d: %s", n, r.id, resp.Status, resp.Body)
					return
				}
			}
		})
	}
	wg.Wait()

	// Anne's hour is on Desk 1 again after ten moves; Claire books that hour
	// on Desk 2 while Anne moves there.
	_, claire, _ := h.member("claire@example.fr")
	var created, movedOK int
	var mu sync.Mutex
	wg.Go(func() {
		if f.book(claire, desk2, f.at(4, 9, 0), f.at(4, 10, 0)).Status == http.StatusCreated {
			mu.Lock()
			created++
			mu.Unlock()
		}
	})
	wg.Go(func() {
		if h.do(req{method: "PATCH", path: "/v1/reservations/" + r1.ID, token: anne, body: map[string]any{"resource_id": desk2}}).Status == http.StatusOK {
			mu.Lock()
			movedOK++
			mu.Unlock()
		}
	})
	wg.Wait()
	if created+movedOK != 1 {
		t.Fatalf("booking and move of one slot: %d created, %d moved; want exactly one", created, movedOK)
	}
	var n int
	if err := h.db.NewSelect().Table("reservations").ColumnExpr("count(*)").
		Where("resource_id = ? AND status = 'confirmed' AND starts_at < ? AND ends_at > ?", desk2,
			time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d confirmed reservations of Desk 2 at 9:00 on 4 March, want 1", n)
	}
}
