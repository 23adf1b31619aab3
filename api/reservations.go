package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/idempotency"
)

type reservationJSON struct {
	ID            string     `json:"id"`
	ResourceID    string     `json:"resource_id"`
	SiteID        string     `json:"site_id"`
	UserID        *string    `json:"user_id"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`
	Seats         int        `json:"seats"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Note          string     `json:"note"`
	SeriesID      *string    `json:"series_id"`
	CreatedBy     string     `json:"created_by"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	HoldExpiresAt *time.Time `json:"hold_expires_at"`
	CancelledAt   *time.Time `json:"cancelled_at"`
	CancelReason  string     `json:"cancel_reason"`
	LateCancel    bool       `json:"late_cancel"`
	CheckedInAt   *time.Time `json:"checked_in_at"`
	// UserName: the member's name, in lists only (the managers' planning).
	UserName *string `json:"user_name,omitempty"`
}

func toReservationJSON(r *calendar.Reservation) reservationJSON {
	return reservationJSON{ID: r.ID, ResourceID: r.ResourceID, SiteID: r.SiteID, UserID: r.UserID, Kind: r.Kind,
		Status: r.Status, Seats: r.Seats, Start: r.StartsAt, End: r.EndsAt, Note: r.Note, SeriesID: r.SeriesID,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, HoldExpiresAt: r.HoldExpiresAt,
		CancelledAt: r.CancelledAt, CancelReason: r.CancelReason, LateCancel: r.LateCancel,
		CheckedInAt: r.CheckedInAt}
}

var errReservationNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "reservation_not_found", Detail: "no such reservation"}

// bookingInput is the body of POST /v1/reservations, and of its quote.
type bookingInput struct {
	ResourceID string `json:"resource_id"`
	Start      string `json:"start"`
	End        string `json:"end"`
	Seats      int    `json:"seats"`
	Note       string `json:"note"`
	UserID     string `json:"user_id"`
	Kind       string `json:"kind"`
}

// decodeBooking reads a booking's body: what p asks to book.
func decodeBooking(r *http.Request, p *identity.Principal) (calendar.Booking, error) {
	var in bookingInput
	if err := decode(r, &in); err != nil {
		return calendar.Booking{}, err
	}
	var v errs.Validator
	v.Check(in.ResourceID != "", "resource_id", "is required")
	v.Check(in.Start != "", "start", "is required")
	v.Check(in.End != "", "end", "is required")
	v.Check(in.Kind == "" || in.Kind == calendar.ReservationBooking || in.Kind == calendar.ReservationBlock, "kind", "must be booking or block")
	v.Check(len(in.Note) <= 2000, "note", "must be at most 2000 bytes")
	if err := v.Err(); err != nil {
		return calendar.Booking{}, err
	}
	// Who may book what, for whom, is the calendar's decision: it depends
	// on the resource's site, which the booking reads anyway.
	return calendar.Booking{By: p, ResourceID: in.ResourceID, UserID: in.UserID,
		Kind: in.Kind, Start: in.Start, End: in.End, Seats: in.Seats, Note: in.Note}, nil
}

func (s *Server) handleCreateReservation(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, err := decodeBooking(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if claim := claimFrom(r.Context()); claim != nil {
		// The key is taken and the answer stored in the booking's own
		// transaction (see idempotentInTx).
		b.Claim = claim
		b.Response = func(rv *calendar.Reservation) idempotency.Record {
			body, _ := json.Marshal(toReservationJSON(rv))
			return idempotency.Record{Status: http.StatusCreated, Body: append(body, '\n'),
				Headers: map[string]string{"Content-Type": "application/json", "Location": "/v1/reservations/" + rv.ID}}
		}
	}
	rv, err := s.Calendar.Book(r.Context(), b)
	var replay *idempotency.ReplayError
	if errors.As(err, &replay) {
		writeReplay(w, replay.Record)
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/reservations/"+rv.ID)
	writeJSON(w, http.StatusCreated, toReservationJSON(rv))
}

func (s *Server) handleGetReservation(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	rv, err := s.Calendar.ReadReservation(r.Context(), p, r.PathValue("reservation_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toReservationJSON(rv))
}

func (s *Server) handlePatchReservation(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	m, err := decodeMove(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	moved, err := s.Calendar.MoveReservation(r.Context(), m)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toReservationJSON(moved))
}

// decodeMove reads the body of a move (PATCH /v1/reservations/{id}, and
// its quote).
func decodeMove(r *http.Request, p *identity.Principal) (calendar.Move, error) {
	var in struct {
		Start      *string `json:"start"`
		End        *string `json:"end"`
		Seats      *int    `json:"seats"`
		Note       *string `json:"note"`
		ResourceID *string `json:"resource_id"`
	}
	if err := decode(r, &in); err != nil {
		return calendar.Move{}, err
	}
	m := calendar.Move{ReservationID: r.PathValue("reservation_id"), By: p, Note: in.Note}
	if in.ResourceID != nil {
		if !id.Valid(*in.ResourceID) {
			return calendar.Move{}, errs.Invalid("resource_id", "must be a resource's id")
		}
		m.ResourceID = *in.ResourceID
	}
	if in.Start != nil {
		m.Start = *in.Start
	}
	if in.End != nil {
		m.End = *in.End
	}
	if in.Seats != nil {
		if *in.Seats < 1 {
			return calendar.Move{}, errs.Invalid("seats", "must be at least 1")
		}
		m.Seats = *in.Seats
	}
	return m, nil
}

// handleCancelReservation cancels, with an optional ?reason= the member
// sees on the reservation (typically a manager's).
func (s *Server) handleCancelReservation(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	reason := strings.TrimSpace(r.URL.Query().Get("reason"))
	if len(reason) > 500 {
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "reason", "reason must be at most 500 bytes"))
		return
	}
	c, err := s.Calendar.Cancel(r.Context(), calendar.Cancellation{ReservationID: r.PathValue("reservation_id"), By: p, Reason: reason})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toReservationJSON(c))
}

// handleListReservations lists the caller's reservations; with site_id, a
// manager lists the site's (filtered by resource_id, user_id, from, to).
func (s *Server) handleListReservations(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := calendar.ReservationFilter{SiteID: q.Get("site_id"), ResourceID: q.Get("resource_id"), UserID: q.Get("user_id"), After: after, Limit: limit}
	if f.From, f.To, err = s.window(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	if st := q.Get("status"); st != "" {
		for _, one := range strings.Split(st, ",") {
			if one != calendar.StatusConfirmed && one != calendar.StatusHeld && one != calendar.StatusCancelled {
				s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "status", "status must list confirmed, held or cancelled"))
				return
			}
			f.Statuses = append(f.Statuses, one)
		}
	}
	if after != "" {
		if _, err := s.Calendar.GetReservation(r.Context(), after); err != nil {
			s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "cursor", "cursor is not one this API returned"))
			return
		}
	}
	rs, next, err := s.Calendar.ListReservations(r.Context(), p, f)
	if errors.Is(err, calendar.ErrListNeedsSite) {
		err = badRequest(http.StatusBadRequest, "invalid_parameter", "site_id", "an API key lists the reservations of one of its sites: give site_id")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	names, err := s.Calendar.MemberNames(r.Context(), rs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[reservationJSON]{Items: make([]reservationJSON, len(rs)), NextCursor: cursor(next)}
	for i := range rs {
		out.Items[i] = toReservationJSON(&rs[i])
		if rs[i].UserID != nil {
			if n, ok := names[*rs[i].UserID]; ok {
				out.Items[i].UserName = &n
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}
