package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// The observed attack: a booking with end 9999-12-31 was accepted, blocked
// the room forever while availability still showed it free, and charged
// the member some 3 trillion cents of pay-per-use. The end is bounded by
// the horizon now, for members, for managers booking on their behalf and
// for blocks; nothing is booked or charged, and the room stays free.
func TestBookingToTheYear9999OverHTTP(t *testing.T) {
	f := newCalendarFixture(t)
	h := f.h
	h.cal.SetGuard(h.bill)
	anneID, anne, _ := h.member("anne@example.fr")
	// The site open around the clock, the room priced, Anne on a
	// pay-per-use membership: every rule but the bounds would let it through.
	h.do(req{method: "PATCH", path: "/v1/sites/" + f.site, token: f.admin, body: `{"opening_hours": null}`}).expect(t, http.StatusOK)
	h.do(req{method: "PATCH", path: "/v1/resources/" + f.room, token: f.manager, body: map[string]any{"price_per_hour_cents": 2000}}).expect(t, http.StatusOK)
	f.membership(t, anneID, map[string]any{"resource_kinds": []string{"desk"}, "pay_per_use": true})
	forever := "9999-12-31T00:00:00Z"
	day := "?from=" + f.at(3, 0, 0) + "&to=" + f.at(4, 0, 0)
	day = strings.ReplaceAll(day, "+", "%2B")
	var before, after struct {
		Free []struct{ Start, End string }
	}
	h.do(req{method: "GET", path: "/v1/resources/" + f.room + "/availability" + day, token: anne}).expect(t, http.StatusOK).decode(t, &before)

	for _, tt := range []struct {
		name  string
		token string
		body  map[string]any
	}{
		{"a member", anne, map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": forever}},
		{"a manager for a member", f.manager, map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": forever, "user_id": anneID}},
		{"a manager's block", f.manager, map[string]any{"resource_id": f.room, "start": f.at(3, 9, 0), "end": forever, "kind": "block"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := h.do(req{method: "POST", path: "/v1/reservations", token: tt.token, body: tt.body}).expect(t, http.StatusUnprocessableEntity).problem(t)
			if p.Code != "beyond_horizon" || !p.hasField("end") {
				t.Fatalf("problem %+v, want beyond_horizon naming end", p)
			}
		})
	}
	var charges, rvs struct{ Items []any }
	h.do(req{method: "GET", path: "/v1/me/charges", token: anne}).expect(t, http.StatusOK).decode(t, &charges)
	h.do(req{method: "GET", path: "/v1/reservations?resource_id=" + f.room, token: f.manager}).expect(t, http.StatusOK).decode(t, &rvs)
	if len(charges.Items) != 0 || len(rvs.Items) != 0 {
		t.Fatalf("refused bookings left %d charges and %d reservations", len(charges.Items), len(rvs.Items))
	}
	h.do(req{method: "GET", path: "/v1/resources/" + f.room + "/availability" + day, token: anne}).expect(t, http.StatusOK).decode(t, &after)
	if len(after.Free) != 1 || len(before.Free) != 1 || after.Free[0] != before.Free[0] {
		t.Fatalf("the room's day: %+v before, %+v after", before.Free, after.Free)
	}
	// A day of the room is still a booking, and costs a day.
	f.book(anne, f.room, f.at(3, 9, 0), f.at(4, 9, 0)).expect(t, http.StatusCreated)
	f.book(anne, f.room, f.at(5, 9, 0), f.at(6, 9, 30)).expect(t, http.StatusUnprocessableEntity)
	var owed struct {
		Items []struct {
			AmountCents int64 `json:"amount_cents"`
		}
	}
	h.do(req{method: "GET", path: "/v1/me/charges", token: anne}).expect(t, http.StatusOK).decode(t, &owed)
	if len(owed.Items) != 1 || owed.Items[0].AmountCents != 24*2400 {
		t.Fatalf("charges = %+v, want one of 24 h at 24 € TTC", owed)
	}
}
