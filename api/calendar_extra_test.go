package api_test

import (
	"net/http"
	"testing"
	"time"
)

func TestSeriesOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	_, bob, _ := f.h.member("bob@example.fr")
	// Bob holds Tuesday 17 March 09:00–10:00 in the room.
	f.book(bob, f.room, f.at(17, 9, 0), f.at(17, 10, 0)).expect(t, http.StatusCreated)
	body := map[string]any{"resource_id": f.room, "start": "2026-03-03T09:00", "end": "2026-03-03T12:00",
		"rrule": "FREQ=WEEKLY;BYDAY=TU;UNTIL=20260331T235959Z"}
	p := f.h.do(req{method: "POST", path: "/v1/reservations/series", token: anne, body: body}).expect(t, http.StatusConflict).problem(t)
	if p.Code != "occurrences_unavailable" {
		t.Fatalf("problem = %+v", p)
	}
	body["mode"] = "skip_conflicts"
	var out struct {
		Series  struct{ ID string }
		Created []struct{ ID string }
		Skipped []struct{ Code string }
	}
	f.h.do(req{method: "POST", path: "/v1/reservations/series", token: anne, body: body}).expect(t, http.StatusCreated).decode(t, &out)
	if len(out.Created) != 4 || len(out.Skipped) != 1 || out.Skipped[0].Code != "slot_taken" {
		t.Fatalf("series = %+v", out)
	}
	// Bob cannot see it; Anne and the manager can.
	f.h.do(req{method: "GET", path: "/v1/reservations/series/" + out.Series.ID, token: bob}).expect(t, http.StatusNotFound)
	f.h.do(req{method: "GET", path: "/v1/reservations/series/" + out.Series.ID, token: f.manager}).expect(t, http.StatusOK)
	var moved struct{ Moved []struct{ Start time.Time } }
	f.h.do(req{method: "PATCH", path: "/v1/reservations/series/" + out.Series.ID, token: anne,
		body: map[string]any{"start_time": "14:00", "end_time": "16:00"}}).expect(t, http.StatusOK).decode(t, &moved)
	if len(moved.Moved) != 4 || moved.Moved[0].Start.In(f.paris).Hour() != 14 {
		t.Fatalf("moved = %+v", moved)
	}
	var cancelled struct{ Cancelled []any }
	f.h.do(req{method: "DELETE", path: "/v1/reservations/series/" + out.Series.ID + "?from=" + time.Date(2026, 3, 24, 0, 0, 0, 0, f.paris).UTC().Format(time.RFC3339), token: anne}).
		expect(t, http.StatusOK).decode(t, &cancelled)
	if len(cancelled.Cancelled) != 2 {
		t.Fatalf("cancelled %d occurrences, want 2 (24 and 31 March)", len(cancelled.Cancelled))
	}
	f.h.do(req{method: "POST", path: "/v1/reservations/series", token: anne,
		body: map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": f.at(3, 10, 0), "rrule": "FREQ=DAILY;COUNT=400"}}).
		expect(t, http.StatusUnprocessableEntity)
}

func TestWaitlistOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	_, bob, _ := f.h.member("bob@example.fr")
	var held struct{ ID string }
	f.book(anne, f.desk, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated).decode(t, &held)
	slot := map[string]any{"resource_id": f.desk, "start": f.at(4, 9, 0), "end": f.at(4, 10, 0)}
	var entry struct{ ID, Status string }
	f.h.do(req{method: "POST", path: "/v1/waitlist", token: bob, body: slot}).expect(t, http.StatusCreated).decode(t, &entry)
	f.h.do(req{method: "POST", path: "/v1/waitlist", token: bob, body: slot}).expect(t, http.StatusConflict)
	f.h.do(req{method: "POST", path: "/v1/waitlist", token: bob,
		body: map[string]any{"resource_id": f.desk, "start": f.at(4, 11, 0), "end": f.at(4, 12, 0)}}).expect(t, http.StatusUnprocessableEntity)
	f.h.do(req{method: "POST", path: "/v1/waitlist/" + entry.ID + "/accept", token: bob}).expect(t, http.StatusUnprocessableEntity)
	f.h.do(req{method: "DELETE", path: "/v1/reservations/" + held.ID, token: anne}).expect(t, http.StatusOK)
	f.h.do(req{method: "GET", path: "/v1/waitlist/" + entry.ID, token: bob}).expect(t, http.StatusOK).decode(t, &entry)
	if entry.Status != "offered" {
		t.Fatalf("entry after the cancellation = %s, want offered", entry.Status)
	}
	f.h.do(req{method: "GET", path: "/v1/waitlist/" + entry.ID, token: anne}).expect(t, http.StatusNotFound)
	f.h.do(req{method: "POST", path: "/v1/waitlist/" + entry.ID + "/accept", token: anne}).expect(t, http.StatusNotFound)
	var rv struct{ Status, UserID string }
	f.h.do(req{method: "POST", path: "/v1/waitlist/" + entry.ID + "/accept", token: bob}).expect(t, http.StatusCreated).decode(t, &rv)
	if rv.Status != "confirmed" {
		t.Fatalf("accepted reservation = %+v", rv)
	}
	var mine struct{ Items []struct{ Status string } }
	f.h.do(req{method: "GET", path: "/v1/waitlist", token: bob}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Status != "booked" {
		t.Fatalf("bob's entries = %+v", mine)
	}
}

func TestAvailabilityAndResourceClosuresOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	f.book(anne, f.desk, f.at(3, 10, 0), f.at(3, 11, 0)).expect(t, http.StatusCreated)
	var c struct{ ID string }
	f.h.do(req{method: "POST", path: "/v1/resources/" + f.desk + "/closures", token: f.manager,
		body: map[string]string{"starts_at": f.at(3, 15, 0), "ends_at": f.at(3, 16, 0), "reason": "Réparation"}}).expect(t, http.StatusCreated).decode(t, &c)
	f.h.do(req{method: "POST", path: "/v1/resources/" + f.desk + "/closures", token: anne,
		body: map[string]string{"starts_at": f.at(3, 15, 0), "ends_at": f.at(3, 16, 0)}}).expect(t, http.StatusForbidden)
	f.book(anne, f.desk, f.at(3, 15, 0), f.at(3, 16, 0)).expect(t, http.StatusUnprocessableEntity)

	q := "?from=" + time.Date(2026, 3, 3, 0, 0, 0, 0, f.paris).UTC().Format(time.RFC3339) + "&to=" + time.Date(2026, 3, 4, 0, 0, 0, 0, f.paris).UTC().Format(time.RFC3339)
	var one struct {
		Free []struct{ Start, End time.Time }
	}
	f.h.do(req{method: "GET", path: "/v1/resources/" + f.desk + "/availability" + q, token: anne}).expect(t, http.StatusOK).decode(t, &one)
	want := [][2]int{{8, 10}, {11, 15}, {16, 20}}
	if len(one.Free) != len(want) {
		t.Fatalf("free = %+v, want %v", one.Free, want)
	}
	for i, w := range want {
		if one.Free[i].Start.In(f.paris).Hour() != w[0] || one.Free[i].End.In(f.paris).Hour() != w[1] {
			t.Fatalf("free[%d] = %s–%s, want %d:00–%d:00", i, one.Free[i].Start.In(f.paris), one.Free[i].End.In(f.paris), w[0], w[1])
		}
	}
	var site struct {
		Items []struct {
			ResourceID string `json:"resource_id"`
		}
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/availability" + q + "&kind=desk", token: anne}).expect(t, http.StatusOK).decode(t, &site)
	if len(site.Items) != 1 || site.Items[0].ResourceID != f.desk {
		t.Fatalf("site availability of desks = %+v", site)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/availability?from=2026-03-03T00:00:00Z", token: anne}).expect(t, http.StatusBadRequest)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/availability?from=2026-03-03T00:00:00Z&to=2026-06-03T00:00:00Z", token: anne}).
		expect(t, http.StatusUnprocessableEntity)
	f.h.do(req{method: "DELETE", path: "/v1/resources/" + f.desk + "/closures/" + c.ID, token: f.manager}).expect(t, http.StatusNoContent)
	f.book(anne, f.desk, f.at(3, 15, 0), f.at(3, 16, 0)).expect(t, http.StatusCreated)
}
