package calendar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// MaxOccurrences caps a recurring reservation: a year of daily bookings.
const MaxOccurrences = 366

// Series modes.
const (
	AllOrNothing  = "all_or_nothing" // any unavailable occurrence refuses the series
	SkipConflicts = "skip_conflicts" // book what is free, report the rest
)

// Series is a recurring reservation: an RRULE expanded in the site's zone,
// so that 09:00 stays 09:00 across DST changes.
type Series struct {
	bun.BaseModel `bun:"table:reservation_series,alias:rs"`

	ID              string    `bun:"id,pk"`
	ResourceID      string    `bun:"resource_id"`
	UserID          string    `bun:"user_id"`
	RRule           string    `bun:"rrule"`
	FirstStart      time.Time `bun:"first_start"`
	DurationSeconds int64     `bun:"duration_seconds"` // wall-clock length of each occurrence
	Timezone        string    `bun:"timezone"`
	CreatedAt       time.Time `bun:"created_at"`
}

// SeriesBooking asks for a recurring reservation. Booking's Start and End
// are the first occurrence.
type SeriesBooking struct {
	Booking
	RRule string
	Mode  string
}

// Unavailable is an occurrence that could not be booked, and why.
type Unavailable struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Code   string    `json:"code"`
	Detail string    `json:"detail"`
}

// SeriesResult is what booking a series did.
type SeriesResult struct {
	Series  *Series
	Created []*Reservation
	Skipped []Unavailable
	// quotes: each occurrence's answer, in date order, when quoting (see
	// QuoteSeries).
	quotes []OccurrenceQuote
}

// wallDuration is the wall-clock distance from a to b in loc: 09:00–12:00
// is three hours even on a DST day, so every occurrence ends at 12:00.
func wallDuration(a, b time.Time, loc *time.Location) time.Duration {
	asUTC := func(t time.Time) time.Time {
		l := t.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	}
	return asUTC(b).Sub(asUTC(a))
}

// addWall adds a wall-clock duration to t in loc.
func addWall(t time.Time, d time.Duration, loc *time.Location) time.Time {
	l := t.In(loc)
	w := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Add(d)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, loc)
}

// expand returns the starts of the occurrences of rule from first, in loc.
func expand(rule string, first time.Time, loc *time.Location) ([]time.Time, error) {
	raw := strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:")
	opt, err := rrule.StrToROptionInLocation(raw, loc)
	if err != nil {
		return nil, errs.Rule("rrule", "invalid_rrule", "not an RFC 5545 RRULE: %v", err)
	}
	switch opt.Freq {
	case rrule.DAILY, rrule.WEEKLY, rrule.MONTHLY, rrule.YEARLY:
	default:
		return nil, errs.Rule("rrule", "invalid_rrule", "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
	}
	if opt.Count == 0 && opt.Until.IsZero() {
		return nil, errs.Rule("rrule", "unbounded_rrule", "the rule must end: give COUNT or UNTIL")
	}
	if len(opt.Byhour) > 0 || len(opt.Byminute) > 0 || len(opt.Bysecond) > 0 {
		return nil, errs.Rule("rrule", "invalid_rrule", "the time of day comes from start; BYHOUR, BYMINUTE and BYSECOND are not supported")
	}
	// Nobody books more than MaxHorizonDays ahead, so no occurrence may
	// fall later; bounding the iteration there also keeps a rule that
	// matches no date (the 30th of February) from being searched for
	// until the year 9999.
	limit := first.AddDate(0, 0, MaxHorizonDays)
	if !opt.Until.IsZero() && opt.Until.After(limit) {
		return nil, errs.Rule("rrule", "beyond_horizon", "UNTIL must be at most %d days after start", MaxHorizonDays)
	}
	count := opt.Count
	if count > 0 {
		opt.Until = limit
	}
	opt.Dtstart = first.In(loc)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, errs.Rule("rrule", "invalid_rrule", "%v", err)
	}
	next := r.Iterator()
	var starts []time.Time
	for {
		t, ok := next()
		if !ok {
			if count > 0 && len(starts) < count {
				return nil, errs.Rule("rrule", "beyond_horizon", "the %d occurrences must all fall within %d days after start", count, MaxHorizonDays)
			}
			return starts, nil
		}
		if len(starts) == MaxOccurrences {
			return nil, errs.Rule("rrule", "too_many_occurrences", "a series has at most %d occurrences", MaxOccurrences)
		}
		starts = append(starts, t)
	}
}

