package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// calendarFixture: an admin, a site in Paris open 08:00–20:00 every day, a
// manager of it, and resources of each kind.
type calendarFixture struct {
	h                     *harness
	admin, manager        string
	site                  string
	desk, zone, room, las string
	qual                  string
	paris                 *time.Location
}

func newCalendarFixture(t testing.TB) *calendarFixture {
	h := newHarness(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	h.clock.t = time.Date(2026, 3, 2, 7, 0, 0, 0, paris).UTC() // Monday 2 March 2026, 07:00 in Paris
	_, admin := h.admin()
	body := siteBody("La Fabrique")
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	body["opening_hours"] = hours
	var site struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusCreated).decode(t, &site)
	managerID, manager, _ := h.member("manon@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + site.ID + "/managers", token: admin, body: map[string]string{"user_id": managerID}}).expect(t, http.StatusCreated)
	manager, _ = h.login("manon@example.fr", password) // a new token carries the new right
	f := &calendarFixture{h: h, admin: admin, manager: manager, site: site.ID, paris: paris}
	var q struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + site.ID + "/qualifications", token: manager, body: map[string]string{"name": "Laser induction"}}).
		expect(t, http.StatusCreated).decode(t, &q)
	f.qual = q.ID
	f.desk = f.resource(t, map[string]any{"kind": "desk", "name": "Desk 1", "price_per_hour_cents": 500})
	f.zone = f.resource(t, map[string]any{"kind": "zone", "name": "Open space", "capacity": 10})
	f.room = f.resource(t, map[string]any{"kind": "room", "name": "Salle Lavoisier", "capacity": 8, "rules": map[string]int{"slot_minutes": 15, "buffer_after_minutes": 15}})
	f.las = f.resource(t, map[string]any{"kind": "machine", "name": "Laser", "qualification_id": q.ID})
	return f
}

func (f *calendarFixture) resource(t testing.TB, body map[string]any) string {
	var r struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/resources", token: f.manager, body: body}).expect(t, http.StatusCreated).decode(t, &r)
	return r.ID
}

func (f *calendarFixture) at(day, hour, minute int) string {
	return time.Date(2026, 3, day, hour, minute, 0, 0, f.paris).Format(time.RFC3339)
}

func (f *calendarFixture) book(token, resource, start, end string) *response {
	return f.h.do(req{method: "POST", path: "/v1/reservations", token: token,
		body: map[string]any{"resource_id": resource, "start": start, "end": end}})
}

func TestReservationLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")

	var rv struct {
		ID, Status string
		Start, End time.Time
	}
	r := f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	r.decode(t, &rv)
	if r.Header.Get("Location") != "/v1/reservations/"+rv.ID || rv.Status != "confirmed" || !rv.Start.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("reservation = %+v", rv)
	}
	// A taken slot is a 409 naming the interval, not the holder.
	p := f.book(bob, f.desk, f.at(3, 9, 30), f.at(3, 10, 30)).expect(t, http.StatusConflict).problem(t)
	if p.Code != "slot_taken" {
		t.Fatalf("problem = %+v", p)
	}
	// Local wall-clock times are read in the site's zone.
	f.h.do(req{method: "POST", path: "/v1/reservations", token: bob,
		body: map[string]any{"resource_id": f.desk, "start": "2026-03-03T10:00", "end": "2026-03-03T11:00"}}).expect(t, http.StatusCreated)

	// Bob neither sees nor cancels Anne's reservation.
	h.do(req{method: "GET", path: "/v1/reservations/" + rv.ID, token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "DELETE", path: "/v1/reservations/" + rv.ID, token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: bob, body: map[string]string{"end": f.at(3, 11, 0)}}).expect(t, http.StatusNotFound)
	var mine struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/reservations", token: bob}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 {
		t.Fatalf("bob lists %d reservations, want his 1", len(mine.Items))
	}
	h.do(req{method: "GET", path: "/v1/reservations?site_id=" + f.site, token: bob}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 {
		t.Fatalf("a member filtering by site sees %d reservations, want only his own", len(mine.Items))
	}
	// The manager sees the site's.
	var all struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/reservations?site_id=" + f.site, token: f.manager}).expect(t, http.StatusOK).decode(t, &all)
	if len(all.Items) != 2 {
		t.Fatalf("manager lists %d, want 2", len(all.Items))
	}

	// Anne moves to the afternoon; the move is atomic and checked.
	h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: anne, body: map[string]string{"start": f.at(3, 10, 0), "end": f.at(3, 11, 0)}}).
		expect(t, http.StatusConflict)
	h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: anne, body: map[string]string{"start": f.at(3, 14, 0), "end": f.at(3, 15, 0)}}).
		expect(t, http.StatusOK)
	// The manager cancels it with a reason Anne sees.
	var c struct {
		Status       string
		CancelReason string `json:"cancel_reason"`
	}
	h.do(req{method: "DELETE", path: "/v1/reservations/" + rv.ID + "?reason=Fuite%20d%27eau", token: f.manager}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/reservations/" + rv.ID, token: anne}).expect(t, http.StatusOK).decode(t, &c)
	if c.Status != "cancelled" || c.CancelReason != "Fuite d'eau" {
		t.Fatalf("after manager's cancel: %+v", c)
	}
}

func TestBookingRulesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	tests := []struct {
		name, resource, start, end string
		status                     int
		code, field                string
	}{
		{"end before start", f.desk, f.at(3, 10, 0), f.at(3, 9, 0), 422, "end_before_start", "end"},
		{"past", f.desk, f.at(1, 10, 0), f.at(1, 11, 0), 422, "in_the_past", "start"},
		{"off grid", f.desk, f.at(3, 10, 10), f.at(3, 11, 0), 422, "off_granularity", "start"},
		{"outside hours", f.desk, f.at(3, 7, 0), f.at(3, 9, 0), 422, "outside_opening_hours", "start"},
		{"no training", f.las, f.at(3, 9, 0), f.at(3, 10, 0), 422, "qualification_required", "resource_id"},
		{"unknown resource", "01a21af7-eedd-72a1-95ac-9c5fa649d0e2", f.at(3, 9, 0), f.at(3, 10, 0), 422, "resource_not_found", "resource_id"},
		{"garbage time", f.desk, "demain 9h", f.at(3, 10, 0), 422, "", "start"},
		// 29 March 2026: 02:00–03:00 does not exist in Paris.
		{"spring forward gap", f.zone, "2026-03-29T02:30", "2026-03-29T03:30", 422, "nonexistent_local_time", "start"},
		{"spring forward gap with offset", f.zone, "2026-03-29T02:30:00+01:00", "2026-03-29T04:00:00+02:00", 422, "nonexistent_local_time", "start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.book(anne, tt.resource, tt.start, tt.end).expect(t, tt.status).problem(t)
			if tt.code != "" && p.Code != tt.code {
				t.Fatalf("code = %q, want %q (%+v)", p.Code, tt.code, p)
			}
			if !p.hasField(tt.field) {
				t.Fatalf("problem does not name %q: %+v", tt.field, p)
			}
		})
	}
	var mine struct{ Items []any }
	f.h.do(req{method: "GET", path: "/v1/reservations", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("refused bookings left %d reservations", len(mine.Items))
	}
}

func TestDSTDaysOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	f.h.clock.t = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	f.manager, _ = f.h.login("manon@example.fr", password) // tokens from before the jump have expired
	zone24 := f.resource(t, map[string]any{"kind": "zone", "name": "Night zone", "capacity": 5,
		"opening_hours": map[string]any{"sun": [][]string{{"00:00", "24:00"}}, "sat": [][]string{{"00:00", "24:00"}}}})
	_, anne, _ := f.h.member("anne@example.fr")
	var rv struct{ Start, End time.Time }
	// Spring forward: 01:00 to 04:00 local lasts two real hours.
	f.h.do(req{method: "POST", path: "/v1/reservations", token: anne,
		body: map[string]any{"resource_id": zone24, "start": "2026-03-29T01:00", "end": "2026-03-29T04:00"}}).expect(t, http.StatusCreated).decode(t, &rv)
	if d := rv.End.Sub(rv.Start); d != 2*time.Hour {
		t.Fatalf("01:00–04:00 on 29 March lasts %s, want 2h", d)
	}
	f.h.clock.t = time.Date(2026, 10, 20, 12, 0, 0, 0, time.UTC)
	anne, _ = f.h.login("anne@example.fr", password)
	// Fall back: 02:30 happens twice; without an offset it is ambiguous.
	p := f.h.do(req{method: "POST", path: "/v1/reservations", token: anne,
		body: map[string]any{"resource_id": zone24, "start": "2026-10-25T02:30", "end": "2026-10-25T04:00"}}).expect(t, http.StatusUnprocessableEntity).problem(t)
	if p.Code != "ambiguous_local_time" {
		t.Fatalf("code = %q", p.Code)
	}
	// With offsets both 02:30s are bookable, and durations count real time.
	f.h.do(req{method: "POST", path: "/v1/reservations", token: anne,
		body: map[string]any{"resource_id": zone24, "start": "2026-10-25T01:00:00+02:00", "end": "2026-10-25T04:00:00+01:00"}}).expect(t, http.StatusCreated).decode(t, &rv)
	if d := rv.End.Sub(rv.Start); d != 4*time.Hour {
		t.Fatalf("01:00–04:00 on 25 October lasts %s, want 4h", d)
	}
	f.h.do(req{method: "POST", path: "/v1/reservations", token: anne,
		body: map[string]any{"resource_id": zone24, "start": "2026-10-25T02:30:00+01:00", "end": "2026-10-25T03:00:00+01:00"}}).expect(t, http.StatusCreated)
}

