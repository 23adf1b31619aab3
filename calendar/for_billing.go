package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// What billing and invoicing may know of reservations and sites, so that
// they never read calendar's tables. Each function runs in the caller's
// transaction, through idb: billing's quotas are checked inside the
// booking's own transaction, on the booking hot path, with the same one
// query each as before they moved here.

// CountUpcomingBookings counts a member's bookings not cancelled that end
// after now, but exceptID (the booking being checked).
func CountUpcomingBookings(ctx context.Context, idb bun.IDB, userID string, now time.Time, exceptID string) (int, error) {
	n, err := idb.NewSelect().Table("reservations").
		Where("user_id = ? AND kind = 'booking' AND status <> 'cancelled' AND ends_at > ? AND id <> ?", userID, now, exceptID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count reservations: %w", err)
	}
	return n, nil
}

// BookedMinutes sums the minutes of a member's bookings not cancelled
// that fall within [from, to), but exceptID, each clipped to the window.
func BookedMinutes(ctx context.Context, idb bun.IDB, userID string, from, to time.Time, exceptID string) (int64, error) {
	var booked int64
	rows, err := idb.QueryContext(ctx, `SELECT starts_at, ends_at FROM reservations
			WHERE user_id = ? AND kind = 'booking' AND status <> 'cancelled' AND starts_at < ? AND ends_at > ? AND id <> ?`,
		userID, to, from, exceptID)
	if err != nil {
		return 0, fmt.Errorf("read reservations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, b time.Time
		if err := rows.Scan(&a, &b); err != nil {
			return 0, fmt.Errorf("scan reservation: %w", err)
		}
		if a.Before(from) {
			a = from
		}
		if b.After(to) {
			b = to
		}
		booked += int64(b.Sub(a) / time.Minute)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read reservations: %w", err)
	}
	return booked, nil
}

// SiteNames returns the name of every site, by id, for documents that
// name the site they were issued for.
func SiteNames(ctx context.Context, idb bun.IDB) (map[string]string, error) {
	var sites []Site
	if err := idb.NewSelect().Model(&sites).Column("id", "name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read sites: %w", err)
	}
	out := make(map[string]string, len(sites))
	for _, s := range sites {
		out[s.ID] = s.Name
	}
	return out, nil
}

// EntitySites returns the ids of the sites whose legal entity has this
// SIREN: an accounting journal covers all of them.
func EntitySites(ctx context.Context, idb bun.IDB, siren string) ([]string, error) {
	var sites []Site
	if err := idb.NewSelect().Model(&sites).Column("id", "legal").Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list sites: %w", err)
	}
	var ids []string
	for _, s := range sites {
		if s.Legal.SIREN == siren {
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}
