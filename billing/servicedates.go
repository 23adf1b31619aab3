package billing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

var (
	frDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// frLongDate is "lundi 7 décembre 2026" (1er for the first of the month).
func frLongDate(t time.Time) string {
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return fmt.Sprintf("%s %s %s %d", frDays[t.Weekday()], day, frMonths[t.Month()-1], t.Year())
}

// frHour is "14 h 00", with no-break spaces so that it never wraps.
func frHour(t time.Time) string { return fmt.Sprintf("%d\u00a0h\u00a0%02d", t.Hour(), t.Minute()) }

// frSlot dates a booked slot in the site's zone: "lundi 7 décembre 2026,
// 14 h 00 – 16 h 00", or both days when it runs past midnight.
func frSlot(start, end time.Time, loc *time.Location) string {
	start, end = start.In(loc), end.In(loc)
	if sameDay(start, end) || end.Equal(nextMidnight(start)) {
		return fmt.Sprintf("%s, %s – %s", frLongDate(start), frHour(start), frHour(end))
	}
	return fmt.Sprintf("%s, %s – %s, %s", frLongDate(start), frHour(start), frLongDate(end), frHour(end))
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

func nextMidnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
}

// slot is when a booking took place.
type slot struct {
	ID       string    `bun:"id"`
	StartsAt time.Time `bun:"starts_at"`
	EndsAt   time.Time `bun:"ends_at"`
}

// chargeSlots returns the booked slot of each charge's reservation, by
// reservation id: a charge is invoiced with the dates of the service it
// pays for, not the day it is billed.
func chargeSlots(ctx context.Context, tx bun.IDB, charges []UsageCharge) (map[string]slot, error) {
	ids := make([]string, 0, len(charges))
	for _, c := range charges {
		ids = append(ids, c.ReservationID)
	}
	var rows []slot
	if len(ids) > 0 {
		if err := tx.NewSelect().Table("reservations").Column("id", "starts_at", "ends_at").
			Where("id IN (?)", bun.In(ids)).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("read the charges' bookings: %w", err)
		}
	}
	out := make(map[string]slot, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// serviceDays is the local first and last day of a slot: a booking
// ending at midnight ends the day before.
func serviceDays(sl slot, loc *time.Location) (first, last string) {
	end := sl.EndsAt.In(loc)
	if end.After(sl.StartsAt) {
		end = end.Add(-time.Nanosecond)
	}
	return sl.StartsAt.In(loc).Format(time.DateOnly), end.Format(time.DateOnly)
}
