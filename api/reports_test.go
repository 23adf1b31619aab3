package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

type reportOut struct {
	SiteIDs  []string `json:"site_ids"`
	MinCount int      `json:"min_count"`
	Ateliers []struct {
		Month      string
		SiteID     string `json:"site_id"`
		Category   string
		Ateliers   int
		Sessions   int
		Registered *int
		Present    *int
		Absent     *int
		Excused    *int
		RateBP     *int `json:"attendance_rate_bp"`
		People     *int
	}
	People    *int
	ByCommune []struct {
		Commune string
		INSEE   string
		People  *int
	} `json:"people_by_commune"`
	ByAgeBand []struct {
		AgeBand string `json:"age_band"`
		People  *int
	} `json:"people_by_age_band"`
}

// The funders' figures of a month: recomputed here from what the test
// itself registered and marked, with counts of 1 to 4 people masked, in
// JSON and CSV; a manager of another site reads none of it.
func TestServicesReport(t *testing.T) {
	t.Parallel()
	f := newPeopleFixture(t)
	h := f.h
	a := f.newAtelier(t, map[string]any{"seats": 20, "resource_ids": []string{}},
		[2]string{"2026-03-03T14:00", "2026-03-03T16:00"}, [2]string{"2026-03-10T14:00", "2026-03-10T16:00"})
	// Seven residents of Guéret aged 70 and over, two of Ajaccio in their
	// sixties, and Anne, a member who is no guest.
	type person struct{ id, commune, band string }
	var people []person
	for i := range 9 {
		commune, insee, band := "Guéret", "23096", "70_plus"
		if i >= 7 {
			commune, insee, band = "Ajaccio", "2A004", "60_69"
		}
		var g guestOut
		h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager, body: map[string]any{"name": fmt.Sprintf("Résident %d", i),
			"commune": map[string]any{"name": commune, "insee": insee}, "age_band": band}}).expect(t, http.StatusCreated).decode(t, &g)
		people = append(people, person{g.ID, commune, band})
	}
	anneID, anne, _ := h.member("anne@example.fr")
	people = append(people, person{anneID, "non renseignée", "unknown"})
	regs := map[string][]string{} // person → registration per session
	for _, p := range people[:9] {
		for _, r := range f.register(t, f.manager, a.ID, map[string]any{"guest_id": p.id}, http.StatusCreated).Items {
			regs[p.id] = append(regs[p.id], r.ID)
		}
	}
	for _, r := range f.register(t, anne, a.ID, map[string]any{}, http.StatusCreated).Items {
		regs[anneID] = append(regs[anneID], r.ID)
	}
	// After both sessions: at the first everyone came but resident 0 (absent)
	// and resident 1 (excused); at the second only residents 2 to 5 came.
	h.clock.Advance(9*24*time.Hour + 10*time.Hour) // 11 March
	manager, _ := h.login("manon@example.fr", password)
	mark := func(reg, attendance string) {
		h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + reg, token: manager, body: map[string]any{"attendance": attendance}}).expect(t, http.StatusOK)
	}
	present1, present2 := 0, 0
	served := map[string]bool{}
	for i, p := range people {
		switch i {
		case 0:
			mark(regs[p.id][0], "absent")
		case 1:
			mark(regs[p.id][0], "excused")
		default:
			mark(regs[p.id][0], "present")
			present1++
			served[p.id] = true
		}
		if i >= 2 && i <= 5 {
			mark(regs[p.id][1], "present")
			present2++
		}
	}
	byCommune, byBand := map[string]int{}, map[string]int{}
	for _, p := range people {
		if served[p.id] {
			byCommune[p.commune]++
			byBand[p.band]++
		}
	}

	var rep reportOut
	h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03", token: manager}).expect(t, http.StatusOK).decode(t, &rep)
	if len(rep.Ateliers) != 1 {
		t.Fatalf("lines: %+v", rep.Ateliers)
	}
	l := rep.Ateliers[0]
	if l.Month != "2026-03" || l.Category != "Initiation numérique" || l.Ateliers != 1 || l.Sessions != 2 ||
		*l.Registered != 2*len(people) || *l.Present != present1+present2 || l.Absent != nil || l.Excused != nil ||
		l.RateBP != nil || *l.People != len(served) {
		t.Fatalf("line = %+v (want %d present, %d people, absent and excused masked, so no rate)", l, present1+present2, len(served))
	}
	if rep.People == nil || *rep.People != len(served) || rep.MinCount != 5 {
		t.Fatalf("people = %v", rep.People)
	}
	got := map[string]*int{}
	for _, c := range rep.ByCommune {
		got[c.Commune] = c.People
	}
	// Guéret: 5 served (2 to 6) shows; Ajaccio: 2 and Anne's « non
	// renseignée »: 1 are masked.
	if got["Guéret"] == nil || *got["Guéret"] != byCommune["Guéret"] || got["Ajaccio"] != nil || got["non renseignée"] != nil || len(got) != 3 {
		t.Fatalf("by commune = %+v, want Guéret %d and the others masked", rep.ByCommune, byCommune["Guéret"])
	}
	for _, b := range rep.ByAgeBand {
		want := byBand[b.AgeBand]
		if (want >= 5) != (b.People != nil) || (b.People != nil && *b.People != want) {
			t.Errorf("age band %s: %v, want %d", b.AgeBand, b.People, want)
		}
	}

	// The CSV says the same, masked as "<5".
	r := h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03&format=csv", token: manager}).expect(t, http.StatusOK)
	cr := csv.NewReader(strings.NewReader(string(r.Body)))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, r.Body)
	}
	values := map[string]string{}
	for _, row := range rows[1:] {
		values[row[0]+"/"+row[4]+"/"+row[6]+"/"+row[7]] = row[8]
	}
	if values["ateliers///present"] != fmt.Sprint(present1+present2) || values["ateliers///absent"] != "<5" ||
		values["people_by_commune/Guéret//people"] != fmt.Sprint(byCommune["Guéret"]) || values["people_by_commune/Ajaccio//people"] != "<5" {
		t.Fatalf("csv values: %v", values)
	}

	// Another site's manager: not this site, and nothing of it in theirs.
	olga, _ := h.login("olga@example.fr", password)
	anne, _ = h.login("anne@example.fr", password)
	h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03&site_id=" + f.site, token: olga}).expect(t, http.StatusForbidden)
	var hers reportOut
	h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03", token: olga}).expect(t, http.StatusOK).decode(t, &hers)
	if len(hers.Ateliers) != 0 || hers.People == nil || *hers.People != 0 {
		t.Fatalf("olga's report = %+v", hers)
	}
	h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03", token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "GET", path: "/v1/reports/services?from=2026-01-01&to=2027-12-31", token: manager}).expect(t, http.StatusUnprocessableEntity)
}
