package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
)

// The quotes a members' app shows before a member confirms: what a
// booking would cost or why it would be refused, and what cancelling one
// would give back. They change nothing, so they take no Idempotency-Key.

// currency of every amount of Relais.
const currency = "EUR"

type priceJSON struct {
	CoveredBy           string `json:"covered_by"`
	IncludedMinutesUsed int    `json:"included_minutes_used"`
	IncludedMinutesLeft *int   `json:"included_minutes_left"`
	CreditMinutesUsed   int64  `json:"credit_minutes_used"`
	CreditCentsUsed     int64  `json:"credit_cents_used"`
	AmountCents         int64  `json:"amount_cents"`
	Currency            string `json:"currency"`
	VATRateBP           int    `json:"vat_rate_bp"`
}

type quoteJSON struct {
	Bookable bool `json:"bookable"`
	// Refusal is the problem document the booking would answer, or null.
	Refusal              json.RawMessage `json:"refusal"`
	ResourceID           string          `json:"resource_id"`
	Start                time.Time       `json:"start"`
	End                  time.Time       `json:"end"`
	Seats                int             `json:"seats"`
	Price                *priceJSON      `json:"price"`
	CancellationDeadline time.Time       `json:"cancellation_deadline"`
}

// handleQuoteReservation answers what POST /v1/reservations would do with
// the same body: 200 with the price, or with the refusal the booking would
// answer; a fault of the request itself is the booking's error.
func (s *Server) handleQuoteReservation(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	b, err := decodeBooking(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.Calendar.Quote(r.Context(), b)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeQuote(w, r, q)
}

// handleQuoteMove answers what PATCH /v1/reservations/{id} would do with
// the same body, as handleQuoteReservation does for a booking.
func (s *Server) handleQuoteMove(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	m, err := decodeMove(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.Calendar.QuoteMove(r.Context(), m)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeQuote(w, r, q)
}

func (s *Server) writeQuote(w http.ResponseWriter, r *http.Request, q *calendar.Quote) {
	out := quoteJSON{Bookable: q.Refusal == nil, ResourceID: q.ResourceID, Start: q.Start, End: q.End, Seats: q.Seats,
		CancellationDeadline: q.CancellationDeadline}
	if q.Refusal != nil {
		out.Refusal = s.problemDocument(w, r, q.Refusal)
	}
	out.Price = toPriceJSON(q.Price)
	writeJSON(w, http.StatusOK, out)
}

func toPriceJSON(pr *calendar.Price) *priceJSON {
	if pr == nil {
		return nil
	}
	return &priceJSON{CoveredBy: pr.CoveredBy, IncludedMinutesUsed: pr.IncludedMinutesUsed, IncludedMinutesLeft: pr.IncludedMinutesLeft,
		CreditMinutesUsed: pr.CreditMinutesUsed, CreditCentsUsed: pr.CreditCentsUsed, AmountCents: pr.AmountCents,
		Currency: currency, VATRateBP: pr.VATRateBP}
}

type occurrenceQuoteJSON struct {
	Bookable             bool            `json:"bookable"`
	Refusal              json.RawMessage `json:"refusal"`
	Start                time.Time       `json:"start"`
	End                  time.Time       `json:"end"`
	Price                *priceJSON      `json:"price"`
	CancellationDeadline time.Time       `json:"cancellation_deadline"`
}

type seriesQuoteJSON struct {
	Bookable    bool                  `json:"bookable"`
	Refusal     json.RawMessage       `json:"refusal"`
	Occurrences []occurrenceQuoteJSON `json:"occurrences"`
}

// handleQuoteSeries answers what POST /v1/reservations/series would do
// with the same body: each occurrence's price or refusal, and the
// series' refusal when it would not be booked.
func (s *Server) handleQuoteSeries(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	in, err := decodeSeries(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.Calendar.QuoteSeries(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := seriesQuoteJSON{Bookable: q.Refusal == nil, Occurrences: make([]occurrenceQuoteJSON, len(q.Occurrences))}
	if q.Refusal != nil {
		out.Refusal = s.problemDocument(w, r, q.Refusal)
	}
	for i, o := range q.Occurrences {
		oj := occurrenceQuoteJSON{Bookable: o.Refusal == nil, Start: o.Start, End: o.End, Price: toPriceJSON(o.Price),
			CancellationDeadline: o.CancellationDeadline}
		if o.Refusal != nil {
			oj.Refusal = s.problemDocument(w, r, o.Refusal)
		}
		out.Occurrences[i] = oj
	}
	writeJSON(w, http.StatusOK, out)
}

type refundJSON struct {
	IncludedMinutesReturned int    `json:"included_minutes_returned"`
	ChargeVoidedCents       int64  `json:"charge_voided_cents"`
	ChargeKeptCents         int64  `json:"charge_kept_cents"`
	CreditReturnedPercent   int    `json:"credit_returned_percent"`
	Currency                string `json:"currency"`
}

type cancellationQuoteJSON struct {
	ReservationID string          `json:"reservation_id"`
	Status        string          `json:"status"`
	Allowed       bool            `json:"allowed"`
	Refusal       json.RawMessage `json:"refusal"`
	Deadline      time.Time       `json:"deadline"`
	Late          bool            `json:"late"`
	Refund        *refundJSON     `json:"refund"`
}

// handleCancellationQuote answers what DELETE /v1/reservations/{id} would
// do now.
func (s *Server) handleCancellationQuote(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q, err := s.Calendar.QuoteCancellation(r.Context(), p, r.PathValue("reservation_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := cancellationQuoteJSON{ReservationID: q.Reservation.ID, Status: q.Reservation.Status, Allowed: q.Refusal == nil,
		Deadline: q.Deadline, Late: q.Late}
	if q.Refusal != nil {
		out.Refusal = s.problemDocument(w, r, q.Refusal)
	}
	if rf := q.Refund; rf != nil {
		out.Refund = &refundJSON{IncludedMinutesReturned: rf.IncludedMinutesReturned, ChargeVoidedCents: rf.ChargeVoidedCents,
			ChargeKeptCents: rf.ChargeKeptCents, CreditReturnedPercent: rf.CreditReturnedPercent, Currency: currency}
	}
	writeJSON(w, http.StatusOK, out)
}

// problemDocument is the problem+json document writeError would answer
// for err — the very bytes, in the request's language — to carry inside a
// 200. Its language headers go on w.
func (s *Server) problemDocument(w http.ResponseWriter, r *http.Request, err error) json.RawMessage {
	var doc bufferedResponse
	s.writeError(&doc, r, err)
	w.Header().Set("Content-Language", doc.Header().Get("Content-Language"))
	if !slices.Contains(w.Header().Values("Vary"), "Accept-Language") {
		w.Header().Add("Vary", "Accept-Language")
	}
	return json.RawMessage(bytes.TrimSpace(doc.body.Bytes()))
}

// bufferedResponse keeps what a handler writes, to be used in another
// answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header {
	if b.header == nil {
		b.header = http.Header{}
	}
	return b.header
}

func (b *bufferedResponse) WriteHeader(status int) { b.status = status }

func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
