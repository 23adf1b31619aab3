package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The observed attack: a booking with end 9999-12-31 was accepted, blocked
// the room forever while availability still showed it free, and charged
// the member some 3 trillion cents of pay-per-use. The end is bounded by
// the horizon now, for members, for managers booking on their behalf and
// for blocks; nothing is booked or charged, and the room stays free.
func TestBookingToTheYear9999OverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	// The site open around the clock, the room priced, Anne on a
	// pay-per-use membership: every rule but the bounds would let it through.
	h.do(req{method: "PATCH", path: "/v1/sites/" + f.site, token: f.admin, body: `{"opening_hours": null}`}).expect(t, http.StatusOK)
	h.do(req{method: "PATCH", path: "/v1/resources/" + f.room, token: f.manager, body: map[string]any{"price_per_hour_cents": 2400}}).expect(t, http.StatusOK) // TTC
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

// set returns a deep copy of body with the member at path (a.b[2].c) set
// to v.
func set(t *testing.T, body map[string]any, path string, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	var cur any = out
	parts := strings.Split(path, ".")
	for i, part := range parts {
		name, index := part, -1
		if j := strings.IndexByte(part, '['); j >= 0 {
			name = part[:j]
			index, _ = strconv.Atoi(strings.TrimSuffix(part[j+1:], "]"))
		}
		m := cur.(map[string]any)
		last := i == len(parts)-1
		switch {
		case index >= 0:
			list := m[name].([]any)
			if last {
				list[index] = v
			}
			cur = list[index]
		case last:
			m[name] = v
		default:
			if m[name] == nil {
				m[name] = map[string]any{}
			}
			cur = m[name]
		}
	}
	return out
}

