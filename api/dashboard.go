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
	writeJSON(w, http.StatusOK, d)
}
