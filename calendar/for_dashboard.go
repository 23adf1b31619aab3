package calendar

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// What the dashboard (package dashboard) reads of a site's calendar. It
// decides nothing: dashboard's rules have decided who may read the
// figures. Each function is one or two narrow queries on the site; the
// figures by local day are summed here in Go, because a day of the
// site's zone (23 or 25 hours on the days the clocks change) is not
// something SQL computes the same way on both engines.

// OccupancyDay is one resource kind on one local day: the minutes booked
// (confirmed bookings, each counted for its part within the day; for a
// zone, seat-minutes: minutes × seats) and the minutes open (opening
// hours, the resource's own or else the site's, less site and resource
// closures, for each resource in service; for a zone, × its capacity).
type OccupancyDay struct {
	Day           string // YYYY-MM-DD in the site's zone
	Kind          string
	BookedMinutes int64
	OpenMinutes   int64
}

// Occupancy returns, for each local day of [from, to) (local midnights)
// and each resource kind the site has, the minutes booked and open.
func (svc *Service) Occupancy(ctx context.Context, siteID string, from, to time.Time) ([]OccupancyDay, error) {
	site, err := getSite(ctx, svc.db, siteID)
	if err != nil {
		return nil, err
	}
	loc := site.Location()
	var rs []Resource
	if err := svc.db.NewSelect().Model(&rs).Where("site_id = ?", siteID).
		Where("retired_at IS NULL OR retired_at > ?", from).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard resources: %w", err)
	}
	var closed []Closure
	if err := svc.db.NewSelect().Model(&closed).Where("site_id = ? AND starts_at < ? AND ends_at > ?", siteID, to, from).
		OrderExpr("starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard closures: %w", err)
	}
	var rclosed []ResourceClosure
	if err := svc.db.NewSelect().Model(&rclosed).Where("resource_id IN (SELECT id FROM resources WHERE site_id = ?)", siteID).
		Where("starts_at < ? AND ends_at > ?", to, from).OrderExpr("starts_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard resource closures: %w", err)
	}
	var booked []Reservation
	if err := svc.db.NewSelect().Model(&booked).Column("resource_id", "seats", "starts_at", "ends_at").
		Where("site_id = ? AND kind = ? AND status = ?", siteID, ReservationBooking, StatusConfirmed).
		Where("ends_at > ? AND busy_until > ? AND starts_at < ?", from, from, to).
		Where("busy_until < ?", busyBound(to)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard bookings: %w", err)
	}
	return occupancy(site, loc, rs, closed, rclosed, booked, from, to), nil
}

// occupancy sums the figures of Occupancy by local day and kind.
func occupancy(site *Site, loc *time.Location, rs []Resource, closed []Closure, rclosed []ResourceClosure, booked []Reservation, from, to time.Time) []OccupancyDay {
	days := localDays(loc, from, to)
	type key struct{ day, kind string }
	sums := map[key]*OccupancyDay{}
	kindOf := map[string]*Resource{}
	at := func(day time.Time, kind string) *OccupancyDay {
		k := key{day.Format(time.DateOnly), kind}
		if sums[k] == nil {
			sums[k] = &OccupancyDay{Day: k.day, Kind: kind}
		}
		return sums[k]
	}
	siteClosed := closureSpans(closed)
	for i := range rs {
		res := &rs[i]
		kindOf[res.ID] = res
		hours := site.OpeningHours
		if res.OpeningHours != nil {
			hours = res.OpeningHours
		}
		var holes []span
		for _, c := range rclosed {
			if c.ResourceID == res.ID {
				holes = append(holes, span{c.StartsAt, c.EndsAt})
			}
		}
		for d, day := range days[:len(days)-1] {
			open := subtract(subtract(openSpans(hours, loc, day, days[d+1]), siteClosed), holes)
			var minutes int64
			for _, s := range open {
				minutes += int64(s.end.Sub(s.start) / time.Minute)
			}
			at(day, res.Kind).OpenMinutes += minutes * int64(seatsOf(res, res.Capacity))
		}
	}
	for _, r := range booked {
		res := kindOf[r.ResourceID]
		if res == nil {
			continue
		}
		// From the last midnight at or before the start, while the days
		// begin before the end: a booking touches a day or two, not the
		// whole period.
		first := max(sort.Search(len(days), func(i int) bool { return days[i].After(r.StartsAt) })-1, 0)
		for d := first; d < len(days)-1 && days[d].Before(r.EndsAt); d++ {
			s, e := maxTime(r.StartsAt, days[d]), minTime(r.EndsAt, days[d+1])
			if e.After(s) {
				at(days[d], res.Kind).BookedMinutes += int64(e.Sub(s)/time.Minute) * int64(seatsOf(res, r.Seats))
			}
		}
	}
	out := make([]OccupancyDay, 0, len(sums))
	for _, day := range days[:len(days)-1] {
		for _, kind := range []string{KindDesk, KindRoom, KindZone, KindMachine} {
			if o := sums[key{day.Format(time.DateOnly), kind}]; o != nil {
				out = append(out, *o)
			}
		}
	}
	return out
}

