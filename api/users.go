package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
)

// meJSON is the caller's own account: a user, with what only its owner
// sees (the sites they manage, their profile).
type meJSON struct {
	userJSON
	Language string `json:"language"`
}

func toMeJSON(u *identity.User, p *identity.Principal) meJSON {
	out := meJSON{userJSON: toUserJSON(u), Language: u.Language}
	out.ManagedSiteIDs = p.ManagedSites
	return out
}

func (s *Server) handleGetMe(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	u, err := s.Access.Me(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMeJSON(u, p))
}

func (s *Server) handlePatchMe(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := identity.MayActAsMe(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Name            *string `json:"name"`
		CurrentPassword *string `json:"current_password"`
		NewPassword     *string `json:"new_password"`
		Language        *string `json:"language"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Access.UpdateMe(r.Context(), p, identity.MeUpdate{Name: in.Name, CurrentPassword: in.CurrentPassword, NewPassword: in.NewPassword, Language: in.Language}, s.clientInfo(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMeJSON(u, p))
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pg, err := s.Access.ListUsers(r.Context(), p, after, limit, r.URL.Query().Get("email"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[userJSON]{Items: make([]userJSON, len(pg.Items)), NextCursor: cursor(pg.NextCursor)}
	for i := range pg.Items {
		out.Items[i] = toUserJSON(&pg.Items[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	u, err := s.Access.GetUser(r.Context(), p, r.PathValue("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name     *string `json:"name"`
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Access.UpdateUser(r.Context(), p, r.PathValue("user_id"), identity.UserUpdate{Name: in.Name, Role: in.Role, Disabled: in.Disabled})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.DeleteUser(r.Context(), p, r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
