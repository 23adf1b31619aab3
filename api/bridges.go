package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
)

// bridgeJSON is a bridge as its site's managers see it: members never do.
type bridgeJSON struct {
	ID             string     `json:"id"`
	SiteID         string     `json:"site_id"`
	Name           string     `json:"name"`
	Protocol       string     `json:"protocol"`
	Address        string     `json:"address"`
	Username       string     `json:"username"`
	Online         bool       `json:"online"`
	LastSeenAt     *time.Time `json:"last_seen_at"`
	LoginProblem   string     `json:"login_problem,omitempty"`
	LoginProblemAt *time.Time `json:"login_problem_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Secret is the bridge's MQTT password, present only in the answer
	// that created or rotated it.
	Secret *string `json:"secret,omitempty"`
}

func toBridgeJSON(b *devices.Bridge) bridgeJSON {
	return bridgeJSON{ID: b.ID, SiteID: b.SiteID, Name: b.Name, Protocol: string(b.Protocol), Address: b.Address,
		Username: b.Username, Online: b.Online, LastSeenAt: b.LastSeenAt, LoginProblem: b.LoginProblem,
		LoginProblemAt: b.LoginProblemAt, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

func (s *Server) handleCreateBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Name      string `json:"name"`
		Protocol  string `json:"protocol"`
		Address   string `json:"address"`
		FullTopic string `json:"full_topic"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	b, secret, err := s.Devices.CreateBridge(r.Context(), p, devices.NewBridge{SiteID: siteID, Name: in.Name,
		Protocol: devices.Protocol(in.Protocol), Address: in.Address, FullTopic: in.FullTopic})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toBridgeJSON(b)
	// The secret is shown once and kept nowhere in clear, not even for an
	// idempotent replay.
	if cw, ok := w.(*captureWriter); ok {
		cw.replayBody, _ = json.Marshal(out)
	}
	out.Secret = &secret
	w.Header().Set("Location", "/v1/bridges/"+b.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListBridges(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	bs, err := s.Devices.ListBridges(r.Context(), p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(bs, toBridgeJSON))
}

func (s *Server) handleGetBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, err := s.Devices.BridgeFor(r.Context(), p, r.PathValue("bridge_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBridgeJSON(b))
}

func (s *Server) handlePatchBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name    *string `json:"name"`
		Address *string `json:"address"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.Devices.UpdateBridge(r.Context(), p, r.PathValue("bridge_id"), devices.BridgePatch{Name: in.Name, Address: in.Address})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBridgeJSON(b))
}

func (s *Server) handleRetireBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Devices.RetireBridge(r.Context(), p, r.PathValue("bridge_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRotateBridgeSecret(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, err := s.Devices.BridgeFor(r.Context(), p, r.PathValue("bridge_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, err := s.Devices.RotateBridgeSecret(r.Context(), p, b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toBridgeJSON(b)
	out.Secret = &secret
	writeJSON(w, http.StatusOK, out)
}
