package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestContributionsByPeriod: a campaign's contributions and their CSV take
// period, from and to with the shared parser, dates in the campaign's site
// zone (Paris: 00:30 on 2 March is 23:30 UTC on 1 March), and refuse what
// they cannot read with a 400 naming the parameter.
func TestContributionsByPeriod(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	var c struct{ ID string }
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/campaigns", token: f.manager, body: map[string]any{
		"title": "Une imprimante", "goal_cents": 15000, "mode": "keep_it_all",
		"deadline": time.Date(2026, 4, 1, 12, 0, 0, 0, f.paris).Format(time.RFC3339)}}).expect(t, http.StatusCreated).decode(t, &c)
	csvBody := "Référence commande;Date de la commande;Statut de la commande;Nom payeur;Prénom payeur;Email payeur;Montant\n" +
		"H-1;28/02/2026 12:00;Validé;Martin;Anne;anne@example.fr;10,00\n" +
		"H-2;02/03/2026 00:30;Validé;Roux;Zoé;zoe@example.fr;10,00\n" +
		"H-3;15/03/2026 10:00;Validé;Petit;Luc;luc@example.fr;10,00\n"
	h.do(req{method: "POST", path: "/v1/campaigns/" + c.ID + "/imports", token: f.manager, body: csvBody,
		headers: map[string]string{"Content-Type": "text/csv"}}).expect(t, http.StatusCreated)

	base := "/v1/campaigns/" + c.ID + "/contributions"
	cases := []struct {
		name, query string
		want        []string // external ids; nil for a 400
		field       string
	}{
		{"everything", "", []string{"H-1", "H-2", "H-3"}, ""},
		{"a month", "period=2026-03", []string{"H-2", "H-3"}, ""},
		{"a month as from and to", "from=2026-02&to=2026-02", []string{"H-1"}, ""},
		{"a local date includes its night", "from=2026-03-02&to=2026-03-02", []string{"H-2"}, ""},
		{"a date as period", "period=2026-03-01", []string{}, ""},
		{"an instant with an unencoded plus", "from=2026-03-02T00:30:00+01:00&to=2026-03-02T00:31:00+01:00", []string{"H-2"}, ""},
		{"from only", "from=2026-03-10", []string{"H-3"}, ""},
		{"garbage from", "from=yesterday", nil, "from"},
		{"bad month as to", "to=2026-13", nil, "to"},
		{"period with from", "period=2026-03&from=2026-03-02", nil, "period"},
		{"bad period", "period=March", nil, "period"},
		{"to before from", "from=2026-03-05&to=2026-03-01", nil, "to"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{base, base + ".csv"} {
				if tc.query != "" {
					path += "?" + tc.query
				}
				if tc.want == nil {
					p := h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusBadRequest).problem(t)
					if p.Type != "urn:relais:problem:invalid_parameter" || !p.hasField(tc.field) {
						t.Fatalf("%s: problem = %+v, want invalid_parameter naming %s", path, p, tc.field)
					}
					continue
				}
				var got []string
				if strings.Contains(path, ".csv") {
					body := string(h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusOK).Body)
					for _, id := range []string{"H-1", "H-2", "H-3"} {
						if strings.Contains(body, ","+id+",") {
							got = append(got, id)
						}
					}
				} else {
					var page struct {
						Items []struct {
							ExternalID string `json:"external_id"`
						}
					}
					h.do(req{method: "GET", path: path, token: f.manager}).expect(t, http.StatusOK).decode(t, &page)
					for _, k := range page.Items {
						got = append(got, k.ExternalID)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s: contributions %v, want %v", path, got, tc.want)
				}
			}
		})
	}
}
