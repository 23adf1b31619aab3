package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
)

type myDoorJSON struct {
	ID       string  `json:"id"`
	SiteID   string  `json:"site_id"`
	SiteName string  `json:"site_name"`
	Name     string  `json:"name"`
	RoomID   *string `json:"resource_id"`
	Online   bool    `json:"online"`
	MayOpen  bool    `json:"may_open"`
	Reason   *string `json:"reason"`
}

// handleMyDoors lists the doors of the caller's sites, each saying
// whether an unlock now would be granted (the gate's own decision).
func (s *Server) handleMyDoors(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	doors, err := s.Gate.DoorsFor(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[myDoorJSON]{Items: make([]myDoorJSON, len(doors))}
	for i, d := range doors {
		j := myDoorJSON{ID: d.Device.ID, SiteID: d.Device.SiteID, SiteName: d.SiteName, Name: d.Device.Name, RoomID: d.Device.ResourceID,
			Online: d.Device.Online, MayOpen: d.MayOpen}
		if d.Reason != "" {
			j.Reason = &d.Reason
		}
		out.Items[i] = j
	}
	writeJSON(w, http.StatusOK, out)
}