// seatsOf: a zone counts seats; every other resource is taken whole.
func seatsOf(res *Resource, seats int) int {
	if res.Kind == KindZone {
		return seats
	}
	return 1
}

// localDays returns the local midnights from the one of from's day to the
// first at or after to.
func localDays(loc *time.Location, from, to time.Time) []time.Time {
	l := from.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	out := []time.Time{day}
	for day.Before(to) {
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		out = append(out, day)
	}
	return out
}

// busyBound bounds busy_until for the bookings that start before to: a
// booking lasts at most MaxBookingMinutes and its buffer a day. Stated in
// the queries, it keeps the walk of reservations_site_busy_idx (site_id,
// busy_until, …) to the period, not to every booking after it.
func busyBound(to time.Time) time.Time {
	return to.Add(time.Duration(MaxBookingMinutes+24*60) * time.Minute)
}

// BookingFigures are a site's bookings over a period.
type BookingFigures struct {
	// Bookings: confirmed bookings starting in the period.
	Bookings int
	// NoShows: confirmed bookings (not of a machine) ended in the period,
	// by now, without a check-in.
	NoShows int
	// WaitingOpen: entries waiting or offered, for a slot not yet over.
	WaitingOpen int
}

// Bookings counts the figures of BookingFigures for siteID over
// [from, to), at now.
func (svc *Service) Bookings(ctx context.Context, siteID string, from, to, now time.Time) (BookingFigures, error) {
	var f BookingFigures
	var err error
	confirmed := func() *bun.SelectQuery {
		return svc.db.NewSelect().Model((*Reservation)(nil)).
			Where("site_id = ? AND kind = ? AND status = ?", siteID, ReservationBooking, StatusConfirmed)
	}
	if f.Bookings, err = confirmed().Where("starts_at >= ? AND starts_at < ?", from, to).
		Where("busy_until > ? AND busy_until < ?", from, busyBound(to)).Count(ctx); err != nil {
		return f, fmt.Errorf("dashboard bookings: %w", err)
	}
	if f.NoShows, err = confirmed().Where("checked_in_at IS NULL").
		Where("ends_at >= ? AND ends_at < ? AND ends_at <= ?", from, to, now).
		Where("busy_until >= ? AND busy_until < ?", from, busyBound(to)).
		Where("resource_id IN (SELECT id FROM resources WHERE site_id = ? AND kind <> ?)", siteID, KindMachine).
		Count(ctx); err != nil {
		return f, fmt.Errorf("dashboard no-shows: %w", err)
	}
	if f.WaitingOpen, err = svc.db.NewSelect().Model((*WaitlistEntry)(nil)).
		Where("status IN (?, ?) AND ends_at > ?", WaitWaiting, WaitOffered, now).
		Where("resource_id IN (SELECT id FROM resources WHERE site_id = ?)", siteID).Count(ctx); err != nil {
		return f, fmt.Errorf("dashboard waiting lists: %w", err)
	}
	return f, nil
}

// Arrival is a member's check-in or door grant: who, and when.
type Arrival struct {
	UserID string
	At     time.Time
}

// CheckIns returns the check-ins at siteID in [from, to), by time.
func (svc *Service) CheckIns(ctx context.Context, siteID string, from, to time.Time) ([]Arrival, error) {
	var rs []Reservation
	if err := svc.db.NewSelect().Model(&rs).Column("user_id", "checked_in_at").
		Where("site_id = ? AND checked_in_at >= ? AND checked_in_at < ?", siteID, from, to).
		Where("user_id IS NOT NULL").OrderExpr("checked_in_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("dashboard check-ins: %w", err)
	}
	out := make([]Arrival, len(rs))
	for i, r := range rs {
		out[i] = Arrival{UserID: *r.UserID, At: *r.CheckedInAt}
	}
	return out, nil
}
