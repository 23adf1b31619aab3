package api_test

import (
	"net/http"
	"net/url"
	"testing"
)

// TestRoutesTakeDatesAndMonths: every listing and export with from/to takes
// a local date, a month (period) and an instant with an unencoded +, and
// answers 400 invalid_parameter naming a value it cannot read.
func TestRoutesTakeDatesAndMonths(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, member, _ := h.member("anne@example.fr")
	routes := []struct {
		path, token string
	}{
		{"/v1/sites/" + f.site + "/closures", f.manager},
		{"/v1/resources/" + f.desk + "/closures", f.manager},
		{"/v1/reservations?site_id=" + f.site, f.manager},
		{"/v1/sites/" + f.site + "/availability", f.manager},
		{"/v1/resources/" + f.desk + "/availability", f.manager},
		{"/v1/sites/" + f.site + "/access-events", f.admin},
		{"/v1/sites/" + f.site + "/access-events.csv", f.admin},
		{"/v1/me/access-events", member},
		{"/v1/sites/" + f.site + "/invoices", f.admin},
		{"/v1/sites/" + f.site + "/invoices.csv", f.admin},
		{"/v1/sites/" + f.site + "/fec", f.admin},
		{"/v1/me/invoices", member},
		{"/v1/me/credits/statement.csv", member},
		{"/v1/me/credits/statement.pdf", member},
		{"/v1/sites/" + f.site + "/calendar.ics", f.manager},
		{"/v1/resources/" + f.desk + "/calendar.ics", f.manager},
	}
	queries := []struct {
		name, query string
		status      int
		field       string
	}{
		{"dates", "from=2026-03-02&to=2026-03-08", http.StatusOK, ""},
		{"month", "period=2026-03", http.StatusOK, ""},
		{"unencoded plus", "from=2026-03-02T00:00:00+01:00&to=2026-03-09T00:00:00+01:00", http.StatusOK, ""},
		{"garbage from", "from=last+week&to=2026-03-08", http.StatusBadRequest, "from"},
		{"garbage to", "from=2026-03-02&to=2026-03-32", http.StatusBadRequest, "to"},
		{"period with from", "period=2026-03&from=2026-03-02", http.StatusBadRequest, "period"},
	}
	for _, r := range routes {
		for _, q := range queries {
			t.Run(r.path+" "+q.name, func(t *testing.T) {
				sep := "?"
				if u, _ := url.Parse(r.path); u.RawQuery != "" {
					sep = "&"
				}
				resp := h.do(req{method: "GET", path: r.path + sep + q.query, token: r.token}).expect(t, q.status)
				if q.field != "" {
					p := resp.problem(t)
					if p.Type != "urn:relais:problem:invalid_parameter" || !p.hasField(q.field) {
						t.Fatalf("problem = %+v, want invalid_parameter naming %s", p, q.field)
					}
				}
			})
		}
	}
}

// TestReservationsByLocalDay: a date as to includes that whole local day;
// as from, it starts at the site's midnight.
func TestReservationsByLocalDay(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, member, _ := f.h.member("anne@example.fr")
	var rv struct{ ID string }
	f.book(member, f.desk, f.at(3, 19, 0), f.at(3, 20, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	for _, c := range []struct {
		query string
		found bool
	}{
		{"from=2026-03-03&to=2026-03-03", true},
		{"period=2026-03", true},
		{"from=2026-03-04", false},
		{"to=2026-03-02", false},
		{"period=2026-04", false},
		{"from=2026-03-03T19:30&to=2026-03-04", true},
	} {
		var list struct{ Items []struct{ ID string } }
		f.h.do(req{method: "GET", path: "/v1/reservations?site_id=" + f.site + "&" + c.query, token: f.manager}).
			expect(t, http.StatusOK).decode(t, &list)
		found := false
		for _, it := range list.Items {
			found = found || it.ID == rv.ID
		}
		if found != c.found {
			t.Errorf("%s: found %v, want %v", c.query, found, c.found)
		}
	}
}