// BookSeries books every occurrence of a recurring reservation in one
// transaction. In AllOrNothing mode (the default) one unavailable occurrence
// refuses the whole series with a 409 listing them all.
func (svc *Service) BookSeries(ctx context.Context, sb SeriesBooking) (*SeriesResult, error) {
	if err := checkSeriesBooking(&sb); err != nil {
		return nil, err
	}
	var out *SeriesResult
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		ps, err := svc.prepareSeries(ctx, tx, &sb)
		if err != nil {
			return err
		}
		out, err = svc.bookOccurrences(ctx, tx, ps.res, ps.site, sb, ps.series, ps.starts, ps.length)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkSeriesBooking checks the mode and kind of sb, the mode defaulting
// to AllOrNothing.
func checkSeriesBooking(sb *SeriesBooking) error {
	if sb.Mode == "" {
		sb.Mode = AllOrNothing
	}
	if sb.Mode != AllOrNothing && sb.Mode != SkipConflicts {
		return errs.Invalid("mode", "must be %s or %s", AllOrNothing, SkipConflicts)
	}
	if sb.Kind == ReservationBlock {
		return errs.Invalid("kind", "a series is a member's booking")
	}
	return nil
}

// preparedSeries is a series written and its occurrences expanded, ready
// to book.
type preparedSeries struct {
	res    *Resource
	site   *Site
	series *Series
	starts []time.Time
	length time.Duration
}

// prepareSeries takes the resource's lock, decides who may book sb (which
// it completes, see authorizeBooking), expands its occurrences and writes
// the series, in tx.
func (svc *Service) prepareSeries(ctx context.Context, tx bun.Tx, sb *SeriesBooking) (*preparedSeries, error) {
	// One lock for every occurrence: they are all of one resource.
	if err := lockResource(ctx, tx, sb.ResourceID); err != nil {
		return nil, err
	}
	res, err := getResource(ctx, tx, sb.ResourceID, true)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errNoSuchResource() // named in the request body: a field at fault
	}
	if err != nil {
		return nil, err
	}
	// The rule of single bookings: who for, API keys, the note.
	if err := authorizeBooking(res, &sb.Booking); err != nil {
		return nil, err
	}
	site, err := getSite(ctx, tx, res.SiteID)
	if err != nil {
		return nil, err
	}
	if err := svc.expireOverdueHolds(ctx, tx, res); err != nil {
		return nil, err
	}
	first, length, starts, err := seriesOccurrences(res, site, *sb)
	if err != nil {
		return nil, err
	}
	series := &Series{ID: id.New(), ResourceID: res.ID, UserID: sb.UserID, RRule: strings.TrimPrefix(strings.TrimSpace(sb.RRule), "RRULE:"),
		FirstStart: first, DurationSeconds: int64(length / time.Second), Timezone: site.Timezone, CreatedAt: svc.now()}
	if _, err := tx.NewInsert().Model(series).Exec(ctx); err != nil {
		if db.IsForeignKey(err) {
			return nil, errs.Invalid("user_id", "no such user")
		}
		return nil, fmt.Errorf("insert series: %w", err)
	}
	return &preparedSeries{res: res, site: site, series: series, starts: starts, length: length}, nil
}

// seriesOccurrences reads the first occurrence of sb in the site's time
// zone and checks what holds for every occurrence alike, so that a refusal
// names the field at fault once rather than each occurrence: seats, and a
// length within the resource's maximum. It returns the first start, the
// wall-clock length of each occurrence and every occurrence's start.
func seriesOccurrences(res *Resource, site *Site, sb SeriesBooking) (first time.Time, length time.Duration, starts []time.Time, err error) {
	loc := site.Location()
	first, err = ResolveTime("start", sb.Start, loc)
	if err != nil {
		return time.Time{}, 0, nil, err
	}
	firstEnd, err := ResolveTime("end", sb.End, loc)
	if err != nil {
		return time.Time{}, 0, nil, err
	}
	if !firstEnd.After(first) {
		return time.Time{}, 0, nil, errs.Rule("end", "end_before_start", "end must be after start")
	}
	// Every occurrence has the first one's length and seats: too long or
	// too many for one is for all, and says so about the field at fault.
	if _, err := checkSeats(res, sb.Booking); err != nil {
		return time.Time{}, 0, nil, err
	}
	if maxMinutes := res.Rules.withDefaults(res.Kind).MaxMinutes; firstEnd.Sub(first) > time.Duration(maxMinutes)*time.Minute {
		return time.Time{}, 0, nil, errs.Rule("end", "too_long", "a booking lasts at most %d minutes", maxMinutes)
	}
	length = wallDuration(first, firstEnd, loc)
	starts, err = expand(sb.RRule, first, loc)
	if err != nil {
		return time.Time{}, 0, nil, err
	}
	if len(starts) == 0 {
		return time.Time{}, 0, nil, errs.Rule("rrule", "no_occurrences", "the rule has no occurrence from start on")
	}
	return first, length, starts, nil
}

