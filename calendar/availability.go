package calendar

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// MaxAvailabilityWindow bounds one availability query.
const MaxAvailabilityWindow = 31 * 24 * time.Hour

// FreeInterval is a span in which the resource can be booked: for a zone,
// FreeSeats seats are free throughout it.
type FreeInterval struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	FreeSeats int       `json:"free_seats"`
}

// Availability is one resource's free intervals in a window.
type Availability struct {
	Resource *Resource
	Free     []FreeInterval
}

// AvailabilityQuery selects what to compute.
type AvailabilityQuery struct {
	From, To time.Time
	Kind     string // empty: every kind
	Seats    int    // free seats wanted (zones); default 1
}

type span struct{ start, end time.Time }

// SiteAvailability returns, for each bookable resource of a site, the
// intervals of [From, To) in which a member could book it: within opening
// hours, outside closures, reservations and their buffers, with room for
// Seats, on the slot grid, at least the minimum duration long, and within
// the booking horizon and minimum notice.
func (svc *Service) SiteAvailability(ctx context.Context, siteID string, q AvailabilityQuery) ([]Availability, error) {
	site, err := svc.GetSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	rs, err := svc.ListResources(ctx, siteID, ResourceFilter{Kind: q.Kind})
	if err != nil {
		return nil, err
	}
	return svc.availability(ctx, site, rs, q)
}

// ResourceAvailability is SiteAvailability for one resource.
func (svc *Service) ResourceAvailability(ctx context.Context, resourceID string, q AvailabilityQuery) (*Availability, error) {
	res, err := svc.GetResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	site, err := svc.GetSite(ctx, res.SiteID)
	if err != nil {
		return nil, err
	}
	out, err := svc.availability(ctx, site, []Resource{*res}, q)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return &Availability{Resource: res, Free: []FreeInterval{}}, nil
	}
	return &out[0], nil
}

func (q *AvailabilityQuery) check() error {
	var v errs.Validator
	v.Check(!q.From.IsZero(), "from", "is required")
	v.Check(!q.To.IsZero(), "to", "is required")
	v.Check(q.To.After(q.From), "to", "must be after from")
	v.Check(q.To.Sub(q.From) <= MaxAvailabilityWindow, "to", "the window is at most 31 days")
	if q.Seats == 0 {
		q.Seats = 1
	}
	v.Check(q.Seats >= 1, "seats", "must be at least 1")
	return v.Err()
}

func (svc *Service) availability(ctx context.Context, site *Site, rs []Resource, q AvailabilityQuery) ([]Availability, error) {
	loc := site.Location()
	now := svc.now()
	byResource, err := svc.busyBySite(ctx, site.ID, q.From, q.To, now)
	if err != nil {
		return nil, err
	}
	var siteClosures []Closure
	if err := svc.db.NewSelect().Model(&siteClosures).Where("site_id = ? AND starts_at < ? AND ends_at > ?", site.ID, q.To, q.From).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read closures: %w", err)
	}
	var resClosures []ResourceClosure
	if err := svc.db.NewSelect().Model(&resClosures).
		Where("resource_id IN (SELECT id FROM resources WHERE site_id = ?) AND starts_at < ? AND ends_at > ?", site.ID, q.To, q.From).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read resource closures: %w", err)
	}
	closedByResource := map[string][]span{}
	for _, c := range resClosures {
		closedByResource[c.ResourceID] = append(closedByResource[c.ResourceID], span{c.StartsAt, c.EndsAt})
	}
	siteOpen := map[bool][]span{} // cache of open spans for resources using the site's hours
	out := make([]Availability, 0, len(rs))
	for i := range rs {
		res := &rs[i]
		if res.RetiredAt != nil || !res.MemberBookable {
			continue
		}
		seats := q.Seats
		switch {
		case q.Seats > res.Capacity, (res.Kind == KindDesk || res.Kind == KindMachine) && q.Seats > 1:
			// Too small. For a room, seats asks for its capacity in people.
			out = append(out, Availability{Resource: res, Free: []FreeInterval{}})
			continue
		case res.Kind == KindRoom:
			seats = 1
		}
		rules := res.Rules.withDefaults()
		var open []span
		if res.OpeningHours == nil {
			if cached, ok := siteOpen[true]; ok {
				open = cached
			} else {
				open = subtract(openSpans(site.OpeningHours, loc, q.From, q.To), closureSpans(siteClosures))
				siteOpen[true] = open
			}
		} else {
			open = subtract(openSpans(res.OpeningHours, loc, q.From, q.To), closureSpans(siteClosures))
		}
		open = subtract(open, closedByResource[res.ID])
		// Members book between now + notice and the horizon.
		earliest := now.Add(time.Duration(rules.MinNoticeMinutes) * time.Minute)
		latest := now.AddDate(0, 0, rules.HorizonDays)
		free := freeIntervals(open, byResource[res.ID], res, seats, time.Duration(rules.BufferAfterMinutes)*time.Minute)
		out = append(out, Availability{Resource: res, Free: snap(free, loc, rules, earliest, latest)})
	}
	return out, nil
}

// busy is the part of a reservation availability needs.
type busy struct {
	seats      int
	start, end time.Time // end is busy_until: the reservation plus its buffer
	exclusive  bool
}

