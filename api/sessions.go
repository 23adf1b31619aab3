package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
)

type loginSessionJSON struct {
	ID         string    `json:"id"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	Current    bool      `json:"current"`
}

func (s *Server) handleMySessions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := identity.MayActAsMe(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pg, err := s.Access.ListSessions(r.Context(), p, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[loginSessionJSON]{Items: make([]loginSessionJSON, len(pg.Items)), NextCursor: cursor(pg.NextCursor)}
	for i, x := range pg.Items {
		out.Items[i] = loginSessionJSON{ID: x.ID, UserAgent: x.UserAgent, IP: x.IP, CreatedAt: x.CreatedAt, LastUsedAt: x.LastUsedAt, Current: x.Current}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleEndMySession(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.EndSession(r.Context(), p, r.PathValue("session_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleEndMyOtherSessions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.EndOtherSessions(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
