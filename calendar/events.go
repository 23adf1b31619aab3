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
}

// publish tells svc.events that r changed, inside tx.
func (svc *Service) publish(ctx context.Context, tx bun.IDB, typ string, r *Reservation) error {
	return svc.events.Publish(ctx, tx, events.New(typ, r.SiteID, svc.now(), ReservationEvent{
		ReservationID: r.ID, ResourceID: r.ResourceID, SiteID: r.SiteID, UserID: r.UserID, Kind: r.Kind,
		Status: r.Status, Start: r.StartsAt.UTC(), End: r.EndsAt.UTC(), Seats: r.Seats, SeriesID: r.SeriesID,
		CancelledAt: r.CancelledAt, LateCancel: r.LateCancel,
	}))
}
