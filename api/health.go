package api

import (
	"context"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// handleHealthz says the process is up; it touches nothing else, so a load
// balancer never restarts a replica because the database is slow.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz says whether this replica can serve: database reachable and
// schema migrated.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			writeProblem(w, r, newProblem(http.StatusServiceUnavailable, "not_ready", errs.Verbatim(err.Error())))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
