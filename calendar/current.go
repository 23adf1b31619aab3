package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
)

// ReservationAt returns userID's confirmed reservation of resourceID under
// way at t, the reservation widened by margin on both sides (a room's door
// opens a few minutes early and late); nil if there is none. Access uses it
// for room locks and machine sessions, both exclusive resources, on every
// unlock and start: it is a prepared statement, and on PostgreSQL it adds
// the range test the exclusion constraint's GiST index answers, so its cost
// does not grow with the resource's history (see overlappingSQL).
func (svc *Service) ReservationAt(ctx context.Context, idb bun.IDB, resourceID, userID string, t time.Time, margin time.Duration) (*Reservation, error) {
	from, to := t.Add(-margin), t.Add(margin)
	cond, args := "", []any{resourceID, userID, to, from, from}
	if !db.IsSQLite(idb) {
		cond = ` AND exclusive AND status <> '` + StatusCancelled + `'
			AND tstzrange(starts_at, busy_until, '[)') && tstzrange(CAST(? AS timestamptz), CAST(? AS timestamptz), '[]')`
		args = append(args, from, to)
	}
	var rs []Reservation
	if err := db.ScanPrepared(ctx, idb, &rs, `SELECT `+svc.reservationColumns+` FROM reservations
		WHERE resource_id = ? AND user_id = ? AND status = '`+StatusConfirmed+`' AND starts_at <= ? AND ends_at > ? AND busy_until > ?`+cond+`
		ORDER BY starts_at LIMIT 1`, args...); err != nil {
		return nil, fmt.Errorf("read current reservation: %w", err)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return &rs[0], nil
}

// reservationColumns lists Reservation's columns, for prepared reads.
func reservationColumns(bdb *bun.DB) string { return db.Columns[Reservation](bdb, "") }

// ReservationsAround returns userID's confirmed reservations of resourceID
// that overlap [from, to), so access can tell "not now" from "never".
func (svc *Service) ReservationsAround(ctx context.Context, idb bun.IDB, resourceID, userID string, from, to time.Time) ([]Reservation, error) {
	rs := []Reservation{}
	err := idb.NewSelect().Model(&rs).
		Where("resource_id = ? AND user_id = ? AND status = ?", resourceID, userID, StatusConfirmed).
		Where("starts_at < ? AND ends_at > ? AND busy_until > ?", to.UTC(), from.UTC(), from.UTC()).
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
		// busy_until > from follows from starts_at >= from, and lets the
		// (resource_id, busy_until) index skip the resource's past.
		Where("starts_at >= ? AND starts_at < ? AND busy_until > ?", from.UTC(), to.UTC(), from.UTC()).
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
