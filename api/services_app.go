package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
)

// --- services-app ---
// What the apps' pages of the ateliers and appointments need besides the
// services' own routes: the public agenda's site, and the partners an
// agent acts for.

type agendaSiteJSON struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	Timezone string           `json:"timezone"`
	Address  calendar.Address `json:"address"`
}

func toAgendaSiteJSON(s *calendar.Site) agendaSiteJSON {
	return agendaSiteJSON{ID: s.ID, Name: s.Name, Timezone: s.Timezone, Address: s.Address}
}

// handleMyAgencies lists the partners the caller is an agent of.
func (s *Server) handleMyAgencies(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	pts, err := s.Appointments.MyAgencies(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(pts, toPartnerJSON))
}