// busyBySite reads the live reservations of a site overlapping [from, to),
// grouped by resource. It scans plain rows rather than whole Reservation
// models: a busy week of a large site is tens of thousands of rows.
func (svc *Service) busyBySite(ctx context.Context, siteID string, from, to, now time.Time) (map[string][]busy, error) {
	rows, err := svc.db.QueryContext(ctx, `SELECT resource_id, seats, starts_at, busy_until, exclusive, status, hold_expires_at
		FROM reservations WHERE site_id = ? AND status <> ? AND starts_at < ? AND busy_until > ?`,
		siteID, StatusCancelled, to, from)
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	defer rows.Close()
	out := map[string][]busy{}
	for rows.Next() {
		var (
			resourceID, status string
			b                  busy
			hold               sql.NullTime
		)
		if err := rows.Scan(&resourceID, &b.seats, &b.start, &b.end, &b.exclusive, &status, &hold); err != nil {
			return nil, fmt.Errorf("scan reservation: %w", err)
		}
		if status == StatusHeld && hold.Valid && !now.Before(hold.Time) {
			continue // a lapsed hold frees its slot at the next booking
		}
		out[resourceID] = append(out[resourceID], b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	return out, nil
}

// openSpans lists the absolute intervals in [from, to) when hours are open,
// walking local days so that DST days keep their published hours.
func openSpans(h OpeningHours, loc *time.Location, from, to time.Time) []span {
	var out []span
	l := from.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		spans, _ := h.Spans(day.Weekday())
		for _, sp := range spans {
			s := time.Date(day.Year(), day.Month(), day.Day(), sp.From/60, sp.From%60, 0, 0, loc)
			e := time.Date(day.Year(), day.Month(), day.Day(), sp.To/60, sp.To%60, 0, 0, loc)
			if sp.To == 24*60 {
				e = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
			}
			s, e = maxTime(s, from), minTime(e, to)
			if !e.After(s) {
				continue
			}
			if n := len(out); n > 0 && !out[n-1].end.Before(s) {
				out[n-1].end = maxTime(out[n-1].end, e) // 24:00 joins 00:00
				continue
			}
			out = append(out, span{s, e})
		}
	}
	return out
}

func closureSpans(cs []Closure) []span {
	out := make([]span, len(cs))
	for i, c := range cs {
		out[i] = span{c.StartsAt, c.EndsAt}
	}
	return out
}

// subtract removes holes from sorted, disjoint spans.
func subtract(spans, holes []span) []span {
	if len(holes) == 0 {
		return spans
	}
	sort.Slice(holes, func(i, j int) bool { return holes[i].start.Before(holes[j].start) })
	var out []span
	for _, s := range spans {
		cur := s.start
		for _, h := range holes {
			if !h.end.After(cur) || !h.start.Before(s.end) {
				continue
			}
			if h.start.After(cur) {
				out = append(out, span{cur, h.start})
			}
			cur = maxTime(cur, h.end)
		}
		if s.end.After(cur) {
			out = append(out, span{cur, s.end})
		}
	}
	return out
}

// freeIntervals splits the open spans by occupancy and keeps the parts with
// at least `seats` free. A booking needs its own buffer free after it, so a
// free part that runs into a reservation ends `buffer` earlier.
func freeIntervals(open []span, rs []busy, res *Resource, seats int, buffer time.Duration) []FreeInterval {
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(rs))
	for _, r := range rs {
		n := r.seats
		if r.exclusive || res.Exclusive() {
			n = res.Capacity
		}
		edges = append(edges, edge{r.start, n}, edge{r.end, -n})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta
		}
		return edges[i].at.Before(edges[j].at)
	})
	var out []FreeInterval
	for _, o := range open {
		taken := 0
		k := 0
		for k < len(edges) && !edges[k].at.After(o.start) {
			taken += edges[k].delta
			k++
		}
		cur := o.start
		for cur.Before(o.end) {
			next := o.end
			if k < len(edges) && edges[k].at.Before(o.end) {
				next = edges[k].at
			}
			if free := res.Capacity - taken; free >= seats && next.After(cur) {
				end := next
				if next.Before(o.end) && k < len(edges) && edges[k].delta > 0 && free-edges[k].delta < seats {
					end = next.Add(-buffer) // the next reservation needs our buffer free
				}
				if end.After(cur) {
					if n := len(out); n > 0 && out[n-1].End.Equal(cur) && out[n-1].FreeSeats == free {
						out[n-1].End = end
					} else {
						out = append(out, FreeInterval{Start: cur, End: end, FreeSeats: free})
					}
				}
			}
			for k < len(edges) && edges[k].at.Equal(next) {
				taken += edges[k].delta
				k++
			}
			cur = next
		}
	}
	return out
}

// snap aligns free intervals to the slot grid (local time), clips them to
// [earliest, latest] and drops those shorter than the minimum booking.
func snap(free []FreeInterval, loc *time.Location, rules Rules, earliest, latest time.Time) []FreeInterval {
	slot := time.Duration(rules.SlotMinutes) * time.Minute
	minDur := time.Duration(rules.MinMinutes) * time.Minute
	out := make([]FreeInterval, 0, len(free))
	for _, f := range free {
		s := ceilSlot(maxTime(f.Start, earliest), loc, slot)
		e := floorSlot(minTime(f.End, latest), loc, slot)
		if e.Sub(s) >= minDur {
			out = append(out, FreeInterval{Start: s.UTC(), End: e.UTC(), FreeSeats: f.FreeSeats})
		}
	}
	return out
}

// floorSlot rounds t down to the slot grid counted from local midnight.
func floorSlot(t time.Time, loc *time.Location, slot time.Duration) time.Time {
	l := t.In(loc)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	wall := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second + time.Duration(l.Nanosecond())
	w := wall / slot * slot
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(), int(w/time.Hour), int(w%time.Hour/time.Minute), 0, 0, loc)
}

func ceilSlot(t time.Time, loc *time.Location, slot time.Duration) time.Time {
	f := floorSlot(t, loc, slot)
	if !f.Before(t) {
		return f
	}
	l := f.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute()+int(slot/time.Minute), 0, 0, loc)
}
