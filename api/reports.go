package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/reports"
)

// The funders' figures (package reports decides who may).

type countJSON = *int

type atelierLineJSON struct {
	Month            string    `json:"month"`
	SiteID           string    `json:"site_id"`
	CategoryID       string    `json:"category_id"`
	Category         string    `json:"category"`
	Ateliers         int       `json:"ateliers"`
	Sessions         int       `json:"sessions"`
	Registered       countJSON `json:"registered"`
	Present          countJSON `json:"present"`
	Absent           countJSON `json:"absent"`
	Excused          countJSON `json:"excused"`
	AttendanceRateBP *int      `json:"attendance_rate_bp"`
	People           countJSON `json:"people"`
}

type servedJSON struct {
	Commune *string   `json:"commune,omitempty"`
	INSEE   *string   `json:"insee,omitempty"`
	AgeBand *string   `json:"age_band,omitempty"`
	People  countJSON `json:"people"`
}

func (s *Server) handleServicesReport(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "format", "format must be json or csv"))
		return
	}
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.Services(r.Context(), p, q.Get("site_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="relais-services-`+from.Format("2006-01-02")+`.csv"`)
		if err := rep.WriteCSV(w); err != nil {
			s.log.ErrorContext(r.Context(), "write report", "error", err)
		}
		return
	}
	out := struct {
		From     time.Time         `json:"from"`
		To       time.Time         `json:"to"`
		SiteIDs  []string          `json:"site_ids"`
		MinCount int               `json:"min_count"`
		Ateliers []atelierLineJSON `json:"ateliers"`
		// --- services-mail ---
		Appointments []appointmentLineJSON `json:"appointments"`
		People       countJSON             `json:"people"`
		ByCommune    []servedJSON          `json:"people_by_commune"`
		ByAgeBand    []servedJSON          `json:"people_by_age_band"`
	}{From: rep.From, To: rep.To, SiteIDs: rep.SiteIDs, MinCount: reports.MinCount, People: rep.People.Value,
		Ateliers: []atelierLineJSON{}, Appointments: []appointmentLineJSON{}, ByCommune: []servedJSON{}, ByAgeBand: []servedJSON{}}
	for _, l := range rep.Ateliers {
		out.Ateliers = append(out.Ateliers, atelierLineJSON{Month: l.Month, SiteID: l.SiteID, CategoryID: l.CategoryID, Category: l.Category,
			Ateliers: l.Ateliers, Sessions: l.Sessions, Registered: l.Registered.Value, Present: l.Present.Value,
			Absent: l.Absent.Value, Excused: l.Excused.Value, AttendanceRateBP: l.AttendanceBP, People: l.People.Value})
	}
	for _, l := range rep.Appointments {
		out.Appointments = append(out.Appointments, appointmentLineJSON{Month: l.Month, SiteID: l.SiteID, PartnerID: l.PartnerID, Partner: l.Partner,
			Purpose: l.Purpose, Outcome: l.Outcome, Appointments: l.Count.Value, People: l.People.Value})
	}
	for _, c := range rep.ByCommune {
		name := c.Key
		out.ByCommune = append(out.ByCommune, servedJSON{Commune: &name, INSEE: nilIfEmpty(c.INSEE), People: c.People.Value})
	}
	for _, b := range rep.ByAgeBand {
		band := b.Key
		out.ByAgeBand = append(out.ByAgeBand, servedJSON{AgeBand: &band, People: b.People.Value})
	}
	writeJSON(w, http.StatusOK, out)
}

// --- services-mail ---

type appointmentLineJSON struct {
	Month        string    `json:"month"`
	SiteID       string    `json:"site_id"`
	PartnerID    string    `json:"partner_id"`
	Partner      string    `json:"partner"`
	Purpose      string    `json:"purpose"`
	Outcome      string    `json:"outcome"`
	Appointments countJSON `json:"appointments"`
	People       countJSON `json:"people"`
}
