package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

type apiKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	SiteIDs    []string   `json:"site_ids"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	// Secret is present only in the response that creates the key.
	Secret *string `json:"secret,omitempty"`
}

func toAPIKeyJSON(k *identity.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, SiteIDs: k.SiteIDs,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt}
}

func (s *Server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		SiteIDs []string `json:"site_ids"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v errs.Validator
	for i, siteID := range in.SiteIDs {
		if _, err := s.Calendar.GetSite(r.Context(), siteID); errors.Is(err, errs.ErrNotFound) {
			v.Add(fmt.Sprintf("site_ids[%d]", i), "no such site")
		} else if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if err := v.Err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, secret, err := s.Access.CreateAPIKey(r.Context(), p, identity.NewAPIKey{Name: in.Name, Scopes: in.Scopes, SiteIDs: in.SiteIDs})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toAPIKeyJSON(k)
	// The secret is never stored in clear, not even in the idempotency
	// record: a replay returns the key without it.
	if cw, ok := w.(*captureWriter); ok {
		cw.replayBody, _ = json.Marshal(out)
	}
	out.Secret = &secret
	w.Header().Set("Location", "/v1/api-keys/"+k.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListAPIKeys(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	keys, err := s.Access.ListAPIKeys(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(keys, toAPIKeyJSON))
}

func (s *Server) handleGetAPIKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	k, err := s.Access.GetAPIKey(r.Context(), p, r.PathValue("key_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPIKeyJSON(k))
}

func (s *Server) handleRevokeAPIKey(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.RevokeAPIKey(r.Context(), p, r.PathValue("key_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
