package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/qr"
)

// writeFeed sends an iCalendar feed, or 304 when the client already has it:
// calendar apps poll feeds every few minutes.
func writeFeed(w http.ResponseWriter, r *http.Request, f *calendar.Feed) {
	w.Header().Set("ETag", f.ETag)
	w.Header().Set("Cache-Control", "private, max-age=0, must-revalidate")
	if !f.LastModified.IsZero() {
		w.Header().Set("Last-Modified", f.LastModified.UTC().Format(http.TimeFormat))
	}
	if match := r.Header.Get("If-None-Match"); match != "" {
		for _, tag := range strings.Split(match, ",") {
			if t := strings.TrimSpace(tag); t == f.ETag || t == "W/"+f.ETag || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(f.Body)
	}
}

// handleUserFeed serves a member's secret feed URL. The token in the path
// is the credential, so calendar apps that cannot send headers subscribe.
func (s *Server) handleUserFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	token, ok := strings.CutSuffix(file, ".ics")
	if !ok || token == "" {
		s.writeError(w, r, &errs.Problem{Kind: errs.ErrNotFound, Code: "feed_not_found", Detail: "no such calendar feed"})
		return
	}
	target, err := s.Calendar.FeedTargetOf(r.Context(), token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var f *calendar.Feed
	if target.SiteID == "" {
		f, err = s.Calendar.UserFeed(r.Context(), target.UserID)
	} else {
		// A manager's feed of a site or resource, opened with the rights
		// its owner has today.
		var owner *identity.Principal
		if owner, err = s.Access.UserPrincipal(r.Context(), target.UserID); err == nil {
			f, err = s.Calendar.ManagerFeed(r.Context(), owner, target)
		} else if errors.Is(err, errs.ErrNotFound) {
			err = &errs.Problem{Kind: errs.ErrNotFound, Code: "feed_not_found", Detail: "no such calendar feed"}
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFeed(w, r, f)
}

func (s *Server) handleRotateFeedToken(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	token, err := s.Calendar.RotateFeedToken(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeFeedURL(w, r, token)
}

// handleRotateSiteFeedToken gives a manager a secret feed URL of the site's
// calendar, for a calendar app that cannot send an Authorization header.
func (s *Server) handleRotateSiteFeedToken(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	token, err := s.Calendar.RotateSiteFeedToken(r.Context(), p, r.PathValue("site_id"), "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeFeedURL(w, r, token)
}

// handleRotateResourceFeedToken is handleRotateSiteFeedToken for one
// resource's calendar.
func (s *Server) handleRotateResourceFeedToken(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	token, err := s.Calendar.RotateSiteFeedToken(r.Context(), p, "", r.PathValue("resource_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeFeedURL(w, r, token)
}

// writeFeedURL answers a new feed token as its URL, path and QR code.
func (s *Server) writeFeedURL(w http.ResponseWriter, r *http.Request, token string) {
	path := "/v1/calendar/" + token + ".ics"
	// The URL is built on the configured public address, never on the
	// request's Host: a client that sends "Host: evil.example" (or a proxy
	// that passes it on) would otherwise have the member subscribe their
	// calendar app to a feed URL that hands the token to evil.example.
	var url, svg any // null when no public address is configured
	if s.PublicURL != "" {
		url = s.PublicURL + path
		// The same URL for a phone to scan: drawn here, since the app may
		// use no QR library, and the secret must not travel in a GET's URL
		// to be drawn elsewhere.
		b, err := qr.SVG(s.PublicURL + path)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("draw the feed URL's QR code: %w", err))
			return
		}
		svg = string(b)
	}
	out := map[string]any{"url": url, "path": path, "qr_svg": svg, "created_at": time.Now().UTC()}
	// The token is stored only hashed, never in the idempotency record: a
	// replay says to rotate again rather than returning it.
	if cw, ok := w.(*captureWriter); ok {
		cw.replayBody, _ = json.Marshal(map[string]any{"url": nil, "path": nil, "qr_svg": nil, "created_at": out["created_at"]})
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleRevokeFeedToken(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Calendar.RevokeFeedTokens(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleSiteFeed(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.Calendar.SiteFeed(r.Context(), p, r.PathValue("site_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFeed(w, r, f)
}

func (s *Server) handleResourceFeed(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f, err := s.Calendar.ResourceFeed(r.Context(), p, r.PathValue("resource_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFeed(w, r, f)
}
