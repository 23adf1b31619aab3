package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
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
	d, secret, err := s.Devices.Create(r.Context(), p, devices.NewDevice{SiteID: siteID, Kind: devices.Kind(in.Kind), Name: in.Name,
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
	ds, err := s.Devices.ListFor(r.Context(), p, siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	manager := devices.SeesSetup(p, siteID)
	writeJSON(w, http.StatusOK, listOf(ds, func(d *devices.Device) deviceJSON { return toDeviceJSON(d, manager) }))
}

func (s *Server) handleGetDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, err := s.Devices.DeviceFor(r.Context(), p, r.PathValue("device_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toDeviceJSON(d, devices.SeesSetup(p, d.SiteID)))
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
	d, err := s.Devices.Update(r.Context(), p, r.PathValue("device_id"), devices.DevicePatch{Name: in.Name, Address: in.Address, Channel: in.Channel, PulseSeconds: in.PulseSeconds})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toDeviceJSON(d, true))
}

func (s *Server) handleRetireDevice(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Devices.Retire(r.Context(), p, r.PathValue("device_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleRotateDeviceSecret(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	d, err := s.Devices.DeviceFor(r.Context(), p, r.PathValue("device_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	secret, err := s.Devices.RotateSecret(r.Context(), p, d.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := toDeviceJSON(d, true)
	out.Secret = &secret
	writeJSON(w, http.StatusOK, out)
}