// Every number the API takes is bounded, and out of range (2^62, -1, just
// past the bound, past int64) it is a 422 naming the field, and nothing
// changes. 2^62 minutes of notice used to overflow into no notice at all.
func TestNumericInputsAreBounded(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	h.do(req{method: "POST", path: "/v1/users/" + anneID + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 1000, "reason": "bénévolat"}}).expect(t, http.StatusCreated)
	f.membership(t, anneID, map[string]any{"resource_kinds": []string{"desk", "zone"}})
	var pays struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/me/payments", token: anne}).expect(t, http.StatusOK).decode(t, &pays)
	var rv, campaign struct{ ID string }
	h.do(req{method: "POST", path: "/v1/reservations", token: anne, body: map[string]any{"resource_id": f.zone, "start": f.at(3, 9, 0), "end": f.at(3, 10, 0)}}).
		expect(t, http.StatusCreated).decode(t, &rv)
	newCampaign := map[string]any{"title": "Une découpeuse laser", "goal_cents": 15000, "mode": "all_or_nothing",
		"starts_at": f.at(10, 9, 0), "deadline": time.Date(2026, 4, 1, 12, 0, 0, 0, f.paris).Format(time.RFC3339),
		"tiers": []map[string]any{{"name": "Laser", "min_cents": 10000, "credit_unit": "minutes", "credit_amount": 600, "resource_kind": "machine", "expires_after_days": 365}}}
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/campaigns", token: f.manager, body: newCampaign}).expect(t, http.StatusCreated).decode(t, &campaign)
	newDevice := map[string]any{"kind": "lock", "name": "Entrée", "protocol": "tasmota", "address": "entree", "channel": 1, "pulse_seconds": 5}
	lock := f.device(t, newDevice)
	var plan struct{ ID string }
	newPlan := map[string]any{"site_id": f.site, "kind": "membership", "name": "Résident", "price_cents": 30000,
		"includes": map[string]any{"resource_kinds": []string{"desk"}, "allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 600}},
			"quotas": map[string]any{"max_concurrent_reservations": 5, "max_minutes_per_day": 600, "max_minutes_per_week": 2400, "horizon_days": 30}}}
	h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: newPlan}).expect(t, http.StatusCreated).decode(t, &plan)
	newPack := map[string]any{"site_id": f.site, "kind": "pack", "name": "10 h", "price_cents": 10000,
		"includes": map[string]any{"pack_resource_kind": "room", "pack_minutes": 600, "pack_valid_days": 365}}

	const huge = int64(1) << 62
	newResource := map[string]any{"kind": "room", "name": "Salle Curie", "capacity": 6,
		"rules": map[string]any{"slot_minutes": 30, "min_minutes": 60, "max_minutes": 240, "horizon_days": 60, "min_notice_minutes": 60,
			"cancel_deadline_minutes": 1440, "buffer_after_minutes": 15, "late_cancel_refund_percent": 50}}
	type route struct {
		method, path, token string
		body                map[string]any
		probe, probeToken   string // a GET whose answer must not change
	}
	resources := route{"POST", "/v1/sites/" + f.site + "/resources", f.manager, newResource, "/v1/sites/" + f.site + "/resources", f.manager}
	patchRoom := route{"PATCH", "/v1/resources/" + f.room, f.manager, map[string]any{"rules": newResource["rules"], "capacity": 8}, "/v1/resources/" + f.room, f.manager}
	plans := route{"POST", "/v1/plans", f.manager, newPlan, "/v1/plans?include_inactive=true&site_id=" + f.site, f.manager}
	packs := route{"POST", "/v1/plans", f.manager, newPack, "/v1/plans?include_inactive=true&site_id=" + f.site, f.manager}
	book := route{"POST", "/v1/reservations", anne, map[string]any{"resource_id": f.zone, "start": f.at(4, 9, 0), "end": f.at(4, 10, 0), "seats": 1},
		"/v1/reservations?resource_id=" + f.zone, f.manager}
	move := route{"PATCH", "/v1/reservations/" + rv.ID, anne, map[string]any{"seats": 2}, "/v1/reservations/" + rv.ID, anne}
	series := route{"POST", "/v1/reservations/series", anne, map[string]any{"resource_id": f.zone, "start": f.at(5, 9, 0), "end": f.at(5, 10, 0),
		"rrule": "FREQ=DAILY;COUNT=2", "seats": 1}, "/v1/reservations?resource_id=" + f.zone, f.manager}
	waitlist := route{"POST", "/v1/waitlist", anne, map[string]any{"resource_id": f.zone, "start": f.at(3, 9, 0), "end": f.at(3, 10, 0), "seats": 1},
		"/v1/waitlist", anne}
	payment := route{"POST", "/v1/sites/" + f.site + "/payments", f.manager, map[string]any{"user_id": anneID, "plan_id": plan.ID, "method": "cash",
		"amount_cents": 30000, "buyer": buyerBody}, "/v1/sites/" + f.site + "/invoices", f.manager}
	refund := route{"POST", "/v1/payments/" + pays.Items[0].ID + "/refund", f.manager, map[string]any{"amount_cents": 100, "reason": "x"}, "/v1/me/payments", anne}
	gift := route{"POST", "/v1/me/credits/gifts", anne, map[string]any{"to_email": "manon@example.fr", "unit": "cents", "amount": 100}, "/v1/me/credits", anne}
	grant := route{"POST", "/v1/users/" + anneID + "/credits", f.manager, map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 100, "reason": "x"},
		"/v1/me/credits", anne}
	withdraw := route{"POST", "/v1/users/" + anneID + "/credits", f.manager, map[string]any{"site_id": f.site, "action": "withdraw", "unit": "cents", "amount": 100, "reason": "x"},
		"/v1/me/credits", anne}
	campaigns := route{"POST", "/v1/sites/" + f.site + "/campaigns", f.manager, newCampaign, "/v1/sites/" + f.site + "/campaigns", f.manager}
	patchCampaign := route{"PATCH", "/v1/campaigns/" + campaign.ID, f.manager, map[string]any{"goal_cents": 20000}, "/v1/campaigns/" + campaign.ID, f.manager}
	devices := route{"POST", "/v1/sites/" + f.site + "/devices", f.manager, set(t, newDevice, "address", "porte"), "/v1/sites/" + f.site + "/devices", f.manager}
	patchDevice := route{"PATCH", "/v1/devices/" + lock.ID, f.manager, map[string]any{"pulse_seconds": 3}, "/v1/devices/" + lock.ID, f.manager}

	tests := []struct {
		route route
		field string
		value any
	}{
		{resources, "rules.min_notice_minutes", huge},
		{resources, "rules.min_notice_minutes", -1},
		{resources, "rules.min_notice_minutes", 90*24*60 + 1},
		{resources, "rules.cancel_deadline_minutes", huge},
		{resources, "rules.cancel_deadline_minutes", -1},
		{resources, "rules.min_minutes", huge},
		{resources, "rules.max_minutes", huge},
		{resources, "rules.max_minutes", 31*24*60 + 30},
		{resources, "rules.max_minutes", -30},
		{resources, "rules.slot_minutes", huge},
		{resources, "rules.horizon_days", huge},
		{resources, "rules.horizon_days", 731},
		{resources, "rules.buffer_after_minutes", huge},
		{resources, "rules.late_cancel_refund_percent", 101},
		{resources, "capacity", huge},
		{resources, "price_per_hour_cents", huge},
		{resources, "price_per_hour_cents", -1},
		{resources, "price_per_hour_cents", 1e19}, // past int64: a wrong type
		{patchRoom, "rules.min_notice_minutes", huge},
		{patchRoom, "rules.cancel_deadline_minutes", huge},
		{patchRoom, "rules.max_minutes", huge},
		{patchRoom, "capacity", -1},
		{plans, "price_cents", huge},
		{plans, "vat_rate_bp", huge},
		{plans, "includes.quotas.max_concurrent_reservations", huge},
		{plans, "includes.quotas.max_concurrent_reservations", -1},
		{plans, "includes.quotas.max_minutes_per_day", huge},
		{plans, "includes.quotas.max_minutes_per_week", huge},
		{plans, "includes.quotas.horizon_days", huge},
		{plans, "includes.quotas.horizon_days", 731},
		{plans, "includes.allowances[0].minutes_per_period", huge},
		{packs, "includes.pack_minutes", huge},
		{packs, "includes.pack_valid_days", huge},
		{book, "seats", huge},
		{book, "seats", -1},
		{move, "seats", huge},
		{series, "seats", huge},
		{waitlist, "seats", huge},
		{payment, "amount_cents", huge},
		{refund, "amount_cents", huge},
		{refund, "amount_cents", -1},
		{gift, "amount", huge},
		{grant, "amount", huge},
		{withdraw, "amount", huge},
		{campaigns, "goal_cents", huge},
		{campaigns, "vat_rate_bp", huge},
		{campaigns, "tiers[0].min_cents", huge},
		{campaigns, "tiers[0].credit_amount", huge},
		{campaigns, "tiers[0].expires_after_days", huge},
		{patchCampaign, "goal_cents", huge},
		{devices, "channel", huge},
		{devices, "pulse_seconds", huge},
		{patchDevice, "pulse_seconds", huge},
		{patchDevice, "channel", -1},
	}
	for _, tt := range tests {
		rt := tt.route
		t.Run(rt.method+" "+rt.path+" "+tt.field+"="+strconv.FormatFloat(toFloat(tt.value), 'g', -1, 64), func(t *testing.T) {
			before := h.do(req{method: "GET", path: rt.probe, token: rt.probeToken}).expect(t, http.StatusOK).Body
			p := h.do(req{method: rt.method, path: rt.path, token: rt.token, body: set(t, rt.body, tt.field, tt.value)}).
				expect(t, http.StatusUnprocessableEntity).problem(t)
			if !p.hasField(tt.field) {
				t.Fatalf("problem %+v does not name %s", p, tt.field)
			}
			if after := h.do(req{method: "GET", path: rt.probe, token: rt.probeToken}).expect(t, http.StatusOK).Body; !bytes.Equal(before, after) {
				t.Fatalf("a refused request changed %s:\n%s\n%s", rt.probe, before, after)
			}
		})
	}
	// The same routes take the valid bodies the cases start from.
	for _, rt := range []route{resources, patchRoom, packs, book, series, gift, grant, withdraw, campaigns, patchCampaign, devices, patchDevice} {
		if st := h.do(req{method: rt.method, path: rt.path, token: rt.token, body: rt.body}).Status; st >= 300 {
			t.Errorf("%s %s with its valid body: %d", rt.method, rt.path, st)
		}
	}
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}
