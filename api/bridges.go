package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
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

var errBridgeNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "bridge_not_found", Detail: "no such bridge"}

// canReadBridges: the site's managers and admins, and API keys of the site
// that may read devices. A bridge is infrastructure: members see the doors
// behind it, not it.
func canReadBridges(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && (!p.IsAPIKey() || p.HasScope(identity.ScopeDevicesRead))
}

// bridgeFor loads a bridge the principal may read, or answers 404.
func (s *Server) bridgeFor(w http.ResponseWriter, r *http.Request, p *identity.Principal) (*devices.Bridge, bool) {
	b, err := s.Devices.GetBridge(r.Context(), r.PathValue("bridge_id"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if !canReadBridges(p, b.SiteID) {
		s.writeError(w, r, errBridgeNotFound)
		return nil, false
	}
	return b, true
}

// bridgeToManage loads a bridge the principal may change: 404 when it may
// not read it, 403 when it may read but not change it.
func (s *Server) bridgeToManage(w http.ResponseWriter, r *http.Request, p *identity.Principal) (*devices.Bridge, bool) {
	b, ok := s.bridgeFor(w, r, p)
	if ok && !canManageDevices(p, b.SiteID) {
		s.writeError(w, r, errs.ErrForbidden)
		return nil, false
	}
	return b, ok
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
	if !canManageDevices(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	b, secret, err := s.Devices.CreateBridge(r.Context(), devices.NewBridge{SiteID: siteID, Name: in.Name,
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
	siteID := r.PathValue("site_id")
	if !canReadBridges(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	if _, err := s.Calendar.GetSite(r.Context(), siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	bs, err := s.Devices.ListBridges(r.Context(), siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(bs, toBridgeJSON))
}

func (s *Server) handleGetBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, ok := s.bridgeFor(w, r, p)
	if !ok {
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
	b, ok := s.bridgeToManage(w, r, p)
	if !ok {
		return
	}
	b, err := s.Devices.UpdateBridge(r.Context(), b.ID, devices.BridgePatch{Name: in.Name, Address: in.Address})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBridgeJSON(b))
}

func (s *Server) handleRetireBridge(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, ok := s.bridgeToManage(w, r, p)
	if !ok {
		return
	}
	if err := s.Devices.RetireBridge(r.Context(), b.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRotateBridgeSecret(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, ok := s.bridgeToManage(w, r, p)
	if !ok {
		return
	}
	secret, err := s.Devices.RotateBridgeSecret(r.Context(), b.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toBridgeJSON(b)
	out.Secret = &secret
	writeJSON(w, http.StatusOK, out)
}
