package api

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// The cash journal of a legal entity (art. 286 I-3° bis CGI): closings,
// signed archives, the technical events journal. Who may is the closings
// package's decision (Service.EntityFor).

func (s *Server) entity(w http.ResponseWriter, r *http.Request, p *identity.Principal) *closings.Entity {
	e, err := s.Closings.EntityFor(r.Context(), p, r.PathValue("siren"))
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	return e
}

// entityWindow reads period, from and to with the shared parser
// (period.go), dates in the entity's zone: the zone its closings cut days
// in, so that from=2026-12-05 starts where the closing of that day does.
// An entity whose zone cannot be read falls back to defaultZone.
func entityWindow(r *http.Request, e *closings.Entity) (time.Time, time.Time, error) {
	var loc *time.Location
	zone := func() *time.Location {
		if loc == nil {
			var err error
			if loc, err = e.Zone(r.Context()); err != nil {
				loc = defaultZone
			}
		}
		return loc
	}
	q := r.URL.Query()
	return parseWindow(q.Get("period"), q.Get("from"), q.Get("to"), zone)
}

type closeRequest struct {
	Period string `json:"period"`
}

func (s *Server) handleCreateClosing(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e := s.entity(w, r, p)
	if e == nil {
		return
	}
	var req closeRequest
	if err := decode(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := e.Close(r.Context(), req.Period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/entities/"+e.SIREN()+"/closings/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
}

func (s *Server) handleListClosings(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e := s.entity(w, r, p)
	if e == nil {
		return
	}
	from, to, err := entityWindow(r, e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := e.List(r.Context(), closings.ListFilter{Kind: r.URL.Query().Get("kind"), From: from, To: to})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[closings.Closing]{Items: items})
}

func (s *Server) handleGetClosing(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e := s.entity(w, r, p)
	if e == nil {
		return
	}
	c, err := e.Get(r.Context(), r.PathValue("closing_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleArchive(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e := s.entity(w, r, p)
	if e == nil {
		return
	}
	period := r.PathValue("period")
	archive, err := e.OpenArchive(r.Context(), period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="archive-`+e.SIREN()+"-"+period+`.zip"`)
	cw := &countingWriter{w: w}
	if err := archive.Write(r.Context(), cw); err != nil {
		if cw.n == 0 {
			s.writeError(w, r, err)
			return
		}
		// Half a ZIP has gone out with a 200: break the connection so that
		// the client sees a failed download, not a short file.
		s.log.ErrorContext(r.Context(), "archive stream", slog.String("request_id", requestID(r.Context())), slog.Any("error", err))
		panic(http.ErrAbortHandler)
	}
}

// countingWriter counts what reached the client.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (s *Server) handleArchivePublicKey(w http.ResponseWriter, r *http.Request) {
	pem, err := s.Closings.PublicKeyPEM(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(pem)
}

func (s *Server) handleJournal(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e := s.entity(w, r, p)
	if e == nil {
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	from, to, err := entityWindow(r, e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, err := e.Journal(r.Context(), from, to, after, limit+1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if items == nil {
		items = []journal.Entry{} // an empty page is [], not null
	}
	out := list[journal.Entry]{Items: items}
	if len(items) > limit {
		out.Items = items[:limit]
		out.NextCursor = cursor(items[limit-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}
