package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/access"
)


// routes is the one route table. openapi.yaml describes exactly these
// routes; TestOpenAPIMatchesRoutes keeps the two in step.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealthz)
	m.HandleFunc("GET /readyz", s.handleReadyz)
	m.Handle("GET /metrics", s.handleMetrics())

	m.HandleFunc("POST /v1/auth/register", s.idempotent(s.handleRegister))
	m.HandleFunc("POST /v1/auth/login", s.handleLogin)
	m.HandleFunc("POST /v1/auth/refresh", s.handleRefresh)
	m.HandleFunc("POST /v1/auth/logout", s.requireAuth(s.handleLogout))

	m.HandleFunc("GET /v1/me", s.requireAuth(s.handleGetMe))
	m.HandleFunc("PATCH /v1/me", s.requireAuth(s.handlePatchMe))

	m.HandleFunc("GET /v1/users", s.requireAuth(s.handleListUsers))
	m.HandleFunc("GET /v1/users/{user_id}", s.requireAuth(s.handleGetUser))
	m.HandleFunc("PATCH /v1/users/{user_id}", s.requireAuth(s.handlePatchUser))
	m.HandleFunc("DELETE /v1/users/{user_id}", s.requireAuth(s.handleDeleteUser))

	m.HandleFunc("POST /v1/api-keys", s.requireAuth(s.idempotentAuthed(s.handleCreateAPIKey)))
	m.HandleFunc("GET /v1/api-keys", s.requireAuth(s.handleListAPIKeys))
	m.HandleFunc("DELETE /v1/api-keys/{key_id}", s.requireAuth(s.handleRevokeAPIKey))

	m.HandleFunc("POST /v1/sites", s.requireAuth(s.idempotentAuthed(s.handleCreateSite)))
	m.HandleFunc("GET /v1/sites", s.requireAuth(s.handleListSites))
	m.HandleFunc("GET /v1/sites/{site_id}", s.requireAuth(s.handleGetSite))
	m.HandleFunc("PATCH /v1/sites/{site_id}", s.requireAuth(s.handlePatchSite))
	m.HandleFunc("GET /v1/sites/{site_id}/managers", s.requireAuth(s.handleListManagers))
	m.HandleFunc("POST /v1/sites/{site_id}/managers", s.requireAuth(s.idempotentAuthed(s.handleAddManager)))
	m.HandleFunc("DELETE /v1/sites/{site_id}/managers/{user_id}", s.requireAuth(s.handleRemoveManager))
	m.HandleFunc("GET /v1/sites/{site_id}/closures", s.requireAuth(s.handleListClosures))
	m.HandleFunc("POST /v1/sites/{site_id}/closures", s.requireAuth(s.idempotentAuthed(s.handleCreateClosure)))
	m.HandleFunc("DELETE /v1/sites/{site_id}/closures/{closure_id}", s.requireAuth(s.handleDeleteClosure))
}

// idempotentAuthed is idempotent for handlers that need a principal.
func (s *Server) idempotentAuthed(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *access.Principal) {
		s.idempotent(func(w http.ResponseWriter, r *http.Request) { h(w, r, p) })(w, r)
	}
}