// bookOccurrences books each occurrence of series inside tx, and reports
// those it could not book. In AllOrNothing mode any of those, and in
// SkipConflicts mode all of them, refuse the whole series (409): the
// caller's transaction then books nothing.
func (svc *Service) bookOccurrences(ctx context.Context, tx bun.Tx, res *Resource, site *Site, sb SeriesBooking,
	series *Series, starts []time.Time, length time.Duration) (*SeriesResult, error) {
	out, err := svc.tryOccurrences(ctx, tx, res, site, sb, series, starts, length)
	if err != nil {
		return nil, err
	}
	if err := seriesRefusal(out, sb.Mode, len(starts)); err != nil {
		return nil, err
	}
	for _, r := range out.Created {
		if err := svc.publish(ctx, tx, EventReservationCreated, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// tryOccurrences books each occurrence of series inside tx, and lists
// those it could not book. When sb is quoted (sb.quote), it also keeps
// each occurrence's price or refusal.
func (svc *Service) tryOccurrences(ctx context.Context, tx bun.Tx, res *Resource, site *Site, sb SeriesBooking,
	series *Series, starts []time.Time, length time.Duration) (*SeriesResult, error) {
	loc := site.Location()
	out := &SeriesResult{Series: series}
	for _, start := range starts {
		end := addWall(start, length, loc)
		b := sb.Booking
		b.Start, b.End = start.Format(time.RFC3339), end.Format(time.RFC3339)
		if sb.quote != nil {
			b.quote = &quoteRun{} // this occurrence's own price
		}
		r, err := svc.bookChecked(ctx, tx, res, site, b, &series.ID)
		var p *errs.Problem
		var ve *errs.ValidationError
		switch {
		case err == nil:
			out.Created = append(out.Created, r)
		case errors.As(err, &p):
			out.Skipped = append(out.Skipped, Unavailable{Start: start.UTC(), End: end.UTC(), Code: p.Code, Detail: p.Detail})
		case errors.As(err, &ve):
			out.Skipped = append(out.Skipped, Unavailable{Start: start.UTC(), End: end.UTC(), Code: "invalid", Detail: ve.Error()})
		default:
			return nil, err
		}
		if sb.quote != nil {
			oq := OccurrenceQuote{Start: start.UTC(), End: end.UTC(), Refusal: err, CancellationDeadline: cancelDeadline(start, res)}
			if err == nil {
				oq.Price = priceOf(b.quote)
			}
			out.quotes = append(out.quotes, oq)
		}
	}
	return out, nil
}

// seriesRefusal is the refusal of a series of which out could not book
// out.Skipped: any of them in AllOrNothing mode, all of them otherwise.
func seriesRefusal(out *SeriesResult, mode string, occurrences int) error {
	if len(out.Skipped) > 0 && (mode == AllOrNothing || len(out.Created) == 0) {
		p := errs.Problemf(errs.ErrConflict, "occurrences_unavailable", "%d of %d occurrences cannot be booked; nothing was booked", len(out.Skipped), occurrences)
		p.Extra = map[string]any{"unavailable": out.Skipped}
		return p
	}
	return nil
}

// bookChecked books one occurrence inside tx with a savepoint-free check
// order: rules first, then overlap, then insert.
func (svc *Service) bookChecked(ctx context.Context, tx bun.Tx, res *Resource, site *Site, b Booking, seriesID *string) (*Reservation, error) {
	s, err := svc.checkSlot(ctx, tx, res, site, b)
	if err != nil {
		return nil, err
	}
	return svc.insertReservation(ctx, tx, s, b, seriesID)
}

// lockSeries takes the lock of a series' resource (see reservationLocks),
// before its occurrences are read to be changed. An unknown series has
// nothing to lock, and no occurrences.
func lockSeries(ctx context.Context, tx bun.IDB, seriesID string) error {
	if !id.Valid(seriesID) {
		return nil
	}
	var resourceIDs []string
	if err := tx.NewSelect().Model((*Series)(nil)).Column("resource_id").Where("id = ?", seriesID).Scan(ctx, &resourceIDs); err != nil {
		return fmt.Errorf("read series: %w", err)
	}
	for _, resourceID := range resourceIDs {
		if err := lockResource(ctx, tx, resourceID); err != nil {
			return err
		}
	}
	return nil
}

// GetSeries returns a series p may see (see maySeeSeries) and its
// occurrences, by start.
func (svc *Service) GetSeries(ctx context.Context, p *identity.Principal, seriesID string) (*Series, []Reservation, error) {
	s, _, err := seriesFor(ctx, svc.db, p, seriesID, false)
	if err != nil {
		return nil, nil, err
	}
	var rs []Reservation
	if err := svc.db.NewSelect().Model(&rs).Where("series_id = ?", seriesID).Order("starts_at").Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("list occurrences: %w", err)
	}
	return s, rs, nil
}

// seriesFor reads a series p may see, or to change with write, and
// reports whether p manages its site's reservations.
func seriesFor(ctx context.Context, idb bun.IDB, p *identity.Principal, seriesID string, write bool) (*Series, bool, error) {
	if !id.Valid(seriesID) {
		return nil, false, errSeriesNotFound
	}
	var s Series
	if err := idb.NewSelect().Model(&s).Where("id = ?", seriesID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, false, errSeriesNotFound
		}
		return nil, false, fmt.Errorf("get series: %w", err)
	}
	res, err := getResource(ctx, idb, s.ResourceID, false)
	if err != nil {
		return nil, false, err
	}
	manager, err := maySeeSeries(p, &s, res.SiteID, write)
	if err != nil {
		return nil, false, err
	}
	return &s, manager, nil
}

var errSeriesNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "series_not_found", Detail: "no such series"}