func TestManagersBookOnBehalfAndBlock(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	anneID, anne, _ := f.h.member("anne@example.fr")
	_, bob, _ := f.h.member("bob@example.fr")
	var rv struct {
		UserID    string `json:"user_id"`
		CreatedBy string `json:"created_by"`
	}
	f.h.do(req{method: "POST", path: "/v1/reservations", token: f.manager,
		body: map[string]any{"resource_id": f.room, "start": f.at(4, 9, 0), "end": f.at(4, 10, 0), "user_id": anneID}}).expect(t, http.StatusCreated).decode(t, &rv)
	if rv.UserID != anneID || rv.CreatedBy == anneID {
		t.Fatalf("on-behalf reservation = %+v", rv)
	}
	// Members cannot do either.
	f.h.do(req{method: "POST", path: "/v1/reservations", token: bob,
		body: map[string]any{"resource_id": f.room, "start": f.at(4, 11, 0), "end": f.at(4, 12, 0), "user_id": anneID}}).expect(t, http.StatusForbidden)
	f.h.do(req{method: "POST", path: "/v1/reservations", token: bob,
		body: map[string]any{"resource_id": f.room, "start": f.at(5, 0, 0), "end": f.at(6, 0, 0), "kind": "block"}}).expect(t, http.StatusForbidden)
	// A maintenance block takes the whole laser.
	f.h.do(req{method: "POST", path: "/v1/reservations", token: f.manager,
		body: map[string]any{"resource_id": f.las, "start": f.at(5, 0, 0), "end": f.at(6, 0, 0), "kind": "block", "note": "Changement du tube"}}).expect(t, http.StatusCreated)
	anneQual(t, f, anneID)
	f.book(anne, f.las, f.at(5, 9, 0), f.at(5, 10, 0)).expect(t, http.StatusConflict)
	f.book(anne, f.las, f.at(6, 9, 0), f.at(6, 10, 0)).expect(t, http.StatusCreated)
}

func anneQual(t *testing.T, f *calendarFixture, userID string) {
	f.h.do(req{method: "POST", path: "/v1/qualifications/" + f.qual + "/grants", token: f.manager, body: map[string]any{"user_id": userID}}).expect(t, http.StatusCreated)
}

// TestNoDoubleBookingOverHTTP: 100 clients race for one desk and slot.
func TestNoDoubleBookingOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	const n = 100
	tokens := make([]string, 10)
	for i := range tokens {
		_, tokens[i], _ = f.h.member(fmt.Sprintf("m%d@example.fr", i))
	}
	for _, tc := range []struct {
		resource string
		want     int
	}{{f.desk, 1}, {f.zone, 10}} {
		var wg sync.WaitGroup
		statuses := make([]int, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				statuses[i] = f.book(tokens[i%len(tokens)], tc.resource, f.at(3, 9, 0), f.at(3, 10, 0)).Status
			}()
		}
		close(start)
		wg.Wait()
		created := 0
		for _, s := range statuses {
			switch s {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
			default:
				t.Fatalf("status %d in the race", s)
			}
		}
		if created != tc.want {
			t.Fatalf("%d of %d racing bookings succeeded, want %d", created, n, tc.want)
		}
	}
}
