package api_test

import (
	"net/http"
	"testing"
	"time"
)

// TestReservationListNamesMembers: the managers' planning shows who booked
// each slot, so a list of reservations names each member (user_name);
// a block names nobody, and a single reservation's answer has no name.
func TestReservationListNamesMembers(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	var rv struct{ ID string }
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	h.do(req{method: "POST", path: "/v1/reservations", token: f.manager,
		body: map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": f.at(3, 12, 0), "kind": "block"}}).expect(t, http.StatusCreated)

	type item struct {
		ID       string
		Kind     string
		UserName *string `json:"user_name"`
	}
	var all struct{ Items []item }
	h.do(req{method: "GET", path: "/v1/reservations?site_id=" + f.site, token: f.manager}).expect(t, http.StatusOK).decode(t, &all)
	if len(all.Items) != 2 {
		t.Fatalf("manager lists %d, want 2", len(all.Items))
	}
	for _, it := range all.Items {
		switch it.Kind {
		case "block":
			if it.UserName != nil {
				t.Errorf("a block names %q", *it.UserName)
			}
		default:
			if it.UserName == nil || *it.UserName != "anne" {
				t.Errorf("booking %s names %v, want anne", it.ID, it.UserName)
			}
		}
	}
	// The member's own list names them too; the single answer does not.
	var mine struct{ Items []item }
	h.do(req{method: "GET", path: "/v1/reservations", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].UserName == nil || *mine.Items[0].UserName != "anne" {
		t.Fatalf("anne's list = %+v", mine.Items)
	}
	var one item
	h.do(req{method: "GET", path: "/v1/reservations/" + rv.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &one)
	if one.UserName != nil {
		t.Fatalf("a single reservation names %q", *one.UserName)
	}
}

// TestDashboardNamesWhoIsHere: the console's Today says who came in by
// name, not only how many.
func TestDashboardNamesWhoIsHere(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	var rv struct{ ID string }
	f.book(anne, f.desk, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	h.clock.t = time.Date(2026, 3, 3, 9, 5, 0, 0, f.paris)
	anne, _ = h.login("anne@example.fr", password)
	manager, _ := h.login("manon@example.fr", password)
	h.do(req{method: "POST", path: "/v1/reservations/" + rv.ID + "/check-in", token: anne}).expect(t, http.StatusOK)
	var d struct {
		HereNow struct {
			Count  int
			People []struct {
				UserID string `json:"user_id"`
				Name   string
			}
		} `json:"here_now"`
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/dashboard", token: manager}).expect(t, http.StatusOK).decode(t, &d)
	if d.HereNow.Count != 1 || len(d.HereNow.People) != 1 || d.HereNow.People[0].Name != "anne" {
		t.Fatalf("here now = %+v, want anne by name", d.HereNow)
	}
}
