package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ReservationAt returns userID's confirmed reservation of resourceID under
// way at t, the reservation widened by margin on both sides (a room's door
// opens a few minutes early and late); nil if there is none. Access uses it
// for room locks and machine sessions.
func (svc *Service) ReservationAt(ctx context.Context, idb bun.IDB, resourceID, userID string, t time.Time, margin time.Duration) (*Reservation, error) {
	var rs []Reservation
	err := idb.NewSelect().Model(&rs).
		Where("resource_id = ? AND user_id = ? AND status = ?", resourceID, userID, StatusConfirmed).
		Where("starts_at <= ? AND ends_at > ?", t.Add(margin).UTC(), t.Add(-margin).UTC()).
		OrderExpr("starts_at").Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read current reservation: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

// ReservationsAround returns userID's confirmed reservations of resourceID
// that overlap [from, to), so access can tell "not now" from "never".
func (svc *Service) ReservationsAround(ctx context.Context, idb bun.IDB, resourceID, userID string, from, to time.Time) ([]Reservation, error) {
	rs := []Reservation{}
	err := idb.NewSelect().Model(&rs).
		Where("resource_id = ? AND user_id = ? AND status = ?", resourceID, userID, StatusConfirmed).
		Where("starts_at < ? AND ends_at > ?", to.UTC(), from.UTC()).
		OrderExpr("starts_at").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	return rs, nil
}

// NextStart returns when the next confirmed or held reservation of
// resourceID other than exceptID starts within [from, to), or to if none
// does: a machine's grace period after a slot ends there.
func (svc *Service) NextStart(ctx context.Context, idb bun.IDB, resourceID, exceptID string, from, to time.Time) (time.Time, error) {
	var rs []Reservation
	err := idb.NewSelect().Model(&rs).Column("starts_at").
		Where("resource_id = ? AND id <> ? AND status IN (?, ?)", resourceID, exceptID, StatusConfirmed, StatusHeld).
		Where("starts_at >= ? AND starts_at < ?", from.UTC(), to.UTC()).
		OrderExpr("starts_at").Limit(1).Scan(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("read next reservation: %w", err)
	}
	if len(rs) == 0 {
		return to, nil
	}
	return rs[0].StartsAt, nil
}

// GetReservationTx reads one reservation through idb.
func (svc *Service) GetReservationTx(ctx context.Context, idb bun.IDB, reservationID string) (*Reservation, error) {
	return getReservation(ctx, idb, reservationID, false)
}

// GetResourceTx reads one resource through idb.
func (svc *Service) GetResourceTx(ctx context.Context, idb bun.IDB, resourceID string) (*Resource, error) {
	return getResource(ctx, idb, resourceID, false)
}
