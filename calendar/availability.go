package calendar

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
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
// the booking horizon and minimum notice. p must know the site exists.
func (svc *Service) SiteAvailability(ctx context.Context, p *identity.Principal, siteID string, q AvailabilityQuery) ([]Availability, error) {
	site, err := svc.ReadSite(ctx, p, siteID)
	if err != nil {
		return nil, err
	}
	if err := q.check(); err != nil {
		return nil, err
	}
	q.clip(svc.now())
	v, err := svc.siteResources(ctx, site, q.From, q.To)
	if err != nil {
		return nil, err
	}
	rs := make([]Resource, 0, len(v.resources))
	for _, r := range v.resources {
		if q.Kind == "" || r.Kind == q.Kind {
			rs = append(rs, r)
		}
	}
	return svc.availability(site, rs, v, q), nil
}

// ResourceAvailability is SiteAvailability for one resource.
func (svc *Service) ResourceAvailability(ctx context.Context, p *identity.Principal, resourceID string, q AvailabilityQuery) (*Availability, error) {
	res, err := svc.ReadResource(ctx, p, resourceID)
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
	q.clip(svc.now())
	v, err := svc.siteResources(ctx, site, q.From, q.To)
	if err != nil {
		return nil, err
	}
	out := svc.availability(site, []Resource{*res}, v, q)
	if len(out) == 0 {
		return &Availability{Resource: res, Free: []FreeInterval{}}, nil
	}
	return &out[0], nil
}

// clip narrows the query's window to what availability may ever offer:
// from now to the farthest horizon a resource may have. Beyond those
// bounds nothing is free, and instants stay in the range availability
// computes in (Unix nanoseconds, years 1678 to 2262): a window in the year
// 9999 is answered with nothing free, not with wrapped-round instants.
func (q *AvailabilityQuery) clip(now time.Time) {
	farthest := now.AddDate(0, 0, MaxHorizonDays)
	q.From = minTime(maxTime(q.From, now), farthest)
	q.To = minTime(maxTime(q.To, q.From), farthest)
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

func (svc *Service) availability(site *Site, rs []Resource, v *siteView, q AvailabilityQuery) []Availability {
	loc := site.Location()
	now := svc.now()
	siteOpen := map[bool][]span{} // cache of open spans for resources using the site's hours
	out := make([]Availability, 0, len(rs))
	// A resource's free intervals number at most its open spans (about two
	// a day) plus its reservations (each splits one interval in two).
	size, days := 0, int(q.To.Sub(q.From)/(24*time.Hour))+2
	for i := range rs {
		size += 2*days + len(v.edges[rs[i].ID])/2
	}
	arena := make([]FreeInterval, 0, size)
	zone := zoneAround(loc, q.From)
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
		rules := res.Rules.withDefaults(res.Kind)
		var open []span
		if res.OpeningHours == nil {
			if cached, ok := siteOpen[true]; ok {
				open = cached
			} else {
				open = subtract(openSpans(site.OpeningHours, loc, q.From, q.To), v.siteClosed)
				siteOpen[true] = open
			}
		} else {
			open = subtract(openSpans(res.OpeningHours, loc, q.From, q.To), v.siteClosed)
		}
		open = subtract(open, v.closed[res.ID])
		// Members book between now + notice and the horizon.
		earliest := now.Add(time.Duration(rules.MinNoticeMinutes) * time.Minute)
		latest := now.AddDate(0, 0, rules.HorizonDays)
		// Every resource's intervals go into one growing array: one
		// allocation for the site rather than several per resource.
		n := len(arena)
		arena = freeIntervals(arena, open, v.edges[res.ID], now, res, seats, time.Duration(rules.BufferAfterMinutes)*time.Minute)
		free := snap(arena[n:], zone, rules, earliest, latest)
		arena = arena[:n+len(free)]
		out = append(out, Availability{Resource: res, Free: free[:len(free):len(free)]})
	}
	return out
}

// busy is the part of a reservation availability needs, its instants in
// Unix nanoseconds: the sweep over tens of thousands of them compares and
// sorts integers rather than time.Time values.
type busy struct {
	start, end int64 // end is busy_until: the reservation plus its buffer
	holdUntil  int64 // a hold's expiry; 0 for a confirmed reservation or a hold without one
	seats      int
	exclusive  bool
}