// CancelSeries cancels the occurrences of a series that start at or after
// from (zero: every occurrence not yet over): "this and following". p is
// the series' member or one of the site's managers (see maySeeSeries).
func (svc *Service) CancelSeries(ctx context.Context, p *identity.Principal, seriesID string, from time.Time, reason string) ([]*Reservation, error) {
	out := []*Reservation{}
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockSeries(ctx, tx, seriesID); err != nil {
			return err
		}
		series, _, err := seriesFor(ctx, tx, p, seriesID, true)
		if err != nil {
			return err
		}
		actor := seriesActor(p, series)
		var rs []Reservation
		q := tx.NewSelect().Model(&rs).Where("series_id = ? AND status <> ? AND ends_at > ?", seriesID, StatusCancelled, svc.now()).Order("starts_at")
		if !from.IsZero() {
			q = q.Where("starts_at >= ?", from)
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("read occurrences: %w", err)
		}
		for i := range rs {
			r, err := svc.cancel(ctx, tx, &rs[i], actor, reason)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// MoveSeries moves the occurrences from `from` on (zero: all not yet
// started) to new local wall-clock times on their own dates, e.g. from
// 09:00–12:00 to 10:00–13:00. All or nothing. p is the series' member or
// one of the site's managers (see maySeeSeries).
func (svc *Service) MoveSeries(ctx context.Context, p *identity.Principal, seriesID string, from time.Time, startClock, endClock string) ([]*Reservation, error) {
	// Whoever may not see the series learns nothing more, not even that
	// the times are malformed.
	if _, _, err := seriesFor(ctx, svc.db, p, seriesID, true); err != nil {
		return nil, err
	}
	startMin, ok1 := parseClock(startClock)
	endMin, ok2 := parseClock(endClock)
	var v errs.Validator
	v.Check(ok1 && startMin < 24*60, "start_time", "must be HH:MM")
	v.Check(ok2, "end_time", "must be HH:MM")
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := []*Reservation{}
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockSeries(ctx, tx, seriesID); err != nil {
			return err
		}
		series, manager, err := seriesFor(ctx, tx, p, seriesID, true)
		if err != nil {
			return err
		}
		rs, err := svc.occurrencesToMove(ctx, tx, seriesID, from)
		if err != nil || len(rs) == 0 {
			return err // or nothing left to move
		}
		res, err := getResource(ctx, tx, rs[0].ResourceID, true)
		if err != nil {
			return err
		}
		site, err := getSite(ctx, tx, res.SiteID)
		if err != nil {
			return err
		}
		loc := site.Location()
		actor := seriesActor(p, series)
		var unavailable []Unavailable
		for i := range rs {
			r := &rs[i]
			b := Booking{By: p, ResourceID: r.ResourceID, actorID: actor, manager: manager, Seats: r.Seats}
			b.Start, b.End = occurrenceWallTimes(r, loc, startMin, endMin)
			if r.UserID != nil {
				b.UserID = *r.UserID
			}
			u, err := svc.moveOccurrence(ctx, tx, res, site, r, b)
			if err != nil {
				return err
			}
			if u != nil {
				unavailable = append(unavailable, *u)
				continue
			}
			out = append(out, r)
		}
		if len(unavailable) > 0 {
			p := errs.Problemf(errs.ErrConflict, "occurrences_unavailable", "%d occurrences cannot move; nothing was moved", len(unavailable))
			p.Extra = map[string]any{"unavailable": unavailable}
			return p
		}
		return nil
	})
	return out, err
}

