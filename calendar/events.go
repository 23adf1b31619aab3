package calendar

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// Reservation events, published in the transaction of each change (see
// internal/events): created by a booking, an occurrence of a series or a
// waiting list's hold; updated by a move or a hold accepted; cancelled.
const (
	EventReservationCreated   = "reservation.created"
	EventReservationUpdated   = "reservation.updated"
	EventReservationCancelled = "reservation.cancelled"
)

// ReservationEvent is the data of a reservation event: what an integrator
// needs to mirror the booking (a display, a door schedule), nothing more.
// UserID is absent for a block.
type ReservationEvent struct {
	ReservationID string     `json:"reservation_id"`
	ResourceID    string     `json:"resource_id"`
	SiteID        string     `json:"site_id"`
	UserID        *string    `json:"user_id"`
	Kind          string     `json:"kind"`
	Status        string     `json:"status"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Seats         int        `json:"seats"`
	SeriesID      *string    `json:"series_id,omitempty"`
	CancelledAt   *time.Time `json:"cancelled_at,omitempty"`
	LateCancel    bool       `json:"late_cancel,omitempty"`
	// OfferAccepted marks the reservation.updated of a waiting list's
	// hold the member accepted: for notify, which confirms it as a
	// booking rather than a move. Not sent to webhooks (their contract
	// has the update alone).
	OfferAccepted bool `json:"-"`
}

// publish tells svc.events that r changed, inside tx.
func (svc *Service) publish(ctx context.Context, tx bun.IDB, typ string, r *Reservation) error {
	return svc.events.Publish(ctx, tx, svc.event(typ, r))
}

// event is the event of type typ about r.
func (svc *Service) event(typ string, r *Reservation) events.Event {
	return events.New(typ, r.SiteID, svc.now(), reservationEvent(r))
}

func reservationEvent(r *Reservation) ReservationEvent {
	return ReservationEvent{
		ReservationID: r.ID, ResourceID: r.ResourceID, SiteID: r.SiteID, UserID: r.UserID, Kind: r.Kind,
		Status: r.Status, Start: r.StartsAt.UTC(), End: r.EndsAt.UTC(), Seats: r.Seats, SeriesID: r.SeriesID,
		CancelledAt: r.CancelledAt, LateCancel: r.LateCancel,
	}
}

// publishAccepted tells svc.events that the member accepted the hold r.
func (svc *Service) publishAccepted(ctx context.Context, tx bun.IDB, r *Reservation) error {
	data := reservationEvent(r)
	data.OfferAccepted = true
	return svc.events.Publish(ctx, tx, events.New(EventReservationUpdated, r.SiteID, svc.now(), data))
}

// Waiting-list events, published in the transaction of the change: a
// freed slot held for a member until ExpiresAt (not for an auto-book
// entry, whose booking is a reservation.created of its own), and an offer
// that lapsed unanswered. Notify mails them; webhooks send them too.
const (
	EventWaitlistOffered = "waitlist.offered"
	EventWaitlistLapsed  = "waitlist.lapsed"
)

// WaitlistEvent is the data of a waiting-list event.
type WaitlistEvent struct {
	EntryID    string    `json:"entry_id"`
	UserID     string    `json:"user_id"`
	SiteID     string    `json:"site_id"`
	ResourceID string    `json:"resource_id"`
	Start      time.Time `json:"starts_at"`
	End        time.Time `json:"ends_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// publishWaitlist tells svc.events about entry e of a resource of siteID,
// inside tx. e must carry its offer's deadline.
func (svc *Service) publishWaitlist(ctx context.Context, tx bun.IDB, typ, siteID string, e *WaitlistEntry) error {
	data := WaitlistEvent{EntryID: e.ID, UserID: e.UserID, SiteID: siteID, ResourceID: e.ResourceID,
		Start: e.StartsAt.UTC(), End: e.EndsAt.UTC()}
	if e.OfferExpiresAt != nil {
		data.ExpiresAt = e.OfferExpiresAt.UTC()
	}
	return svc.events.Publish(ctx, tx, events.New(typ, siteID, svc.now(), data))
}
