package api

import (
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

type unlockJSON struct {
	Granted   bool   `json:"granted"`
	Confirmed bool   `json:"confirmed"`
	EventID   string `json:"event_id"`
	CommandID string `json:"command_id,omitempty"`
	LatencyMS *int   `json:"latency_ms,omitempty"`
}

// handleUnlock opens a door. The body is optional; a manager may give the
// reason that the audit records.
func (s *Server) handleUnlock(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if utf8.RuneCountInString(in.Reason) > 500 {
		s.writeError(w, r, errs.Invalid("reason", "must be at most 500 characters"))
		return
	}
	// A door answers on every unlock: its row comes from the command cache.
	d, err := s.Devices.CommandTargetFor(r.Context(), p, r.PathValue("device_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	dec, finish, err := s.Gate.OpenDoor(r.Context(), p, d, in.Reason)
	if err != nil {
		// A refusal or a failed command: the answer's record (if a command
		// went out) is written before the member hears of it.
		if finish != nil {
			if ferr := finish(); ferr != nil {
				err = ferr
			}
		}
		s.writeError(w, r, err)
		return
	}
	out := unlockJSON{Granted: dec.Granted, Confirmed: dec.Confirmed, EventID: dec.Event.ID, LatencyMS: dec.Event.LatencyMS}
	if dec.Event.CommandID != nil {
		out.CommandID = *dec.Event.CommandID
	}
	// The door opened, and its decision was recorded before it did: the
	// member hears it at once, and the lock's answer is written into that
	// record just after (a reader of the audit in between sees it pending).
	writeJSONNow(w, http.StatusOK, out)
	if err := finish(); err != nil {
		s.log.Error("record a door's answer after answering the member", "request_id", requestID(r.Context()), "event_id", dec.Event.ID, "err", err)
	}
}

type sessionJSON struct {
	ID            string     `json:"id"`
	SiteID        string     `json:"site_id"`
	ResourceID    string     `json:"resource_id"`
	DeviceID      string     `json:"device_id"`
	UserID        string     `json:"user_id"`
	ReservationID string     `json:"reservation_id"`
	StartedAt     time.Time  `json:"started_at"`
	EndsAt        time.Time  `json:"ends_at"`
	StoppedAt     *time.Time `json:"stopped_at"`
	StopReason    string     `json:"stop_reason,omitempty"`
	OffConfirmed  bool       `json:"off_confirmed"`
	UsedMinutes   *int       `json:"used_minutes"`
}

func toSessionJSON(s *access.Session) sessionJSON {
	return sessionJSON{ID: s.ID, SiteID: s.SiteID, ResourceID: s.ResourceID, DeviceID: s.DeviceID, UserID: s.UserID,
		ReservationID: s.ReservationID, StartedAt: s.StartedAt, EndsAt: s.EndsAt, StoppedAt: s.StoppedAt,
		StopReason: s.StopReason, OffConfirmed: s.OffConfirmed, UsedMinutes: s.UsedMinutes}
}

func (s *Server) handleStartSession(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	sess, err := s.Gate.StartSessionFor(r.Context(), p, r.PathValue("resource_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toSessionJSON(sess))
}

// handleGetSession shows the machine's session, as much of it as the
// caller may see.
func (s *Server) handleGetSession(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	sess, err := s.Gate.CurrentSessionFor(r.Context(), p, r.PathValue("resource_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSessionJSON(sess))
}

// handleListRunningSessions lists the sessions running on a site's
// machines.
func (s *Server) handleListRunningSessions(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ss, err := s.Gate.RunningSessions(r.Context(), p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]sessionJSON, 0, len(ss))
	for i := range ss {
		items = append(items, toSessionJSON(&ss[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// handleStopSession switches the machine off: its member, or a manager of
// the site.
func (s *Server) handleStopSession(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	sess, err := s.Gate.StopSessionFor(r.Context(), p, r.PathValue("resource_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSessionJSON(sess))
}

type accessEventJSON struct {
	ID            string    `json:"id"`
	SiteID        string    `json:"site_id"`
	OccurredAt    time.Time `json:"occurred_at"`
	Kind          string    `json:"kind"`
	Decision      string    `json:"decision"`
	Reason        string    `json:"reason"`
	Detail        string    `json:"detail"`
	Outcome       string    `json:"outcome"`
	UserID        *string   `json:"user_id"`
	ActorID       *string   `json:"actor_id"`
	ActorName     string    `json:"actor_name,omitempty"`
	DeviceID      *string   `json:"device_id"`
	ResourceID    *string   `json:"resource_id"`
	ReservationID *string   `json:"reservation_id"`
	SessionID     *string   `json:"session_id"`
	CommandID     *string   `json:"command_id"`
	LatencyMS     *int      `json:"latency_ms"`
}

func toAccessEventJSON(e *access.Event) accessEventJSON {
	return accessEventJSON{ID: e.ID, SiteID: e.SiteID, OccurredAt: e.OccurredAt, Kind: e.Kind, Decision: e.Decision,
		Reason: e.Reason, Detail: e.Detail, Outcome: e.Outcome, UserID: e.UserID, ActorID: e.ActorID, ActorName: e.ActorName, DeviceID: e.DeviceID,
		ResourceID: e.ResourceID, ReservationID: e.ReservationID, SessionID: e.SessionID, CommandID: e.CommandID, LatencyMS: e.LatencyMS}
}

// eventFilter reads ?member=&device=&from=&to= and the page.
func (s *Server) eventFilter(w http.ResponseWriter, r *http.Request) (access.EventFilter, bool) {
	var f access.EventFilter
	var err error
	if f.After, f.Limit, err = page(r); err == nil {
		f.From, f.To, err = s.window(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return f, false
	}
	q := r.URL.Query()
	f.UserID, f.DeviceID = q.Get("member"), q.Get("device")
	return f, true
}

func (s *Server) handleListAccessEvents(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if err := access.MayAudit(p, siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, ok := s.eventFilter(w, r)
	if !ok {
		return
	}
	f.SiteID = siteID
	s.writeEvents(w, r, f)
}

func (s *Server) handleMyAccessEvents(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := access.MayReadOwnEvents(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	f, ok := s.eventFilter(w, r)
	if !ok {
		return
	}
	f.UserID = p.UserID
	s.writeEvents(w, r, f)
}

func (s *Server) writeEvents(w http.ResponseWriter, r *http.Request, f access.EventFilter) {
	evs, next, err := s.Gate.ListEvents(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(evs, toAccessEventJSON)
	out.NextCursor = cursor(next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleExportAccessEvents(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if err := access.MayAudit(p, siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	var f access.EventFilter
	var err error
	if f.From, f.To, err = s.window(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f.SiteID, f.UserID, f.DeviceID = siteID, q.Get("member"), q.Get("device")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="access-events.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Gate.WriteEventsCSV(r.Context(), w, f); err != nil {
		// Headers are gone; the truncated file and the log tell.
		s.log.ErrorContext(r.Context(), "access events export failed", "error", err)
	}
}
