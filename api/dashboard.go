package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
)

// handleDashboard answers a site's figures over ?from=&to= (local dates
// or months; dashboard decides who may read them and what the period is).
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q := r.URL.Query()
	d, err := s.Dashboard.Read(r.Context(), p, r.PathValue("site_id"), q.Get("from"), q.Get("to"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Who is here, by name: Read let only the site's managers this far.
	ids := make([]string, len(d.HereNow.People))
	for i, person := range d.HereNow.People {
		ids[i] = person.UserID
	}
	names, err := s.Calendar.UserNames(r.Context(), ids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range d.HereNow.People {
		d.HereNow.People[i].Name = names[d.HereNow.People[i].UserID]
	}
	writeJSON(w, http.StatusOK, d)
}
