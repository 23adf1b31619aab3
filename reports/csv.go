package reports

import (
	"io"
	"strconv"

	"github.com/relais-tierslieux/relais/internal/csvsafe"
)

// WriteCSV writes r in long form, one figure a line, for a spreadsheet's
// pivot table: section, month, site_id, category, commune, insee,
// age_band, indicator, value, then partner, purpose and outcome (the
// appointments' cuts, empty for the rest); separated by ';' with CRLF, as French
// spreadsheets expect, every cell through csvsafe (a commune is typed by
// people). A masked count is "<5".
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csvsafe.NewWriter(w, ';', true)
	value := func(c Count) string {
		if c.Masked {
			return "<" + strconv.Itoa(MinCount)
		}
		return strconv.Itoa(*c.Value)
	}
	rec := func(section, month, site, category, commune, insee, band, indicator string, c Count) {
		_ = cw.Write([]string{section, month, site, category, commune, insee, band, indicator, value(c), "", "", ""})
	}
	_ = cw.Write([]string{"section", "month", "site_id", "category", "commune", "insee", "age_band", "indicator", "value", "partner", "purpose", "outcome"})
	for _, l := range r.Ateliers {
		rec("ateliers", l.Month, l.SiteID, l.Category, "", "", "", "ateliers", plain(l.Ateliers))
		rec("ateliers", l.Month, l.SiteID, l.Category, "", "", "", "sessions", plain(l.Sessions))
		for _, f := range []struct {
			name string
			c    Count
		}{{"registered", l.Registered}, {"present", l.Present},
			{"absent", l.Absent}, {"excused", l.Excused}, {"people", l.People}} {
			rec("ateliers", l.Month, l.SiteID, l.Category, "", "", "", f.name, f.c)
		}
	}
	// --- services-mail ---
	for _, l := range r.Appointments {
		_ = cw.Write([]string{"appointments", l.Month, l.SiteID, "", "", "", "", "appointments", value(l.Count), l.Partner, l.Purpose, l.Outcome})
		_ = cw.Write([]string{"appointments", l.Month, l.SiteID, "", "", "", "", "people", value(l.People), l.Partner, l.Purpose, l.Outcome})
	}
	rec("people", "", "", "", "", "", "", "people", r.People)
	for _, c := range r.ByCommune {
		rec("people_by_commune", "", "", "", c.Key, c.INSEE, "", "people", c.People)
	}
	for _, b := range r.ByAgeBand {
		rec("people_by_age_band", "", "", "", "", "", b.Key, "people", b.People)
	}
	return cw.Flush()
}