// readBusy reads the live (not cancelled) reservations of a site, or of
// some of its resources, overlapping [from, to), grouped by resource. Holds
// are read whatever their expiry: freeIntervals leaves out those lapsed at
// the request's instant, so that the rows can be kept and reused. A busy
// week of a large site is tens of thousands of rows, so it reads only the
// columns needed and allocates nothing per row; on PostgreSQL it scans
// through pgx directly (binary timestamps, no database/sql boxing), on
// SQLite it reads instants as text and parses bun's fixed layout itself.
func (svc *Service) readBusy(ctx context.Context, siteID string, resourceIDs []string, from, to time.Time) (map[string][]busy, error) {
	var g busyGroups
	pg, err := db.WithPgx(ctx, svc.db, func(c *pgx.Conn) error {
		q := `SELECT resource_id, seats, starts_at, busy_until, exclusive, CASE WHEN status = $4 THEN hold_expires_at END
			FROM reservations WHERE site_id = $1 AND status <> $2 AND starts_at < $3 AND busy_until > $5`
		args := []any{pgx.QueryExecModeCacheDescribe, siteID, StatusCancelled, to, StatusHeld, from}
		if resourceIDs != nil {
			q += ` AND resource_id = ANY($6)`
			args = append(args, resourceIDs)
		}
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var (
			rid        pgtype.DriverBytes
			start, end time.Time
			hold       pgtype.Timestamptz
			b          busy
		)
		for rows.Next() {
			if err := rows.Scan(&rid, &b.seats, &start, &end, &b.exclusive, &hold); err != nil {
				return err
			}
			b.start, b.end, b.holdUntil = unixNano(start), unixNano(end), 0
			if hold.Valid {
				b.holdUntil = unixNano(hold.Time)
			}
			g.add(rid, b)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	if pg {
		return g.byResource(), nil
	}
	return svc.readBusySQLite(ctx, siteID, resourceIDs, from, to)
}

// readBusySQLite is readBusy on SQLite: instants are read as text and
// parsed by sqliteInstant, without a time.Time per row.
func (svc *Service) readBusySQLite(ctx context.Context, siteID string, resourceIDs []string, from, to time.Time) (map[string][]busy, error) {
	var g busyGroups
	q := `SELECT resource_id, seats, CAST(starts_at AS TEXT), CAST(busy_until AS TEXT), exclusive,
		CASE WHEN status = ? THEN CAST(hold_expires_at AS TEXT) END
		FROM reservations WHERE site_id = ? AND status <> ? AND starts_at < ? AND busy_until > ?`
	args := []any{StatusHeld, siteID, StatusCancelled, to, from}
	if resourceIDs != nil {
		q += ` AND resource_id IN (?)`
		args = append(args, bun.In(resourceIDs))
	}
	rows, err := svc.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	defer rows.Close()
	var (
		rid, start, end, hold sql.RawBytes
		b                     busy
	)
	for rows.Next() {
		if err := rows.Scan(&rid, &b.seats, &start, &end, &b.exclusive, &hold); err != nil {
			return nil, fmt.Errorf("scan reservation: %w", err)
		}
		if b.start, err = sqliteInstant(start); err != nil {
			return nil, err
		}
		if b.end, err = sqliteInstant(end); err != nil {
			return nil, err
		}
		b.holdUntil = 0
		if hold != nil {
			if b.holdUntil, err = sqliteInstant(hold); err != nil {
				return nil, err
			}
		}
		g.add(rid, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read reservations: %w", err)
	}
	return g.byResource(), nil
}

// Reservations are bounded (MaxHorizonDays), but rows written before the
// bounds may end in the year 9999, past what Unix nanoseconds hold (the
// year 2262): UnixNano wraps round there, and such a reservation would read
// as over long ago, its resource free. unixNano keeps those rows at the
// edge of the range instead, where they still cover every window.
var (
	firstInstant = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	lastInstant  = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func unixNano(t time.Time) int64 {
	switch {
	case t.After(lastInstant):
		return lastInstant.UnixNano()
	case t.Before(firstInstant):
		return firstInstant.UnixNano()
	}
	return t.UnixNano()
}

// sqliteInstant parses an instant as bun writes it on SQLite
// ("2006-01-02 15:04:05.999999-07:00", in UTC) to Unix nanoseconds, by hand
// for that layout and through time.Parse for anything else.
func sqliteInstant(b []byte) (int64, error) {
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	if len(b) >= 25 && b[4] == '-' && b[7] == '-' && b[10] == ' ' && b[13] == ':' && b[16] == ':' && string(b[len(b)-6:]) == "+00:00" {
		y, mo, d, h, mi, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
		frac := b[19 : len(b)-6]
		ns, ok := 0, y >= 0 && mo >= 0 && d >= 0 && h >= 0 && mi >= 0 && sec >= 0
		if len(frac) > 0 {
			ok = ok && frac[0] == '.' && len(frac) >= 2 && len(frac) <= 10
			if ok {
				if ns = num(20, len(frac)-1); ns < 0 {
					ok = false
				}
				for range 10 - len(frac) {
					ns *= 10
				}
			}
		}
		if ok {
			return unixNano(time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)), nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return unixNano(t), nil
		}
	}
	return 0, fmt.Errorf("read reservations: unexpected instant %q", b)
}

// busyGroups groups busy intervals by resource id, converting each id to a
// string once rather than once per row, and laying the groups out in one
// array rather than growing a slice per resource.
type busyGroups struct {
	index map[string]int32
	ids   []string
	rows  []groupedBusy
}

type groupedBusy struct {
	group int32
	busy
}

func (g *busyGroups) add(resourceID []byte, b busy) {
	i, ok := g.index[string(resourceID)] // a lookup by string(bytes) does not allocate
	if !ok {
		if g.index == nil {
			g.index = map[string]int32{}
			g.rows = make([]groupedBusy, 0, 4096)
		}
		id := string(resourceID)
		i = int32(len(g.ids))
		g.index[id] = i
		g.ids = append(g.ids, id)
	}
	g.rows = append(g.rows, groupedBusy{i, b})
}

func (g *busyGroups) byResource() map[string][]busy {
	// Counting sort by group, keeping each group's rows in query order.
	offsets := make([]int, len(g.ids)+1)
	for _, r := range g.rows {
		offsets[r.group+1]++
	}
	for i := 1; i < len(offsets); i++ {
		offsets[i] += offsets[i-1]
	}
	all := make([]busy, len(g.rows))
	next := slices.Clone(offsets[:len(g.ids)])
	for _, r := range g.rows {
		all[next[r.group]] = r.busy
		next[r.group]++
	}
	out := make(map[string][]busy, len(g.ids))
	for i, id := range g.ids {
		out[id] = all[offsets[i]:offsets[i+1]:offsets[i+1]]
	}
	return out
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

// subtract removes holes from sorted, disjoint spans. It does not change
// holes, which may be shared (siteCache).
func subtract(spans, holes []span) []span {
	if len(holes) == 0 {
		return spans
	}
	if !slices.IsSortedFunc(holes, func(a, b span) int { return a.start.Compare(b.start) }) {
		holes = slices.Clone(holes)
		slices.SortFunc(holes, func(a, b span) int { return a.start.Compare(b.start) })
	}
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

// edge is where a reservation starts occupying a resource (+1) or stops
// (-1). A site's edges are sorted once, when read, and kept (siteCache):
// each request then only sweeps them.
type edge struct {
	at        int64 // Unix nanoseconds
	holdUntil int64 // the reservation's hold expiry, 0 if none
	seats     int32
	dir       int8 // +1 arrives, -1 leaves
	exclusive bool
}

// edgesOf returns the edges of rows, sorted by instant, departures before
// arrivals at one instant: intervals are half-open.
func edgesOf(rows []busy) []edge {
	out := make([]edge, 0, 2*len(rows))
	for _, r := range rows {
		out = append(out,
			edge{at: r.start, holdUntil: r.holdUntil, seats: int32(r.seats), dir: +1, exclusive: r.exclusive},
			edge{at: r.end, holdUntil: r.holdUntil, seats: int32(r.seats), dir: -1, exclusive: r.exclusive})
	}
	slices.SortFunc(out, func(a, b edge) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.dir, b.dir)
	})
	return out
}

// freeIntervals splits the open spans by occupancy and keeps the parts with
// at least `seats` free. A booking needs its own buffer free after it, so a
// free part that runs into a reservation ends `buffer` earlier. The edges
// may reach outside the open spans and belong to holds lapsed by now: the
// sweep skips the latter and nets out the former.
//
// It appends the intervals to out and returns it.
func freeIntervals(out []FreeInterval, open []span, edges []edge, now time.Time, res *Resource, seats int, buffer time.Duration) []FreeInterval {
	first := len(out)
	nowNS := now.UnixNano()
	live := func(k int) bool { return edges[k].holdUntil == 0 || edges[k].holdUntil > nowNS }
	delta := func(k int) int {
		e := edges[k]
		n := int(e.seats)
		if e.exclusive || res.Exclusive() {
			n = res.Capacity
		}
		return int(e.dir) * n
	}
	// The open spans are sorted and disjoint: the sweep goes on from one to
	// the next, with taken the seats held at the current point.
	taken, k := 0, 0
	for _, o := range open {
		start, stop := o.start.UnixNano(), o.end.UnixNano()
		for k < len(edges) && edges[k].at <= start {
			if live(k) {
				taken += delta(k)
			}
			k++
		}
		cur := start
		for cur < stop {
			for k < len(edges) && !live(k) && edges[k].at < stop {
				k++
			}
			next := stop
			if k < len(edges) && edges[k].at < stop {
				next = edges[k].at
			}
			if free := res.Capacity - taken; free >= seats && next > cur {
				end := next
				if next < stop && k < len(edges) && delta(k) > 0 && free-delta(k) < seats {
					end = next - int64(buffer) // the next reservation needs our buffer free
				}
				if end > cur {
					if n := len(out); n > first && out[n-1].End.UnixNano() == cur && out[n-1].FreeSeats == free {
						out[n-1].End = time.Unix(0, end).UTC()
					} else {
						out = append(out, FreeInterval{Start: time.Unix(0, cur).UTC(), End: time.Unix(0, end).UTC(), FreeSeats: free})
					}
				}
			}
			for k < len(edges) && edges[k].at == next {
				if live(k) {
					taken += delta(k)
				}
				k++
			}
			cur = next
		}
	}
	return out
}

// snap aligns free intervals to the slot grid (local time), clips them to
// [earliest, latest] and drops those shorter than the minimum booking. It
// works in place: the result shares free's array.
func snap(free []FreeInterval, z zonePeriod, rules Rules, earliest, latest time.Time) []FreeInterval {
	slot := time.Duration(rules.SlotMinutes) * time.Minute
	minDur := time.Duration(rules.MinMinutes) * time.Minute
	out := free[:0]
	for _, f := range free {
		s := z.ceilSlot(maxTime(f.Start, earliest), slot)
		e := z.floorSlot(minTime(f.End, latest), slot)
		if e.Sub(s) >= minDur {
			out = append(out, FreeInterval{Start: s.UTC(), End: e.UTC(), FreeSeats: f.FreeSeats})
		}
	}
	return out
}

// zonePeriod is a span of time in which a location keeps one UTC offset
// (no daylight-saving change): there, rounding to the slot grid is integer
// arithmetic on Unix seconds, where elsewhere it takes calendar arithmetic
// in the location, ten times slower, for every one of a site's thousands
// of free intervals.
type zonePeriod struct {
	loc    *time.Location
	lo, hi int64 // Unix seconds, [lo, hi)
	offset int64 // seconds east of UTC
}

// zoneAround returns the period of loc's offset that holds t.
func zoneAround(loc *time.Location, t time.Time) zonePeriod {
	l := t.In(loc)
	_, off := l.Zone()
	z := zonePeriod{loc: loc, lo: math.MinInt64, hi: math.MaxInt64, offset: int64(off)}
	start, end := l.ZoneBounds()
	if !start.IsZero() {
		z.lo = start.Unix()
	}
	if !end.IsZero() {
		z.hi = end.Unix()
	}
	return z
}

// floorSlot is floorSlot in z.loc, by integer arithmetic when t and the
// slot around it lie in the period.
func (z zonePeriod) floorSlot(t time.Time, slot time.Duration) time.Time {
	u, step := t.Unix(), int64(slot/time.Second)
	if slot%time.Second != 0 || step <= 0 || u-step < z.lo || u+step >= z.hi {
		return floorSlot(t, z.loc, slot)
	}
	wall := (u + z.offset) % 86400 // seconds since local midnight
	if wall < 0 {
		wall += 86400
	}
	r := wall % step
	if r == 0 && t.Nanosecond() == 0 {
		return t
	}
	return time.Unix(u-r, 0).UTC()
}

// ceilSlot is ceilSlot in z.loc, by integer arithmetic where it can.
func (z zonePeriod) ceilSlot(t time.Time, slot time.Duration) time.Time {
	f := z.floorSlot(t, slot)
	if !f.Before(t) {
		return f
	}
	if u, step := f.Unix(), int64(slot/time.Second); slot%time.Second == 0 && u-step >= z.lo && u+2*step < z.hi {
		return f.Add(slot)
	}
	return ceilSlot(t, z.loc, slot)
}

// floorSlot rounds t down to the slot grid counted from local midnight.
func floorSlot(t time.Time, loc *time.Location, slot time.Duration) time.Time {
	l := t.In(loc)
	if h, m, sec := l.Clock(); l.Nanosecond() == 0 && (time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+time.Duration(sec)*time.Second)%slot == 0 {
		return t // already on the grid, the common case: no calendar arithmetic
	}
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
