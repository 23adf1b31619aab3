package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// deviceJSON is a device as the API shows it. Members see what their app
// needs (which door, is it online); the MQTT identity is for managers.
type deviceJSON struct {
	ID         string     `json:"id"`
	SiteID     string     `json:"site_id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	ResourceID *string    `json:"resource_id"`
	Online     bool       `json:"online"`
	LastSeenAt *time.Time `json:"last_seen_at"`
	Protocol   string     `json:"protocol,omitempty"`
	Address    string     `json:"address,omitempty"`
	Channel    *int       `json:"channel,omitempty"`
	BridgeID   *string    `json:"bridge_id,omitempty"`
	Username   string     `json:"username,omitempty"`
	// Topics are where relais commands it and hears it: what an installer
	// checks on the device's side.
	Topics         *devices.Topics `json:"topics,omitempty"`
	LoginProblem   string          `json:"login_problem,omitempty"`
	LoginProblemAt *time.Time      `json:"login_problem_at,omitempty"`
	PulseSeconds   *int            `json:"pulse_seconds,omitempty"`
	CreatedAt      *time.Time      `json:"created_at,omitempty"`
	UpdatedAt      *time.Time      `json:"updated_at,omitempty"`
	// Secret is the device's MQTT password, present only in the answer that
	// created or rotated it.
	Secret *string `json:"secret,omitempty"`
}

func toDeviceJSON(d *devices.Device, manager bool) deviceJSON {
	out := deviceJSON{ID: d.ID, SiteID: d.SiteID, Kind: string(d.Kind), Name: d.Name, ResourceID: d.ResourceID,
		Online: d.Online, LastSeenAt: d.LastSeenAt}
	if manager {
		out.Protocol, out.Address, out.Channel, out.BridgeID = string(d.Protocol), d.Address, &d.Channel, d.BridgeID
		topics := devices.TopicsOf(d)
		out.Topics, out.LoginProblem, out.LoginProblemAt = &topics, d.LoginProblem, d.LoginProblemAt
		if d.BridgeID == nil {
			// Behind a bridge, the bridge logs in: the device's own
			// username is never used.
			out.Username = d.Username
		}
		out.PulseSeconds, out.CreatedAt, out.UpdatedAt = &d.PulseSeconds, &d.CreatedAt, &d.UpdatedAt
	}
	return out
}

var errDeviceNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "device_not_found", Detail: "no such device"}

// canManageDevices: the site's managers and admins, and API keys of the site
// with sites:write.
func canManageDevices(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeSitesWrite)
}

func canReadDevices(p *identity.Principal, siteID string) bool {
	if p.IsAPIKey() {
		return p.ManagesSite(siteID) && p.HasScope(identity.ScopeDevicesRead)
	}
	return true
}

// deviceFor loads a device the principal may read, or answers 404.
func (s *Server) deviceFor(w http.ResponseWriter, r *http.Request, p *identity.Principal) (*devices.Device, bool) {
	return s.deviceVia(w, r, p, s.Devices.Get)
}

// deviceVia is deviceFor reading the device through get.
func (s *Server) deviceVia(w http.ResponseWriter, r *http.Request, p *identity.Principal,
	get func(context.Context, string) (*devices.Device, error)) (*devices.Device, bool) {
	d, err := get(r.Context(), r.PathValue("device_id"))
	if err != nil {
		s.writeError(w, r, err)
		return nil, false
	}
	if !canReadDevices(p, d.SiteID) {
		s.writeError(w, r, errDeviceNotFound)
		return nil, false
	}
	return d, true
}

func (s *Server) handleCreateDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Kind         string  `json:"kind"`
		Name         string  `json:"name"`
		ResourceID   *string `json:"resource_id"`
		BridgeID     *string `json:"bridge_id"`
		Protocol     string  `json:"protocol"`
		Address      string  `json:"address"`
		Channel      int     `json:"channel"`
		PulseSeconds int     `json:"pulse_seconds"`
		FullTopic    string  `json:"full_topic"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !canManageDevices(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	if _, err := s.Calendar.GetSite(r.Context(), siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, secret, err := s.Devices.Create(r.Context(), devices.NewDevice{SiteID: siteID, Kind: devices.Kind(in.Kind), Name: in.Name,
		ResourceID: in.ResourceID, BridgeID: in.BridgeID, Protocol: devices.Protocol(in.Protocol), Address: in.Address,
		Channel: in.Channel, PulseSeconds: in.PulseSeconds, FullTopic: in.FullTopic})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toDeviceJSON(d, true)
	// The secret is shown once and kept nowhere in clear, not even for an
	// idempotent replay. A device behind a bridge has none.
	if cw, ok := w.(*captureWriter); ok {
		cw.replayBody, _ = json.Marshal(out)
	}
	if secret != "" {
		out.Secret = &secret
	}
	w.Header().Set("Location", "/v1/devices/"+d.ID)
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleListDevices(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if !canReadDevices(p, siteID) {
		s.writeError(w, r, errSiteNotFound)
		return
	}
	if _, err := s.Calendar.GetSite(r.Context(), siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.Devices.List(r.Context(), siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	manager := p.ManagesSite(siteID)
	writeJSON(w, http.StatusOK, listOf(ds, func(d *devices.Device) deviceJSON { return toDeviceJSON(d, manager) }))
}

func (s *Server) handleGetDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, ok := s.deviceFor(w, r, p)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, toDeviceJSON(d, p.ManagesSite(d.SiteID)))
}

func (s *Server) handlePatchDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name         *string `json:"name"`
		Address      *string `json:"address"`
		Channel      *int    `json:"channel"`
		PulseSeconds *int    `json:"pulse_seconds"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	d, ok := s.deviceFor(w, r, p)
	if !ok {
		return
	}
	if !canManageDevices(p, d.SiteID) {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	d, err := s.Devices.Update(r.Context(), d.ID, devices.DevicePatch{Name: in.Name, Address: in.Address, Channel: in.Channel, PulseSeconds: in.PulseSeconds})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toDeviceJSON(d, true))
}

func (s *Server) handleRetireDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, ok := s.deviceFor(w, r, p)
	if !ok {
		return
	}
	if !canManageDevices(p, d.SiteID) {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	if err := s.Devices.Retire(r.Context(), d.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRotateDeviceSecret(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, ok := s.deviceFor(w, r, p)
	if !ok {
		return
	}
	if !canManageDevices(p, d.SiteID) {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	secret, err := s.Devices.RotateSecret(r.Context(), d.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toDeviceJSON(d, true)
	out.Secret = &secret
	writeJSON(w, http.StatusOK, out)
}
