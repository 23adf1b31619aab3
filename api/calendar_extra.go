package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

type seriesJSON struct {
	ID              string    `json:"id"`
	ResourceID      string    `json:"resource_id"`
	UserID          string    `json:"user_id"`
	RRule           string    `json:"rrule"`
	FirstStart      time.Time `json:"first_start"`
	DurationMinutes int64     `json:"duration_minutes"`
	Timezone        string    `json:"timezone"`
	CreatedAt       time.Time `json:"created_at"`
}

func toSeriesJSON(s *calendar.Series) seriesJSON {
	return seriesJSON{ID: s.ID, ResourceID: s.ResourceID, UserID: s.UserID, RRule: s.RRule, FirstStart: s.FirstStart,
		DurationMinutes: s.DurationSeconds / 60, Timezone: s.Timezone, CreatedAt: s.CreatedAt}
}

func toReservationsJSON(rs []*calendar.Reservation) []reservationJSON {
	out := make([]reservationJSON, len(rs))
	for i, r := range rs {
		out[i] = toReservationJSON(r)
	}
	return out
}

func (s *Server) handleCreateSeries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	in, err := decodeSeries(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Calendar.BookSeries(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	skipped := out.Skipped
	if skipped == nil {
		skipped = []calendar.Unavailable{}
	}
	w.Header().Set("Location", "/v1/reservations/series/"+out.Series.ID)
	writeJSON(w, http.StatusCreated, map[string]any{"series": toSeriesJSON(out.Series), "created": toReservationsJSON(out.Created), "skipped": skipped})
}

func (s *Server) handleGetSeries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	series, occ, err := s.Calendar.GetSeries(r.Context(), p, r.PathValue("series_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]reservationJSON, len(occ))
	for i := range occ {
		items[i] = toReservationJSON(&occ[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"series": toSeriesJSON(series), "occurrences": items})
}

// handleCancelSeries cancels every future occurrence, or with ?from= this
// one and the following.
func (s *Server) handleCancelSeries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, err := queryTime(r, "from")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reason := r.URL.Query().Get("reason")
	if len(reason) > 500 {
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "reason", "reason must be at most 500 bytes"))
		return
	}
	cancelled, err := s.Calendar.CancelSeries(r.Context(), p, r.PathValue("series_id"), from, reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cancelled": toReservationsJSON(cancelled)})
}

// handleMoveSeries moves future occurrences (or from ?from= on) to new
// local times of day, all or nothing.
func (s *Server) handleMoveSeries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		From      *timestamp `json:"from"`
		StartTime string     `json:"start_time"`
		EndTime   string     `json:"end_time"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var from time.Time
	if in.From != nil {
		from = in.From.Time
	}
	moved, err := s.Calendar.MoveSeries(r.Context(), p, r.PathValue("series_id"), from, in.StartTime, in.EndTime)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"moved": toReservationsJSON(moved)})
}

type waitlistJSON struct {
	ID             string     `json:"id"`
	ResourceID     string     `json:"resource_id"`
	UserID         string     `json:"user_id"`
	Start          time.Time  `json:"start"`
	End            time.Time  `json:"end"`
	Seats          int        `json:"seats"`
	AutoBook       bool       `json:"auto_book"`
	Status         string     `json:"status"`
	ReservationID  *string    `json:"reservation_id"`
	OfferExpiresAt *time.Time `json:"offer_expires_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

func toWaitlistJSON(e *calendar.WaitlistEntry) waitlistJSON {
	return waitlistJSON{ID: e.ID, ResourceID: e.ResourceID, UserID: e.UserID, Start: e.StartsAt, End: e.EndsAt, Seats: e.Seats,
		AutoBook: e.AutoBook, Status: e.Status, ReservationID: e.ReservationID, OfferExpiresAt: e.OfferExpiresAt, CreatedAt: e.CreatedAt}
}

func (s *Server) handleJoinWaitlist(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		ResourceID string `json:"resource_id"`
		Start      string `json:"start"`
		End        string `json:"end"`
		Seats      int    `json:"seats"`
		AutoBook   bool   `json:"auto_book"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Calendar.JoinWaitlist(r.Context(), calendar.Booking{By: p, ResourceID: in.ResourceID,
		Start: in.Start, End: in.End, Seats: in.Seats}, in.AutoBook)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/waitlist/"+e.ID)
	writeJSON(w, http.StatusCreated, toWaitlistJSON(e))
}

func (s *Server) handleListWaitlist(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	es, err := s.Calendar.ListWaitlist(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(es, toWaitlistJSON))
}

func (s *Server) handleGetWaitlistEntry(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Calendar.GetWaitlistEntry(r.Context(), p, r.PathValue("entry_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWaitlistJSON(e))
}

func (s *Server) handleLeaveWaitlist(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	e, err := s.Calendar.LeaveWaitlist(r.Context(), p, r.PathValue("entry_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWaitlistJSON(e))
}

func (s *Server) handleAcceptOffer(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	rv, err := s.Calendar.AcceptOffer(r.Context(), p, r.PathValue("entry_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/reservations/"+rv.ID)
	writeJSON(w, http.StatusCreated, toReservationJSON(rv))
}

type availabilityJSON struct {
	ResourceID string             `json:"resource_id"`
	Name       string             `json:"name"`
	Kind       string             `json:"kind"`
	Capacity   int                `json:"capacity"`
	Free       []freeIntervalJSON `json:"free"`
}

// freeIntervalJSON carries its instants preformatted: a site's week is
// thousands of intervals, and time.Time's MarshalJSON (whose output
// encoding/json then re-scans) was most of the encoding cost. The text is
// the same RFC 3339 form.
type freeIntervalJSON struct {
	Start     string `json:"start"`
	End       string `json:"end"`
	FreeSeats int    `json:"free_seats"`
}

func toAvailabilityJSON(a *calendar.Availability) availabilityJSON {
	free := make([]freeIntervalJSON, len(a.Free))
	for i, f := range a.Free {
		free[i] = freeIntervalJSON{Start: f.Start.UTC().Format(time.RFC3339Nano), End: f.End.UTC().Format(time.RFC3339Nano), FreeSeats: f.FreeSeats}
	}
	return availabilityJSON{ResourceID: a.Resource.ID, Name: a.Resource.Name, Kind: a.Resource.Kind, Capacity: a.Resource.Capacity, Free: free}
}

func (s *Server) availabilityQuery(r *http.Request) (calendar.AvailabilityQuery, error) {
	var q calendar.AvailabilityQuery
	var err error
	if q.From, q.To, err = s.window(r); err != nil {
		return q, err
	}
	if q.From.IsZero() || q.To.IsZero() {
		return q, badRequest(http.StatusBadRequest, "invalid_parameter", "from", "from and to are required")
	}
	q.Kind = r.URL.Query().Get("kind")
	switch q.Kind {
	case "", calendar.KindDesk, calendar.KindRoom, calendar.KindZone, calendar.KindMachine, calendar.KindKit:
	default:
		return q, badRequest(http.StatusBadRequest, "invalid_parameter", "kind", "kind must be desk, room, zone, machine or kit")
	}
	if v := r.URL.Query().Get("seats"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return q, badRequest(http.StatusBadRequest, "invalid_parameter", "seats", "seats must be an integer from 1 to 1000")
		}
		q.Seats = n
	}
	return q, nil
}

func (s *Server) handleSiteAvailability(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q, err := s.availabilityQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	as, err := s.Calendar.SiteAvailability(r.Context(), p, r.PathValue("site_id"), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	buf := availabilityBuffers.Get().(*[]byte)
	*buf = appendSiteAvailability((*buf)[:0], as)
	w.Write(*buf)
	if cap(*buf) <= 16<<20 {
		availabilityBuffers.Put(buf)
	}
}

// availabilityBuffers recycles the encoding buffers of availability
// answers (a large site's week is over a megabyte): a fresh one per request
// kept the garbage collector busy.
var availabilityBuffers = sync.Pool{New: func() any { return new([]byte) }}

// appendSiteAvailability writes what writeJSON(listOf(as,
// toAvailabilityJSON)) would, byte for byte, by hand: a site's week is
// tens of thousands of intervals, whose instants are mostly the same few
// hundred slot boundaries, so each is formatted once per response, and
// encoding/json's reflection over every interval was half the request.
func appendSiteAvailability(b []byte, as []calendar.Availability) []byte {
	instants := map[int64][]byte{}
	instant := func(b []byte, t time.Time) []byte {
		k := t.UnixNano()
		q, ok := instants[k]
		if !ok {
			q, _ = json.Marshal(t.UTC().Format(time.RFC3339Nano))
			instants[k] = q
		}
		return append(b, q...)
	}
	str := func(b []byte, s string) []byte {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				q, _ := json.Marshal(s) // escapes as encoding/json does
				return append(b, q...)
			}
		}
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, `{"items":[`...)
	for i := range as {
		a := &as[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"resource_id":`...)
		b = str(b, a.Resource.ID)
		b = append(b, `,"name":`...)
		b = str(b, a.Resource.Name)
		b = append(b, `,"kind":`...)
		b = str(b, a.Resource.Kind)
		b = append(b, `,"capacity":`...)
		b = strconv.AppendInt(b, int64(a.Resource.Capacity), 10)
		b = append(b, `,"free":[`...)
		for j, f := range a.Free {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"start":`...)
			b = instant(b, f.Start)
			b = append(b, `,"end":`...)
			b = instant(b, f.End)
			b = append(b, `,"free_seats":`...)
			b = strconv.AppendInt(b, int64(f.FreeSeats), 10)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}\n"...)
}

func (s *Server) handleResourceAvailability(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q, err := s.availabilityQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.Calendar.ResourceAvailability(r.Context(), p, r.PathValue("resource_id"), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAvailabilityJSON(a))
}

type resourceClosureJSON struct {
	ID         string    `json:"id"`
	ResourceID string    `json:"resource_id"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	Reason     string    `json:"reason"`
}

func toResourceClosureJSON(c *calendar.ResourceClosure) resourceClosureJSON {
	return resourceClosureJSON{ID: c.ID, ResourceID: c.ResourceID, StartsAt: c.StartsAt, EndsAt: c.EndsAt, Reason: c.Reason}
}

func (s *Server) handleCreateResourceClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		StartsAt timestamp `json:"starts_at"`
		EndsAt   timestamp `json:"ends_at"`
		Reason   string    `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Calendar.AddResourceClosure(r.Context(), p, r.PathValue("resource_id"), in.StartsAt.Time, in.EndsAt.Time, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toResourceClosureJSON(c))
}

func (s *Server) handleListResourceClosures(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cs, err := s.Calendar.ListResourceClosures(r.Context(), p, r.PathValue("resource_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(cs, toResourceClosureJSON))
}

func (s *Server) handleDeleteResourceClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Calendar.DeleteResourceClosure(r.Context(), p, r.PathValue("resource_id"), r.PathValue("closure_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeSeries reads and checks the body of POST /v1/reservations/series,
// which its quote takes too.
func decodeSeries(r *http.Request, p *identity.Principal) (calendar.SeriesBooking, error) {
	var in struct {
		ResourceID string `json:"resource_id"`
		Start      string `json:"start"`
		End        string `json:"end"`
		RRule      string `json:"rrule"`
		Mode       string `json:"mode"`
		Seats      int    `json:"seats"`
		Note       string `json:"note"`
		UserID     string `json:"user_id"`
	}
	if err := decode(r, &in); err != nil {
		return calendar.SeriesBooking{}, err
	}
	var v errs.Validator
	v.Check(in.ResourceID != "", "resource_id", "is required")
	v.Check(in.Start != "", "start", "is required")
	v.Check(in.End != "", "end", "is required")
	v.Check(in.RRule != "", "rrule", "is required, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20260630T235959Z")
	if err := v.Err(); err != nil {
		return calendar.SeriesBooking{}, err
	}
	return calendar.SeriesBooking{
		Booking: calendar.Booking{By: p, ResourceID: in.ResourceID, UserID: in.UserID, Start: in.Start, End: in.End, Seats: in.Seats, Note: in.Note},
		RRule:   in.RRule, Mode: in.Mode,
	}, nil
}
