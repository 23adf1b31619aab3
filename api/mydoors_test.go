package api_test

import (
	"net/http"
	"testing"
	"time"
)

type myDoorOut struct {
	ID, Name   string
	SiteID     string  `json:"site_id"`
	SiteName   string  `json:"site_name"`
	ResourceID *string `json:"resource_id"`
	Online     bool
	MayOpen    bool    `json:"may_open"`
	Reason     *string `json:"reason"`
}

func (f *calendarFixture) myDoors(t *testing.T, token string) map[string]myDoorOut {
	t.Helper()
	var out struct{ Items []myDoorOut }
	f.h.do(req{method: "GET", path: "/v1/me/doors", token: token}).expect(t, http.StatusOK).decode(t, &out)
	byName := map[string]myDoorOut{}
	for _, d := range out.Items {
		byName[d.Name] = d
	}
	return byName
}

func reasonOf(d myDoorOut) string {
	if d.Reason == nil {
		return ""
	}
	return *d.Reason
}

// TestMyDoors: the member's list of doors says what an unlock would
// answer, without recording anything; a room's lock shows only during the
// member's booking of it; someone of no site sees none.
func TestMyDoors(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	carolID, carol, _ := h.member("carol@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	f.membership(t, anneID, map[string]any{"door_access": "24_7", "resource_kinds": []string{"room"}})
	f.membership(t, carolID, map[string]any{"door_access": "opening_hours"})
	entrance := f.device(t, map[string]any{"kind": "lock", "name": "Entrée", "protocol": "relais", "address": "entree"})
	f.device(t, map[string]any{"kind": "lock", "name": "Salle", "protocol": "shelly", "address": "shelly-salle", "resource_id": f.room})
	f.device(t, map[string]any{"kind": "relay", "name": "Prise laser", "protocol": "tasmota", "address": "laser", "channel": 1, "resource_id": f.las})
	f.book(anne, f.room, f.at(3, 10, 0), f.at(3, 11, 0)).expect(t, http.StatusCreated)

	// During Anne's booking of the room. No broker runs: every lock is
	// offline.
	h.clock.t = time.Date(2026, 3, 3, 10, 5, 0, 0, f.paris).UTC()
	anne, _ = h.login("anne@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	manager, _ := h.login("manon@example.fr", password)

	doors := f.myDoors(t, anne)
	if len(doors) != 2 {
		t.Fatalf("anne's doors = %+v, want the entrance and the room's lock", doors)
	}
	e := doors["Entrée"]
	if e.ID != entrance.ID || e.SiteID != f.site || e.SiteName != "La Fabrique" || e.ResourceID != nil || e.Online || e.MayOpen || reasonOf(e) != "device_offline" {
		t.Errorf("entrance = %+v", e)
	}
	if r := doors["Salle"]; r.ResourceID == nil || *r.ResourceID != f.room || r.MayOpen || reasonOf(r) != "device_offline" {
		t.Errorf("room lock = %+v", r)
	}
	// Bob belongs to no site; the manager sees every lock of the site.
	if doors := f.myDoors(t, bob); len(doors) != 0 {
		t.Errorf("bob's doors = %+v", doors)
	}
	if doors := f.myDoors(t, manager); len(doors) != 2 {
		t.Errorf("the manager's doors = %+v", doors)
	}

	// After the booking, the room's lock is gone from Anne's list.
	h.clock.t = time.Date(2026, 3, 3, 21, 0, 0, 0, f.paris).UTC()
	anne, _ = h.login("anne@example.fr", password)
	if doors := f.myDoors(t, anne); len(doors) != 1 || doors["Entrée"].ID != entrance.ID {
		t.Errorf("anne's doors after her booking = %+v", doors)
	}
	carol, _ = h.login("carol@example.fr", password)

	// Carol's plan opens in opening hours only: not at 9 pm.
	doors = f.myDoors(t, carol)
	if len(doors) != 1 || reasonOf(doors["Entrée"]) != "outside_door_window" || doors["Entrée"].MayOpen {
		t.Errorf("carol's doors = %+v", doors)
	}
	// Reading the list tried no door: the audit is empty.
	manager, _ = h.login("manon@example.fr", password)
	var evs struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/access-events", token: manager}).expect(t, http.StatusOK).decode(t, &evs)
	if len(evs.Items) != 0 {
		t.Errorf("the list recorded %d access events", len(evs.Items))
	}
	h.do(req{method: "GET", path: "/v1/me/doors"}).expect(t, http.StatusUnauthorized)
}
