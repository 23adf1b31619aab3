package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/privacy"
)

// exportJSON is an export of the caller's data as the API shows it.
type exportJSON struct {
	ID        string     `json:"id"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	ReadyAt   *time.Time `json:"ready_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	SizeBytes int64      `json:"size_bytes"`
	// DownloadURL is the path of the ZIP once ready (absolute with
	// --public-url), null before.
	DownloadURL *string `json:"download_url"`
}

const exportDownloadPath = "/v1/me/export/download"

func (s *Server) exportOut(e *privacy.Export) exportJSON {
	out := exportJSON{ID: e.ID, Status: e.Status, CreatedAt: e.CreatedAt, ReadyAt: e.ReadyAt, ExpiresAt: e.ExpiresAt, SizeBytes: e.SizeBytes}
	if e.Status == privacy.ExportReady {
		u := s.PublicURL + exportDownloadPath
		out.DownloadURL = &u
	}
	return out
}

func (s *Server) handleStartExport(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Privacy.StartExport(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.exportOut(e))
}

func (s *Server) handleGetExport(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Privacy.LatestExport(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.exportOut(e))
}

func (s *Server) handleDownloadExport(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, zip, err := s.Privacy.DownloadExport(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	day := e.CreatedAt.Format("2006-01-02")
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="relais-mes-donnees-`+day+`.zip"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(zip)))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(zip)
}

// handleEraseMe erases the caller's account; the body carries their
// password, asked again before an act that cannot be undone.
func (s *Server) handleEraseMe(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := identity.MayActAsMe(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Privacy.EraseMe(r.Context(), p, in.Password, s.clientInfo(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