// occurrencesToMove reads the confirmed occurrences of a series not yet
// started, from `from` on (zero: all of them), in order: those MoveSeries
// moves.
func (svc *Service) occurrencesToMove(ctx context.Context, tx bun.Tx, seriesID string, from time.Time) ([]Reservation, error) {
	var rs []Reservation
	q := tx.NewSelect().Model(&rs).Where("series_id = ? AND status = ? AND starts_at > ?", seriesID, StatusConfirmed, svc.now()).Order("starts_at")
	if !from.IsZero() {
		q = q.Where("starts_at >= ?", from)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read occurrences: %w", err)
	}
	return rs, nil
}

// occurrenceWallTimes are the local wall-clock start and end, as booking
// input, of r moved to startMin–endMin (minutes since local midnight) on
// its own date; an end at or before the start is the next day's.
func occurrenceWallTimes(r *Reservation, loc *time.Location, startMin, endMin int) (start, end string) {
	l := r.StartsAt.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	wall := func(m int) string { return day.Add(time.Duration(m) * time.Minute).Format("2006-01-02T15:04") }
	endWall := wall(endMin)
	if endMin <= startMin {
		endWall = day.AddDate(0, 0, 1).Add(time.Duration(endMin) * time.Minute).Format("2006-01-02T15:04")
	}
	return wall(startMin), endWall
}

// moveOccurrence moves r to the slot of b inside tx, its entitlement
// released and checked again by the guard. A slot that cannot be had (a
// rule, the guard, a slot just taken) comes back as what is unavailable
// rather than as an error, so that MoveSeries reports every one; the
// transaction is then rolled back.
func (svc *Service) moveOccurrence(ctx context.Context, tx bun.Tx, res *Resource, site *Site, r *Reservation, b Booking) (*Unavailable, error) {
	s, err := svc.checkSlot(ctx, tx, res, site, b)
	if err == nil {
		err = svc.checkFree(ctx, tx, s, r.ID)
	}
	var p *errs.Problem
	if errors.As(err, &p) {
		return &Unavailable{Start: r.StartsAt, End: r.EndsAt, Code: p.Code, Detail: p.Detail}, nil
	}
	if err != nil {
		return nil, err
	}
	oldStart, oldBusy := r.StartsAt, r.BusyUntil
	if err := svc.guard.ReleaseBooking(ctx, tx, r, false); err != nil {
		return nil, err
	}
	r.StartsAt, r.EndsAt, r.BusyUntil, r.UpdatedAt = s.start, s.end, s.busy, svc.now()
	if err := svc.guard.CheckBooking(ctx, tx, r, res, site); err != nil {
		if errors.As(err, &p) {
			return &Unavailable{Start: r.StartsAt, End: r.EndsAt, Code: p.Code, Detail: p.Detail}, nil
		}
		return nil, err
	}
	if _, err := tx.NewUpdate().Model(r).Column("starts_at", "ends_at", "busy_until", "updated_at").WherePK().Exec(ctx); err != nil {
		if db.IsExclusion(err) {
			return &Unavailable{Start: r.StartsAt, End: r.EndsAt, Code: "slot_taken", Detail: "this slot was just taken"}, nil
		}
		return nil, fmt.Errorf("move occurrence: %w", err)
	}
	if err := svc.offerFreed(ctx, tx, res, oldStart, oldBusy); err != nil {
		return nil, err
	}
	if err := svc.publish(ctx, tx, EventReservationUpdated, r); err != nil {
		return nil, err
	}
	return nil, nil
}
