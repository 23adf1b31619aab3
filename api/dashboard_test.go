package api_test

import (
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"
)

type dashboardDoc struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Occupancy []struct {
		Day         string   `json:"day"`
		Kind        string   `json:"kind"`
		BookedHours float64  `json:"booked_hours"`
		OpenHours   float64  `json:"open_hours"`
		Rate        *float64 `json:"rate"`
	} `json:"occupancy"`
	HereNow struct {
		Count  int `json:"count"`
		People []struct {
			UserID string `json:"user_id"`
		} `json:"people"`
	} `json:"here_now"`
	Today struct {
		Date     string `json:"date"`
		Arrivals int    `json:"arrivals"`
		Bookings int    `json:"bookings"`
	} `json:"today"`
	Bookings    int `json:"bookings"`
	NoShows     int `json:"no_shows"`
	WaitingOpen int `json:"waiting_list_entries_open"`
}

type listedReservation struct {
	ID          string     `json:"id"`
	ResourceID  string     `json:"resource_id"`
	Status      string     `json:"status"`
	Kind        string     `json:"kind"`
	Seats       int        `json:"seats"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	CheckedInAt *time.Time `json:"checked_in_at"`
}

// TestDashboard: a site in Paris over 28–30 March 2026 (the clocks go
// forward on the 29th), with a site closure and a desk's closure. Each
// figure is computed again here, from the reservations list and from the
// fixture's hours, and compared; check-in through the API; who may read.
func TestDashboard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	at := func(day, hour, minute int) string {
		return time.Date(2026, 3, day, hour, minute, 0, 0, paris).Format(time.RFC3339)
	}
	h.clock.t = time.Date(2026, 3, 27, 12, 0, 0, 0, paris)
	_, admin := h.admin()
	body := siteBody("Le Tiers")
	week := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = [][]string{{"08:00", "20:00"}}
	}
	body["opening_hours"] = week
	var site struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites", token: admin, body: body}).expect(t, http.StatusCreated).decode(t, &site)
	other := h.site(admin, "Ailleurs")
	mgrID, mgr, _ := h.member("gestion@example.fr")
	otherMgrID, otherMgr, _ := h.member("ailleurs@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + site.ID + "/managers", token: admin, body: map[string]string{"user_id": mgrID}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/sites/" + other + "/managers", token: admin, body: map[string]string{"user_id": otherMgrID}}).expect(t, http.StatusCreated)
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	resource := func(kind, name string, capacity int, hours any) string {
		b := map[string]any{"kind": kind, "name": name, "capacity": capacity}
		if hours != nil {
			b["opening_hours"] = hours
		}
		var r struct{ ID string }
		h.do(req{method: "POST", path: "/v1/sites/" + site.ID + "/resources", token: mgr, body: b}).expect(t, http.StatusCreated).decode(t, &r)
		return r.ID
	}
	allDay := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allDay[d] = [][]string{{"00:00", "24:00"}}
	}
	d1, d2 := resource("desk", "Bureau 1", 1, nil), resource("desk", "Bureau 2", 1, nil)
	zone := resource("zone", "Plateau", 10, allDay)
	h.do(req{method: "POST", path: "/v1/sites/" + site.ID + "/closures", token: mgr,
		body: map[string]any{"starts_at": at(28, 14, 0), "ends_at": at(28, 16, 0), "reason": "assemblée"}}).expect(t, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/resources/" + d2 + "/closures", token: mgr,
		body: map[string]any{"starts_at": at(30, 8, 0), "ends_at": at(30, 10, 0), "reason": "ménage"}}).expect(t, http.StatusCreated)
	book := func(token, res string, seats int, start, end string) string {
		var r struct{ ID string }
		h.do(req{method: "POST", path: "/v1/reservations", token: token,
			body: map[string]any{"resource_id": res, "seats": seats, "start": start, "end": end}}).expect(t, http.StatusCreated).decode(t, &r)
		return r.ID
	}
	book(anne, d1, 1, at(28, 9, 0), at(28, 12, 0))
	book(bob, d2, 1, at(29, 10, 0), at(29, 11, 30))
	book(anne, zone, 3, at(29, 1, 0), at(29, 4, 0)) // two real hours: 02:00–03:00 does not exist
	book(bob, zone, 2, at(30, 9, 0), at(30, 10, 0))
	now := book(anne, d1, 1, at(30, 9, 0), at(30, 11, 0))
	cancelled := book(bob, d2, 1, at(30, 10, 30), at(30, 12, 0))
	h.do(req{method: "DELETE", path: "/v1/reservations/" + cancelled, token: bob}).expect(t, http.StatusOK)
	book(anne, d1, 1, at(31, 9, 0), at(31, 10, 0))
	h.do(req{method: "POST", path: "/v1/waitlist", token: bob,
		body: map[string]any{"resource_id": d1, "start": at(31, 9, 0), "end": at(31, 10, 0)}}).expect(t, http.StatusCreated)

	// Check-in: not by another member; by anne, twice the same. Days
	// later: everyone logs in again.
	h.clock.t = time.Date(2026, 3, 30, 8, 50, 0, 0, paris)
	anne, _ = h.login("anne@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	h.do(req{method: "POST", path: "/v1/reservations/" + now + "/check-in", token: bob}).expect(t, http.StatusNotFound)
	var first, again listedReservation
	h.do(req{method: "POST", path: "/v1/reservations/" + now + "/check-in", token: anne}).expect(t, http.StatusOK).decode(t, &first)
	h.clock.t = time.Date(2026, 3, 30, 10, 5, 0, 0, paris)
	anne, _ = h.login("anne@example.fr", password)
	h.do(req{method: "POST", path: "/v1/reservations/" + now + "/check-in", token: anne}).expect(t, http.StatusOK).decode(t, &again)
	mgr, _ = h.login("gestion@example.fr", password)
	otherMgr, _ = h.login("ailleurs@example.fr", password)
	admin, _ = h.login("admin@relais.test", password)
	if first.CheckedInAt == nil || !again.CheckedInAt.Equal(*first.CheckedInAt) {
		t.Fatalf("check-ins at %v then %v; want one, kept", first.CheckedInAt, again.CheckedInAt)
	}

	var got dashboardDoc
	h.do(req{method: "GET", path: "/v1/sites/" + site.ID + "/dashboard?from=2026-03-28&to=2026-03-30", token: mgr}).
		expect(t, http.StatusOK).decode(t, &got)

	// Occupancy: open hours from the fixture's hours, booked hours from
	// the list of reservations.
	wantOpen := map[string]float64{
		"2026-03-28/desk": 2 * (12 - 2), "2026-03-29/desk": 2 * 12, "2026-03-30/desk": 2*12 - 2,
		"2026-03-28/zone": 10 * (24 - 2), "2026-03-29/zone": 10 * 23, "2026-03-30/zone": 10 * 24,
	}
	list := h.siteReservations(t, mgr, site.ID, "2026-03-27T00:00:00Z", "2026-04-02T00:00:00Z")
	kinds := map[string]string{d1: "desk", d2: "desk", zone: "zone"}
	wantBooked := map[string]float64{}
	wantBookings, wantNoShows := 0, 0
	from, to := time.Date(2026, 3, 28, 0, 0, 0, 0, paris), time.Date(2026, 3, 31, 0, 0, 0, 0, paris)
	for _, r := range list {
		if r.Status != "confirmed" || r.Kind != "booking" {
			continue
		}
		for day := from; day.Before(to); day = day.AddDate(0, 0, 1) {
			s, e := maxT(r.Start, day), minT(r.End, day.AddDate(0, 0, 1))
			if e.After(s) {
				wantBooked[day.Format(time.DateOnly)+"/"+kinds[r.ResourceID]] += e.Sub(s).Hours() * float64(r.Seats)
			}
		}
		if !r.Start.Before(from) && r.Start.Before(to) {
			wantBookings++
		}
		if r.CheckedInAt == nil && !r.End.After(h.clock.Now()) && !r.End.Before(from) && r.End.Before(to) {
			wantNoShows++
		}
	}
	if wantBooked["2026-03-29/zone"] != 6 {
		t.Fatalf("the recomputation itself: zone on the 29th %v seat-hours, want 3 seats × 2 h", wantBooked["2026-03-29/zone"])
	}
	if len(got.Occupancy) != len(wantOpen) {
		t.Fatalf("occupancy rows %+v, want %d", got.Occupancy, len(wantOpen))
	}
	for _, o := range got.Occupancy {
		k := o.Day + "/" + o.Kind
		if o.OpenHours != wantOpen[k] || o.BookedHours != wantBooked[k] || o.Rate == nil || math.Abs(*o.Rate-wantBooked[k]/wantOpen[k]) > 1e-9 {
			t.Errorf("%s: booked %v / open %v (rate %v), want %v / %v", k, o.BookedHours, o.OpenHours, o.Rate, wantBooked[k], wantOpen[k])
		}
	}
	if got.Bookings != wantBookings || got.NoShows != wantNoShows || wantNoShows != 4 {
		t.Errorf("bookings %d, no-shows %d; recomputed %d, %d (want 4 no-shows)", got.Bookings, got.NoShows, wantBookings, wantNoShows)
	}
	if got.Today.Date != "2026-03-30" || got.Today.Bookings != 2 || got.Today.Arrivals != 1 || got.HereNow.Count != 1 {
		t.Errorf("today %+v, here now %+v; want 2 bookings, anne arrived and here", got.Today, got.HereNow)
	}
	if got.WaitingOpen != 1 {
		t.Errorf("open waiting-list entries %d, want bob's", got.WaitingOpen)
	}

	// Who may read it.
	for _, c := range []struct {
		who    string
		token  string
		status int
	}{{"admin", admin, http.StatusOK}, {"another site's manager", otherMgr, http.StatusForbidden}, {"a member", anne, http.StatusForbidden}} {
		if r := h.do(req{method: "GET", path: "/v1/sites/" + site.ID + "/dashboard", token: c.token}); r.Status != c.status {
			t.Errorf("%s: %d, want %d", c.who, r.Status, c.status)
		}
	}
	for _, q := range []string{"from=2026-03-30&to=2026-03-28", "from=2025-01-01&to=2026-03-30", "from=tomorrow"} {
		h.do(req{method: "GET", path: "/v1/sites/" + site.ID + "/dashboard?" + q, token: mgr}).expect(t, http.StatusUnprocessableEntity)
	}
}

// siteReservations lists every reservation of a site overlapping
// [from, to), page after page, as a manager.
func (h *harness) siteReservations(t *testing.T, token, siteID, from, to string) []listedReservation {
	t.Helper()
	var out []listedReservation
	cursor := ""
	for {
		var page struct {
			Items      []listedReservation `json:"items"`
			NextCursor string              `json:"next_cursor"`
		}
		path := fmt.Sprintf("/v1/reservations?site_id=%s&from=%s&to=%s&limit=200", siteID, from, to)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		h.do(req{method: "GET", path: path, token: token}).expect(t, http.StatusOK).decode(t, &page)
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cursor = page.NextCursor
	}
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TestDashboardMoneyAndMembers: revenue per month and kind, net of a
// refund's credit note, recomputed from the site's invoices list; members
// from their memberships; devices offline from the devices list.
func TestDashboardMoneyAndMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	h.clock.t = time.Date(2026, 3, 10, 10, 0, 0, 0, paris)
	_, admin := h.admin()
	site := h.site(admin, "Le Tiers")
	mgrID, mgr, _ := h.member("gestion@example.fr")
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/managers", token: admin, body: map[string]string{"user_id": mgrID}}).expect(t, http.StatusCreated)
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	plan := func(kind string, cents int64) string {
		var p struct{ ID string }
		h.do(req{method: "POST", path: "/v1/plans", token: mgr, body: map[string]any{"site_id": site, "kind": kind, "name": kind, "price_cents": cents}}).
			expect(t, http.StatusCreated).decode(t, &p)
		return p.ID
	}
	pass, membership := plan("day_pass", 2500), plan("membership", 30000)
	type paid struct {
		Payment struct {
			ID        string  `json:"id"`
			InvoiceID *string `json:"invoice_id"`
		} `json:"payment"`
	}
	var annePaid, bobPaid paid
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/payments", token: mgr,
		body: map[string]any{"user_id": anneID, "plan_id": pass, "date": "2026-03-10", "method": "cash", "amount_cents": 2500, "buyer": buyerBody}}).
		expect(t, http.StatusCreated).decode(t, &annePaid)
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/payments", token: mgr,
		body: map[string]any{"user_id": bobID, "plan_id": membership, "method": "cheque", "amount_cents": 30000, "buyer": buyerBody}}).
		expect(t, http.StatusCreated).decode(t, &bobPaid)
	h.do(req{method: "POST", path: "/v1/payments/" + annePaid.Payment.ID + "/refund", token: mgr, body: map[string]any{"amount_cents": 1000, "reason": "Journée écourtée"}}).
		expect(t, http.StatusOK)
	h.do(req{method: "POST", path: "/v1/sites/" + site + "/devices", token: mgr,
		body: map[string]any{"kind": "lock", "name": "Entrée", "protocol": "tasmota", "address": "entree", "channel": 1, "pulse_seconds": 5}}).
		expect(t, http.StatusCreated)

	var got struct {
		Revenue []struct {
			Month    string `json:"month"`
			Kind     string `json:"kind"`
			HTCents  int64  `json:"ht_cents"`
			TTCCents int64  `json:"ttc_cents"`
		} `json:"revenue"`
		Members        struct{ Active, New int } `json:"members"`
		DevicesOffline []struct{ ID string }     `json:"devices_offline"`
	}
	h.do(req{method: "GET", path: "/v1/sites/" + site + "/dashboard?from=2026-03", token: mgr}).expect(t, http.StatusOK).decode(t, &got)

	// Revenue again, from the invoices list: each document under what its
	// payment sold (a credit note under the invoice it corrects).
	var invs struct {
		Items []struct {
			ID             string    `json:"id"`
			Number         string    `json:"number"`
			IssuedAt       time.Time `json:"issued_at"`
			CorrectsNumber string    `json:"corrects_number"`
			TotalHTCents   int64     `json:"total_ht_cents"`
			TotalTTCCents  int64     `json:"total_ttc_cents"`
		} `json:"items"`
	}
	h.do(req{method: "GET", path: "/v1/sites/" + site + "/invoices", token: mgr}).expect(t, http.StatusOK).decode(t, &invs)
	kindOf := map[string]string{*annePaid.Payment.InvoiceID: "day_pass", *bobPaid.Payment.InvoiceID: "membership"}
	numbers := map[string]string{}
	for _, in := range invs.Items {
		numbers[in.Number] = in.ID
	}
	want := map[string][2]int64{}
	for _, in := range invs.Items {
		of := in.ID
		if in.CorrectsNumber != "" {
			of = numbers[in.CorrectsNumber]
		}
		k := in.IssuedAt.In(paris).Format("2006-01") + "/" + kindOf[of]
		want[k] = [2]int64{want[k][0] + in.TotalHTCents, want[k][1] + in.TotalTTCCents}
	}
	if len(invs.Items) != 3 || want["2026-03/day_pass"][1] != 1500 {
		t.Fatalf("the recomputation itself: %d documents, day passes %v TTC; want 3, 15,00 €", len(invs.Items), want["2026-03/day_pass"])
	}
	if len(got.Revenue) != len(want) {
		t.Fatalf("revenue %+v, want %v", got.Revenue, want)
	}
	for _, r := range got.Revenue {
		if w := want[r.Month+"/"+r.Kind]; r.HTCents != w[0] || r.TTCCents != w[1] {
			t.Errorf("%s %s: %d HT, %d TTC; want %v", r.Month, r.Kind, r.HTCents, r.TTCCents, w)
		}
	}

	// Members: those whose memberships say active; all of them new.
	active := 0
	for _, tok := range []string{anne, bob} {
		var mine struct {
			Memberships []struct{ Status string } `json:"memberships"`
		}
		h.do(req{method: "GET", path: "/v1/me/memberships", token: tok}).expect(t, http.StatusOK).decode(t, &mine)
		for _, m := range mine.Memberships {
			if m.Status == "active" {
				active++
			}
		}
	}
	if active != 1 || got.Members.Active != active || got.Members.New != active {
		t.Errorf("members %+v; recomputed %d active, new", got.Members, active)
	}
	var devs struct {
		Items []struct {
			ID     string
			Online bool
		}
	}
	h.do(req{method: "GET", path: "/v1/sites/" + site + "/devices", token: mgr}).expect(t, http.StatusOK).decode(t, &devs)
	offline := 0
	for _, d := range devs.Items {
		if !d.Online {
			offline++
		}
	}
	if offline != 1 || len(got.DevicesOffline) != offline {
		t.Errorf("devices offline %+v; recomputed %d", got.DevicesOffline, offline)
	}
}
