package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
)

// handleCheckIn records that the member has arrived for a booking. It is
// idempotent by nature (a second check-in answers the first), so it needs
// no Idempotency-Key; calendar decides who may and when.
func (s *Server) handleCheckIn(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	res, err := s.Calendar.CheckIn(r.Context(), p, r.PathValue("reservation_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toReservationJSON(res))
}
