package calendar

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/idempotency"
)

// Reservation kinds and statuses.
const (
	ReservationBooking = "booking" // a member's booking
	ReservationBlock   = "block"   // a manager's block (maintenance): takes the whole resource

	StatusConfirmed = "confirmed"
	StatusHeld      = "held" // offered to the first of a waiting list, until accepted or expired
	StatusCancelled = "cancelled"
)

// Reservation holds a resource (or some seats of a zone) over [Start, End).
// BusyUntil is End plus the resource's buffer: the interval other
// reservations may not overlap.
type Reservation struct {
	bun.BaseModel `bun:"table:reservations,alias:rv"`

	ID            string     `bun:"id,pk"`
	ResourceID    string     `bun:"resource_id"`
	SiteID        string     `bun:"site_id"`
	UserID        *string    `bun:"user_id"`
	Kind          string     `bun:"kind"`
	Status        string     `bun:"status"`
	Exclusive     bool       `bun:"exclusive"`
	Seats         int        `bun:"seats"`
	StartsAt      time.Time  `bun:"starts_at"`
	EndsAt        time.Time  `bun:"ends_at"`
	BusyUntil     time.Time  `bun:"busy_until"`
	Note          string     `bun:"note"`
	SeriesID      *string    `bun:"series_id"`
	CreatedBy     string     `bun:"created_by"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
	HoldExpiresAt *time.Time `bun:"hold_expires_at"`
	CancelledAt   *time.Time `bun:"cancelled_at"`
	CancelledBy   *string    `bun:"cancelled_by"`
	CancelReason  string     `bun:"cancel_reason"`
	LateCancel    bool       `bun:"late_cancel"`
	// CheckedInAt: when the member arrived (see CheckIn); CheckedInBy who
	// recorded it (the member, a manager, or the member through a door).
	CheckedInAt *time.Time `bun:"checked_in_at"`
	CheckedInBy *string    `bun:"checked_in_by"`
}

// Booking is a request to reserve a resource.
type Booking struct {
	// By is who asks. The calendar decides from it and the resource's site
	// what they may book (see authorizeBooking); jobs pass identity.System().
	By         *identity.Principal
	ResourceID string
	// UserID is the member the reservation is for, when By books on their
	// behalf (a manager, an API key, the system); empty: By themselves.
	UserID string
	Kind   string // ReservationBooking (default) or ReservationBlock
	Start  string // RFC 3339, or local wall-clock time of the site
	End    string
	Seats  int
	Note   string
	// Claim, when set, is the request's Idempotency-Key, taken first in the
	// booking transaction and completed last in it with Response(r): the
	// key, the reservation and the answer to replay commit together.
	Claim    *idempotency.Claim
	Response func(r *Reservation) idempotency.Record

	// Set by authorizeBooking: who is accountable for the reservation, and
	// whether they manage the resource's site (managers may book resources
	// members may not, and are not held to horizon and notice).
	actorID string
	manager bool
	// quote, set by Quote: the booking is priced (Pricer) rather than
	// merely checked, and rolled back.
	quote *quoteRun
}

// Guard is asked inside the booking transaction whether the member may make
// this reservation (and consumes what it costs); billing implements it. A
// nil Guard allows everything. CheckBooking gets the resource's site as the
// booking read it (current when the reservation goes in), so as not to
// read it again.
type Guard interface {
	CheckBooking(ctx context.Context, tx bun.IDB, r *Reservation, res *Resource, site *Site) error
	ReleaseBooking(ctx context.Context, tx bun.IDB, r *Reservation, late bool) error
}

// Conflict describes what a refused reservation collides with, without
// saying who holds it.
type Conflict struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func conflictProblem(c Conflict, format string, args ...any) *errs.Problem {
	p := errs.Problemf(errs.ErrConflict, "slot_taken", format, args...)
	p.Extra = map[string]any{"conflict": c}
	return p
}

// slot is a checked, resolved interval on a resource.
type slot struct {
	res   *Resource
	site  *Site
	start time.Time
	end   time.Time
	busy  time.Time
	seats int
	// closuresPending: the closures are left to insertReservation, which
	// checks them in the same statement as the overlap and the insert.
	closuresPending bool
	// cached: res and site came from the cache; insertIfFree checks that
	// they are current (see resourceCache).
	cached bool
}

// Book reserves a resource. It checks every rule, then, under the
// resource's lock (PostgreSQL) or the database write lock (SQLite), that
// nothing overlaps; PostgreSQL's exclusion constraint backs that up.
func (svc *Service) Book(ctx context.Context, b Booking) (*Reservation, error) {
	if r, err := svc.bookInOneStatement(ctx, b); !errors.Is(err, errNotInOneStatement) {
		return r, err
	}
	var out *Reservation
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		// The resource's lock before the key's: a duplicate of this request
		// on the one-statement path takes them in that order too.
		if err := lockResource(ctx, tx, b.ResourceID); err != nil {
			return err
		}
		if b.Claim != nil {
			if err := b.Claim.Take(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if out, err = svc.book(ctx, tx, b, nil); err != nil {
			return err
		}
		if err := svc.publish(ctx, tx, EventReservationCreated, out); err != nil {
			return err
		}
		if b.Claim != nil {
			return b.Claim.Complete(ctx, tx, b.Response(out))
		}
		return nil
	})
	return out, err
}

// reservationLocks holds one lock per resource (db.LockSpace): every
// transaction that writes reservations of a resource — a booking, a series,
// a move, a cancellation, a waiting list's hold — takes its resource's lock
// first, before any row lock. Racing writers of one resource then queue
// for a moment rather than meet in PostgreSQL's exclusion constraint, where
// concurrent inserts of overlapping reservations wait for each other: a
// deadlock, which PostgreSQL breaks only after deadlock_timeout (a second),
// failing some of them. Writers of different resources never wait for
// each other. A transaction writes the reservations of one resource only (a
// series is of one resource), so it holds one of these locks; the one
// exception, a move to another resource, takes its two in the order of
// the resources' ids (lockReservationAndTarget), so no two transactions
// wait for each other's.
const reservationLocks db.LockSpace = 725_613_180

// lockResource takes the lock of resourceID's reservations until tx ends.
func lockResource(ctx context.Context, tx bun.IDB, resourceID string) error {
	return reservationLocks.Lock(ctx, tx, resourceID)
}

// lockReservation takes the lock of a reservation's resource, then reads
// the reservation afresh, its row locked.
func lockReservation(ctx context.Context, tx bun.IDB, reservationID string) (*Reservation, error) {
	r, err := getReservation(ctx, tx, reservationID, false)
	if err != nil {
		return nil, err
	}
	if err := lockResource(ctx, tx, r.ResourceID); err != nil {
		return nil, err
	}
	return getReservation(ctx, tx, reservationID, true)
}

// lockReservationAndTarget is lockReservation for a move to the resource
// target: it takes the locks of both resources, in the order of their ids,
// so that two moves crossing between the same two resources queue instead
// of deadlocking. This is the one transaction that holds two resources'
// locks (see reservationLocks). A reservation moved to another resource
// between its first read and the locks is answered as a conflict: the
// caller reads it again.
func lockReservationAndTarget(ctx context.Context, tx bun.IDB, reservationID, target string) (*Reservation, error) {
	r, err := getReservation(ctx, tx, reservationID, false)
	if err != nil {
		return nil, err
	}
	first, second := r.ResourceID, target
	if second < first {
		first, second = second, first
	}
	if err := lockResource(ctx, tx, first); err != nil {
		return nil, err
	}
	if second != first {
		if err := lockResource(ctx, tx, second); err != nil {
			return nil, err
		}
	}
	locked, err := getReservation(ctx, tx, reservationID, true)
	if err != nil {
		return nil, err
	}
	if locked.ResourceID != r.ResourceID {
		return nil, errs.Problemf(errs.ErrConflict, "reservation_changed", "the reservation was moved meanwhile: read it again")
	}
	return locked, nil
}

// errNotInOneStatement: bookInOneStatement did not apply or did not
// succeed; the step-by-step path decides (and says why).
var errNotInOneStatement = errors.New("not bookable in one statement")

// bookInOneStatement is the common case of Book on PostgreSQL: a member's
// booking of an exclusive resource known to the cache, with an
// Idempotency-Key. It is one statement: take the resource's lock, insert
// the reservation if the slot is free and the cached rows current, and the
// key with its answer if the reservation went in. A key already taken, by a
// finished request or a concurrent one, breaks the key's unique index and
// so undoes the whole statement. The event goes into the statement too
// when the publisher can stage it (events.Stager, as serve's jobs
// publisher does): its jobs are written only with the reservation. With no
// guard to consult, no release job and no event to publish apart, the
// statement commits alone (one round trip); otherwise the guard's
// statements and the rest join it in a transaction, under the lock.
//
// The lock is taken inside the statement so as to cost no round trip, and
// so after the statement's snapshot: a booking that waited for it does not
// see the reservation its predecessor has just committed, inserts its own,
// and meets that one in the exclusion constraint. A committed conflict
// fails at once (it is only a reservation still being written that the
// constraint waits for, and whoever writes one holds the lock); the
// step-by-step path then locks first and answers on fresh rows.
// Anything but one reservation and one key — a rule refusing on cached
// data, a taken slot, a known key, a concurrent insert — leaves nothing
// written and is errNotInOneStatement, for the step-by-step path to decide
// on fresh rows.
func (svc *Service) bookInOneStatement(ctx context.Context, b Booking) (*Reservation, error) {
	if b.Claim == nil || db.IsSQLite(svc.db) || (b.Kind != "" && b.Kind != ReservationBooking) {
		return nil, errNotInOneStatement
	}
	res, site, _ := svc.resources.get(b.ResourceID)
	if res == nil || !res.Exclusive() {
		return nil, errNotInOneStatement
	}
	// The event goes into the statement when the publisher can stage it
	// (events.Stager); otherwise it is published after, in a transaction.
	stager, stages := svc.events.(events.Stager)
	// A transaction is needed for the guard's statements, for a release
	// job (which must commit with the reservation), and for an event
	// published apart. Without one the booking is one round trip.
	inTx := svc.guarded || res.Rules.ReleaseUncheckedAfterMinutes > 0 || (svc.events != events.Discard && !stages)
	var out *Reservation
	book := func(ctx context.Context, idb bun.IDB) error {
		if err := authorizeBooking(res, &b); err != nil {
			return errNotInOneStatement
		}
		s, err := svc.checkSlotRules(ctx, idb, res, site, b, false)
		if err != nil {
			return errNotInOneStatement
		}
		r := svc.newReservation(s, b, nil)
		ins, insArgs := insertIfFreeSQL(idb, r, &versions{resource: res.Version, site: site.Version}, true)
		answer, answerArgs, err := b.Claim.AnswerInsert(b.Response(r), "ins")
		if err != nil {
			return err
		}
		created := svc.event(EventReservationCreated, r)
		var staged string
		var stagedArgs []any
		publishApart := !stages
		if stages {
			var ok bool
			if staged, stagedArgs, ok, err = stager.Stage(created, "ins"); err != nil {
				return err
			}
			publishApart = !ok
			if publishApart && !inTx {
				return errNotInOneStatement // not stageable this time, and no transaction to publish it in
			}
		}
		// A prepared statement (pgx caches it per connection): the text is
		// the same for every booking of a kind, and PostgreSQL then plans it
		// once rather than on every booking. A data-modifying expression
		// runs whether or not the SELECT reads it: staged writes the event
		// for each row ins returns, so only with the reservation.
		var inserted, fresh int
		with := `WITH ins AS (` + ins + ` RETURNING 1), answer AS (` + answer + `)`
		if staged != "" {
			with += `, staged AS (` + staged + `)`
		}
		q := db.NumberPlaceholders(with + `
			SELECT (SELECT COUNT(*) FROM ins), (SELECT COUNT(*) FROM answer)`)
		args := append([]any{pgx.QueryExecModeCacheStatement}, insArgs...)
		args = append(append(args, answerArgs...), stagedArgs...)
		// db.Raw: the statement is numbered for pgx, and bun's own
		// formatting must not touch it.
		err = db.Raw(idb).QueryRowContext(ctx, q, args...).Scan(&inserted, &fresh)
		if db.IsExclusion(err) || db.IsUnique(err) || errors.Is(db.Classify(err), db.ErrSerialization) {
			return errNotInOneStatement // a booking committed while this one waited for the lock, a concurrent or known key
		}
		if err != nil {
			return fmt.Errorf("insert reservation: %w", err)
		}
		if inserted != 1 || fresh != 1 {
			return errNotInOneStatement // nothing was written: the key goes in only with the reservation
		}
		// A refusal rolls back the reservation and the key together.
		if err := svc.guard.CheckBooking(ctx, idb, r, s.res, s.site); err != nil {
			return err
		}
		if err := svc.scheduleRelease(ctx, idb, r, s.res); err != nil {
			return err
		}
		if publishApart {
			if err := svc.events.Publish(ctx, idb, created); err != nil {
				return err
			}
		}
		out = r
		return nil
	}
	var err error
	if !inTx {
		err = book(ctx, svc.db)
	} else {
		err = db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error { return book(ctx, tx) })
	}
	if err != nil {
		return nil, err
	}
	b.Claim.Stored()
	return out, nil
}

// book runs inside tx; seriesID ties an occurrence to its series.
func (svc *Service) book(ctx context.Context, tx bun.Tx, b Booking, seriesID *string) (*Reservation, error) {
	res, site, gen := svc.resources.get(b.ResourceID)
	if res != nil && res.Exclusive() && (b.Kind == "" || b.Kind == ReservationBooking) {
		// An exclusive booking goes through insertIfFree, which checks that
		// the cached rows are current. A refusal on cached data, or rows
		// found changed, is decided again below on fresh data.
		r, err := svc.bookOn(ctx, tx, res, site, b, seriesID, true)
		if err == nil || !errors.Is(err, errStaleResource) && !errors.Is(err, errRefusedOnCache) {
			return r, err
		}
		svc.resources.forget(b.ResourceID)
	}
	res, site, err := getResourceAndSite(ctx, tx, b.ResourceID)
	if errors.Is(err, errs.ErrNotFound) {
		// The resource is named in the request body: a field at fault.
		return nil, errNoSuchResource()
	}
	if err != nil {
		return nil, err
	}
	if res.Exclusive() {
		svc.resources.put(gen, res, site)
	}
	return svc.bookOn(ctx, tx, res, site, b, seriesID, false)
}

var (
	// errStaleResource: the cached resource or site changed since it was read.
	errStaleResource = errors.New("cached resource or site changed")
	// errRefusedOnCache: a rule refused the booking on cached data.
	errRefusedOnCache = errors.New("refused on cached resource")
)

// bookOn checks and inserts a booking of res. With cached, res and site
// come from the cache: a refusal before the insert is errRefusedOnCache
// (wrapping the reason), and insertIfFree checks they are current.
func (svc *Service) bookOn(ctx context.Context, tx bun.Tx, res *Resource, site *Site, b Booking, seriesID *string, cached bool) (*Reservation, error) {
	if err := authorizeBooking(res, &b); err != nil {
		if cached {
			return nil, fmt.Errorf("%w: %w", errRefusedOnCache, err)
		}
		return nil, err
	}
	s, err := svc.checkSlotRules(ctx, tx, res, site, b, false)
	if err != nil {
		if cached {
			return nil, fmt.Errorf("%w: %w", errRefusedOnCache, err)
		}
		return nil, err
	}
	s.cached = cached
	return svc.insertReservation(ctx, tx, s, b, seriesID)
}

func (svc *Service) insertReservation(ctx context.Context, tx bun.Tx, s *slot, b Booking, seriesID *string) (*Reservation, error) {
	r := svc.newReservation(s, b, seriesID)
	inserted := false
	if r.Exclusive && r.Kind == ReservationBooking {
		// The common case in one statement: insert unless a closure or
		// another reservation overlaps. When it inserts nothing, the
		// checks below run again one by one to say why (or to end a lapsed
		// hold); the exclusion constraint stays the last word.
		var current *versions
		if s.cached {
			current = &versions{resource: s.res.Version, site: s.site.Version}
		}
		ok, err := insertIfFree(ctx, tx, r, current)
		if err != nil {
			return nil, insertError(err, s)
		}
		inserted = ok
		if !ok && s.cached {
			if fresh, err := versionsCurrent(ctx, tx, s.res.ID, s.site.ID, *current); err != nil {
				return nil, err
			} else if !fresh {
				return nil, errStaleResource
			}
		}
	}
	if !inserted {
		if err := svc.checkCanInsert(ctx, tx, s); err != nil {
			return nil, err
		}
		if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
			return nil, insertError(err, s)
		}
	}
	// After the insert, so that what the booking consumes can refer to it;
	// a refusal rolls both back.
	if r.Kind == ReservationBooking {
		if err := svc.guardBooking(ctx, tx, b, r, s.res, s.site); err != nil {
			// Series and waiting lists go on after a refusal in the same
			// transaction: the refused row must not stay behind.
			if _, derr := tx.NewDelete().Model(r).WherePK().Exec(ctx); derr != nil {
				return nil, fmt.Errorf("undo refused reservation: %w", derr)
			}
			return nil, err
		}
	}
	if err := svc.scheduleRelease(ctx, tx, r, s.res); err != nil {
		return nil, err
	}
	return r, nil
}

// checkCanInsert checks, one query at a time, what insertIfFree checks in
// one statement, and says what is in the way.
func (svc *Service) checkCanInsert(ctx context.Context, tx bun.Tx, s *slot) error {
	if s.closuresPending {
		if err := svc.checkClosures(ctx, tx, s.res, s.site, s.start, s.end); err != nil {
			return err
		}
	}
	err := svc.checkFree(ctx, tx, s, "")
	if errors.Is(err, errLapsedHold) {
		// A waiting-list offer lapsed and its job has not run yet: end it
		// now (which may offer the slot to the next in line) and look again.
		if err := svc.expireOverdueHolds(ctx, tx, s.res); err != nil {
			return err
		}
		err = svc.checkFree(ctx, tx, s, "")
	}
	return err
}

func insertError(err error, s *slot) error {
	if db.IsExclusion(err) || errors.Is(db.Classify(err), db.ErrSerialization) {
		// A concurrent booking committed between our check and insert, or
		// several inserted overlapping rows at once and PostgreSQL broke
		// their deadlock by failing some. Under the resource's lock neither
		// happens; a writer that does not take it (an older replica during
		// an upgrade) still gets the conflict, not an error.
		return conflictProblem(Conflict{Start: s.start, End: s.busy}, "this slot was just taken")
	}
	if db.IsForeignKey(err) {
		return errs.Invalid("user_id", "no such user")
	}
	return fmt.Errorf("insert reservation: %w", err)
}

// insertIfFreeSQL is the statement of insertIfFree. With lock (PostgreSQL
// only) the statement takes the resource's lock itself: the row to insert
// is selected from the lock's result, so it cannot go in before the lock
// is held.
func insertIfFreeSQL(tx bun.IDB, r *Reservation, current *versions, lock bool) (string, []any) {
	// PostgreSQL types a bare parameter in a SELECT list as text, which
	// does not convert to these types on assignment.
	ts, boolean, integer := db.Typed(tx, "timestamptz"), db.Typed(tx, "boolean"), db.Typed(tx, "integer")
	overlap, overlapArgs := overlappingSQL(tx, true, r.ResourceID, r.StartsAt, r.BusyUntil)
	q := `INSERT INTO reservations (id, resource_id, site_id, user_id, kind, status, exclusive, seats,
			starts_at, ends_at, busy_until, note, series_id, created_by, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ` + boolean + `, ` + integer + `, ` + ts + `, ` + ts + `, ` + ts + `, ?, ?, ?, ` + ts + `, ` + ts
	args := []any{r.ID, r.ResourceID, r.SiteID, r.UserID, r.Kind, r.Status, r.Exclusive, r.Seats,
		r.StartsAt, r.EndsAt, r.BusyUntil, r.Note, r.SeriesID, r.CreatedBy, r.CreatedAt, r.UpdatedAt}
	if lock {
		expr, lockArgs := reservationLocks.SQL(r.ResourceID)
		q += `
		FROM (SELECT ` + expr + `) AS locked`
		args = append(args, lockArgs...)
	}
	q += `
		WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE ` + overlap + `)
		AND NOT EXISTS (SELECT 1 FROM resource_closures WHERE resource_id = ? AND starts_at < ? AND ends_at > ?)
		AND NOT EXISTS (SELECT 1 FROM site_closures WHERE site_id = ? AND starts_at < ? AND ends_at > ?)`
	args = append(args, overlapArgs...)
	args = append(args,
		r.ResourceID, r.EndsAt, r.StartsAt,
		r.SiteID, r.EndsAt, r.StartsAt)
	if current != nil {
		q += `
		AND EXISTS (SELECT 1 FROM resources WHERE id = ? AND version = ?)
		AND EXISTS (SELECT 1 FROM sites WHERE id = ? AND version = ?)`
		args = append(args, r.ResourceID, current.resource, r.SiteID, current.site)
	}
	return q, args
}

// overlappingSQL is the condition that selects the live reservations of
// resourceID whose busy time overlaps [start, busy). On PostgreSQL, for an
// exclusive resource, it is a range test that the exclusion constraint's
// GiST index answers, in time that grows with the log of the resource's
// history: the plain comparison walks the (resource_id, starts_at) index
// over every earlier reservation, which after years of daily bookings
// doubles a booking's cost (BENCHMARKS.md). The index is partial (live
// exclusive reservations), so the condition repeats its predicate with the
// status written out: a parameter would keep the planner from matching it.
// Every reservation of an exclusive resource is exclusive.
func overlappingSQL(idb bun.IDB, exclusive bool, resourceID string, start, busy time.Time) (string, []any) {
	if exclusive && !db.IsSQLite(idb) {
		return `resource_id = ? AND exclusive AND status <> '` + StatusCancelled + `'
			AND tstzrange(starts_at, busy_until, '[)') && tstzrange(CAST(? AS timestamptz), CAST(? AS timestamptz), '[)')`,
			[]any{resourceID, start, busy}
	}
	return `resource_id = ? AND status <> ? AND starts_at < ? AND busy_until > ?`, []any{resourceID, StatusCancelled, busy, start}
}

// insertIfFree inserts r, an exclusive booking, unless a live reservation
// of its resource or a closure of its resource or site overlaps it (or,
// with current set, the resource or site changed). It reports whether it
// inserted. A lapsed hold counts as live here: the slow path ends it.
func insertIfFree(ctx context.Context, tx bun.IDB, r *Reservation, current *versions) (bool, error) {
	q, args := insertIfFreeSQL(tx, r, current, false)
	res, err := tx.NewRaw(q, args...).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert reservation: %w", err)
	}
	return n == 1, nil
}

// versions are those of a cached resource and its site.
type versions struct{ resource, site int64 }

// versionsCurrent reports whether the resource and site rows are still as
// cached.
func versionsCurrent(ctx context.Context, tx bun.IDB, resourceID, siteID string, v versions) (bool, error) {
	var n int
	err := tx.NewRaw(`SELECT (SELECT COUNT(*) FROM resources WHERE id = ? AND version = ?) + (SELECT COUNT(*) FROM sites WHERE id = ? AND version = ?)`,
		resourceID, v.resource, siteID, v.site).Scan(ctx, &n)
	if err != nil {
		return false, fmt.Errorf("check cached resource: %w", err)
	}
	return n == 2, nil
}

// newReservation builds the row a checked slot becomes.
func (svc *Service) newReservation(s *slot, b Booking, seriesID *string) *Reservation {
	now := svc.now()
	kind := b.Kind
	if kind == "" {
		kind = ReservationBooking
	}
	r := &Reservation{
		ID: id.New(), ResourceID: s.res.ID, SiteID: s.res.SiteID, Kind: kind, Status: StatusConfirmed,
		Exclusive: s.res.Exclusive() || kind == ReservationBlock, Seats: s.seats,
		StartsAt: s.start, EndsAt: s.end, BusyUntil: s.busy, Note: strings.TrimSpace(b.Note),
		SeriesID: seriesID, CreatedBy: b.actorID, CreatedAt: now, UpdatedAt: now,
	}
	if kind == ReservationBooking {
		uid := b.UserID
		r.UserID = &uid
	}
	return r
}

// checkSlot resolves the requested times and checks every rule that does
// not depend on other reservations.
func (svc *Service) checkSlot(ctx context.Context, tx bun.IDB, res *Resource, site *Site, b Booking) (*slot, error) {
	return svc.checkSlotRules(ctx, tx, res, site, b, true)
}

// checkSlotRules is checkSlot; with closures false it leaves the closures
// to insertReservation (slot.closuresPending).
func (svc *Service) checkSlotRules(ctx context.Context, tx bun.IDB, res *Resource, site *Site, b Booking, closures bool) (*slot, error) {
	loc := site.Location()
	start, err := ResolveTime("start", b.Start, loc)
	if err != nil {
		return nil, err
	}
	end, err := ResolveTime("end", b.End, loc)
	if err != nil {
		return nil, err
	}
	block := b.Kind == ReservationBlock
	rules := res.Rules.withDefaults(res.Kind)
	now := svc.now()
	switch {
	case !end.After(start):
		return nil, errs.Rule("end", "end_before_start", "end must be after start")
	case res.RetiredAt != nil:
		return nil, errs.Rule("resource_id", "resource_retired", "this resource is retired and takes no new reservations")
	}
	seats, err := checkSeats(res, b)
	if err != nil {
		return nil, err
	}
	if block {
		if err := checkBlockSpan(start, end, now); err != nil {
			return nil, err
		}
		return &slot{res: res, site: site, start: start, end: end, busy: end, seats: seats}, nil
	}
	if !res.MemberBookable && !b.manager {
		return nil, &errs.Problem{Kind: errs.ErrForbidden, Code: "not_member_bookable", Detail: "only managers book this resource"}
	}
	if err := checkTiming(rules, b.manager, loc, start, end, now); err != nil {
		return nil, err
	}
	hours := site.OpeningHours
	if res.OpeningHours != nil {
		hours = res.OpeningHours
	}
	if !hours.Covers(loc, start, end) {
		return nil, errs.Rule("start", "outside_opening_hours", "the resource is not open for the whole slot")
	}
	if closures {
		if err := svc.checkClosures(ctx, tx, res, site, start, end); err != nil {
			return nil, err
		}
	}
	if res.QualificationID != nil && b.UserID != "" {
		ok, err := svc.qualifiedThrough(ctx, tx, b.UserID, *res.QualificationID, start, end)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errs.Rule("resource_id", "qualification_required", "this machine needs a training the member does not hold for the whole slot")
		}
	}
	busy := end.Add(time.Duration(rules.BufferAfterMinutes) * time.Minute)
	return &slot{res: res, site: site, start: start, end: end, busy: busy, seats: seats, closuresPending: !closures}, nil
}

// checkBlockSpan: a manager's block needs a sane interval: not over
// already, ending within the farthest horizon, and bounded (it may start
// in the past, for maintenance already under way).
func checkBlockSpan(start, end, now time.Time) error {
	switch {
	case !end.After(now):
		return errs.Rule("end", "in_the_past", "this block is over already")
	case end.After(now.AddDate(0, 0, MaxHorizonDays)):
		return errs.Rule("end", "beyond_horizon", "a block ends at most %d days ahead", MaxHorizonDays)
	case end.Sub(start) > MaxBlockMinutes*time.Minute:
		return errs.Rule("end", "too_long", "a block lasts at most %d days; close the resource for longer", MaxBlockMinutes/(24*60))
	}
	return nil
}

// checkTiming checks a booking's [start, end) against the resource's
// rules at instant now: in the future, within the horizon, with the
// minimum notice (managers are free of the notice and held to the
// farthest horizon instead), on the slot grid of loc, and of an allowed
// length.
func checkTiming(rules Rules, manager bool, loc *time.Location, start, end, now time.Time) error {
	if !start.After(now) {
		return errs.Rule("start", "in_the_past", "start is in the past")
	}
	// The whole reservation lies within the horizon, its end too: what
	// availability offers (it stops at the horizon) is what may be booked.
	// Managers are not held to the resource's horizon, but to the farthest
	// a resource may have: no reservation reaches the year 9999.
	days, ahead := rules.HorizonDays, errs.Msg("bookings open %d days ahead", rules.HorizonDays)
	if manager {
		days, ahead = MaxHorizonDays, errs.Msg("managers book at most %d days ahead", MaxHorizonDays)
	}
	horizon := now.AddDate(0, 0, days)
	if start.After(horizon) {
		return errs.Rule("start", "beyond_horizon", "%s", ahead)
	}
	if end.After(horizon) {
		return errs.Rule("end", "beyond_horizon", "%s: the reservation must end by then", ahead)
	}
	if !manager && start.Sub(now) < time.Duration(rules.MinNoticeMinutes)*time.Minute {
		return errs.Rule("start", "under_minimum_notice", "book at least %d minutes ahead", rules.MinNoticeMinutes)
	}
	if !onSlot(start, loc, rules.SlotMinutes) {
		return errs.Rule("start", "off_granularity", "start must fall on a %d-minute boundary", rules.SlotMinutes)
	}
	if !onSlot(end, loc, rules.SlotMinutes) {
		return errs.Rule("end", "off_granularity", "end must fall on a %d-minute boundary", rules.SlotMinutes)
	}
	d := end.Sub(start)
	if d < time.Duration(rules.MinMinutes)*time.Minute {
		return errs.Rule("end", "too_short", "a booking lasts at least %d minutes", rules.MinMinutes)
	}
	if d > time.Duration(rules.MaxMinutes)*time.Minute {
		return errs.Rule("end", "too_long", "a booking lasts at most %d minutes", rules.MaxMinutes)
	}
	return nil
}

// checkSeats returns the seats b takes of res: those asked for (one by
// default) within a zone's capacity, one of a desk, room or machine, all of
// them for a block.
func checkSeats(res *Resource, b Booking) (int, error) {
	seats := b.Seats
	if seats == 0 {
		seats = 1
	}
	switch {
	case b.Kind == ReservationBlock:
		return res.Capacity, nil
	case seats < 1:
		return 0, errs.Rule("seats", "seats_invalid", "seats must be at least 1")
	case !res.Exclusive() && seats > res.Capacity:
		return 0, errs.Rule("seats", "over_capacity", "this zone has %d seats", res.Capacity)
	case res.Exclusive() && seats != 1:
		return 0, errs.Rule("seats", "seats_invalid", "a %s is booked whole: seats must be 1", res.Kind)
	}
	return seats, nil
}

// checkClosures refuses [start, end) when a closure of the site or the
// resource overlaps it.
func (svc *Service) checkClosures(ctx context.Context, tx bun.IDB, res *Resource, site *Site, start, end time.Time) error {
	c, err := svc.closureOverlapping(ctx, tx, res, start, end)
	if err != nil || c == nil {
		return err
	}
	loc := site.Location()
	return errs.Rule("start", "closed", "closed from %s to %s: %s", c.StartsAt.In(loc).Format("2006-01-02 15:04"), c.EndsAt.In(loc).Format("2006-01-02 15:04"), c.Reason)
}

// onSlot reports whether t falls on a multiple of slotMinutes since local
// midnight. Wall-clock arithmetic keeps 09:00 on the grid on DST days.
func onSlot(t time.Time, loc *time.Location, slotMinutes int) bool {
	l := t.In(loc)
	if l.Second() != 0 || l.Nanosecond() != 0 {
		return false
	}
	return (l.Hour()*60+l.Minute())%slotMinutes == 0
}

func (svc *Service) qualifiedThrough(ctx context.Context, tx bun.IDB, userID, qualID string, start, end time.Time) (bool, error) {
	var gs []Grant
	if err := tx.NewSelect().Model(&gs).Where("qualification_id = ? AND user_id = ? AND revoked_at IS NULL", qualID, userID).Scan(ctx); err != nil {
		return false, fmt.Errorf("read grants: %w", err)
	}
	for _, g := range gs {
		if g.ValidAt(start) && (g.ExpiresAt == nil || !g.ExpiresAt.Before(end)) {
			return true, nil
		}
	}
	return false, nil
}

// ResourceClosure blocks one resource (maintenance), like a site closure.
type ResourceClosure struct {
	bun.BaseModel `bun:"table:resource_closures,alias:rc"`

	ID         string    `bun:"id,pk"`
	ResourceID string    `bun:"resource_id"`
	StartsAt   time.Time `bun:"starts_at"`
	EndsAt     time.Time `bun:"ends_at"`
	Reason     string    `bun:"reason"`
	CreatedAt  time.Time `bun:"created_at"`
}

// closureOverlapping returns a site or resource closure overlapping
// [start, end), in one round trip.
func (svc *Service) closureOverlapping(ctx context.Context, tx bun.IDB, res *Resource, start, end time.Time) (*Closure, error) {
	var cs []Closure
	err := tx.NewRaw(`SELECT id, starts_at, ends_at, reason FROM site_closures WHERE site_id = ? AND starts_at < ? AND ends_at > ?
		UNION ALL
		SELECT id, starts_at, ends_at, reason FROM resource_closures WHERE resource_id = ? AND starts_at < ? AND ends_at > ?
		ORDER BY starts_at LIMIT 1`, res.SiteID, end, start, res.ID, end, start).Scan(ctx, &cs)
	if err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("read closures: %w", err)
	}
	if len(cs) == 0 {
		return nil, nil
	}
	cs[0].SiteID = res.SiteID
	return &cs[0], nil
}

// errLapsedHold tells the caller of checkFree that a lapsed hold stands in
// the way and must be expired first.
var errLapsedHold = errors.New("a lapsed waiting-list hold overlaps")

// checkFree refuses s when it overlaps other live reservations of the
// resource (beyond a zone's capacity). except is a reservation being moved.
func (svc *Service) checkFree(ctx context.Context, tx bun.IDB, s *slot, except string) error {
	var others []Reservation
	overlap, args := overlappingSQL(tx, s.res.Exclusive(), s.res.ID, s.start, s.busy)
	q := tx.NewSelect().Model(&others).
		Column("id", "seats", "starts_at", "ends_at", "busy_until", "exclusive", "status", "hold_expires_at").
		Where(overlap, args...).
		Order("starts_at")
	if except != "" {
		q = q.Where("id <> ?", except)
	}
	if err := q.Scan(ctx); err != nil {
		return fmt.Errorf("read overlapping reservations: %w", err)
	}
	if len(others) == 0 {
		return nil
	}
	now := svc.now()
	for _, o := range others {
		if o.Status == StatusHeld && o.HoldExpiresAt != nil && !now.Before(*o.HoldExpiresAt) {
			return errLapsedHold
		}
	}
	if s.res.Exclusive() || s.seats >= s.res.Capacity {
		o := others[0]
		return conflictProblem(Conflict{Start: o.StartsAt, End: o.BusyUntil}, "the resource is taken over part of this slot")
	}
	for _, o := range others {
		if o.Exclusive {
			return conflictProblem(Conflict{Start: o.StartsAt, End: o.BusyUntil}, "the zone is blocked over part of this slot")
		}
	}
	// A zone: the seats taken peak somewhere inside the slot; sweep the
	// boundaries to find the peak.
	type edge struct {
		at    time.Time
		delta int
	}
	edges := make([]edge, 0, 2*len(others))
	for _, o := range others {
		edges = append(edges, edge{maxTime(o.StartsAt, s.start), o.Seats}, edge{minTime(o.BusyUntil, s.busy), -o.Seats})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta // leave before arrive: half-open intervals
		}
		return edges[i].at.Before(edges[j].at)
	})
	taken := 0
	for i, e := range edges {
		taken += e.delta
		if taken+s.seats > s.res.Capacity {
			end := s.busy
			if i+1 < len(edges) {
				end = edges[i+1].at
			}
			return conflictProblem(Conflict{Start: e.at, End: end},
				"only %d of %d seats are free over part of this slot", s.res.Capacity-taken, s.res.Capacity)
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var errReservationNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "reservation_not_found", Detail: "no such reservation"}

// GetReservation returns one reservation, whoever asks: for relais' own
// use (the gate, billing, a cursor's check). Callers acting for someone
// use ReadReservation.
func (svc *Service) GetReservation(ctx context.Context, reservationID string) (*Reservation, error) {
	return getReservation(ctx, svc.db, reservationID, false)
}

// ReadReservation returns one reservation p may see (see
// mayReadReservation); others are not found.
func (svc *Service) ReadReservation(ctx context.Context, p *identity.Principal, reservationID string) (*Reservation, error) {
	r, err := getReservation(ctx, svc.db, reservationID, false)
	if err != nil {
		return nil, err
	}
	if _, err := mayReadReservation(p, r); err != nil {
		return nil, err
	}
	return r, nil
}

func getReservation(ctx context.Context, idb bun.IDB, reservationID string, forUpdate bool) (*Reservation, error) {
	if !id.Valid(reservationID) {
		return nil, errReservationNotFound
	}
	var r Reservation
	q := idb.NewSelect().Model(&r).Where("id = ?", reservationID)
	if forUpdate {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errReservationNotFound
		}
		return nil, fmt.Errorf("get reservation: %w", err)
	}
	return &r, nil
}

// Cancellation is a request to cancel a reservation.
type Cancellation struct {
	ReservationID string
	// By is who asks: the member whose reservation it is, or the site's
	// managers (see mayChangeReservation).
	By     *identity.Principal
	Reason string
}

// Cancel cancels a reservation. After the resource's cancellation deadline
// it is still cancelled, and marked late for billing.
func (svc *Service) Cancel(ctx context.Context, c Cancellation) (*Reservation, error) {
	var out *Reservation
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := lockReservation(ctx, tx, c.ReservationID)
		if err != nil {
			return err
		}
		if _, err := mayChangeReservation(c.By, r); err != nil {
			return err
		}
		out, err = svc.cancel(ctx, tx, r, cancellingActor(c.By, r), c.Reason)
		return err
	})
	return out, err
}

// cancel cancels r, as actor (who the cancellation is recorded as made by).
func (svc *Service) cancel(ctx context.Context, tx bun.Tx, r *Reservation, actor, reason string) (*Reservation, error) {
	now := svc.now()
	if r.Status == StatusCancelled {
		return r, nil // cancelling twice changes nothing
	}
	// QuoteCancellation tells the same from these functions.
	if err := cancellable(r, now); err != nil {
		return nil, err
	}
	res, err := getResource(ctx, tx, r.ResourceID, true)
	if err != nil {
		return nil, err
	}
	late := lateCancel(r, res, now)
	r.Status, r.CancelledAt, r.CancelledBy = StatusCancelled, &now, &actor
	r.CancelReason, r.LateCancel, r.UpdatedAt = strings.TrimSpace(reason), late, now
	if _, err := tx.NewUpdate().Model(r).Column("status", "cancelled_at", "cancelled_by", "cancel_reason", "late_cancel", "updated_at").
		WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("cancel reservation: %w", err)
	}
	if r.Kind == ReservationBooking {
		if err := svc.guard.ReleaseBooking(ctx, tx, r, late); err != nil {
			return nil, err
		}
	}
	if err := svc.offerFreed(ctx, tx, res, r.StartsAt, r.BusyUntil); err != nil {
		return nil, err
	}
	if err := svc.publish(ctx, tx, EventReservationCancelled, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Move is a request to move or resize a reservation.
type Move struct {
	ReservationID string
	// By is who asks: the member whose reservation it is, or the site's
	// managers (see mayChangeReservation). Managers may move a reservation
	// that has started, and are held to their own horizon.
	By         *identity.Principal
	Start, End string // empty keeps the current value
	Seats      int    // 0 keeps the current value
	Note       *string
	// ResourceID moves the reservation to another resource of its site;
	// empty keeps its resource.
	ResourceID string
}

// changesResource reports whether m moves r to another resource.
func (m Move) changesResource(r *Reservation) bool {
	return m.ResourceID != "" && m.ResourceID != r.ResourceID
}

// movedBooking is the booking r becomes when moved by m: its slot, seats
// and note, with what m changes. It is checked as a new booking would be.
func movedBooking(r *Reservation, m Move, manager bool) Booking {
	b := Booking{By: m.By, ResourceID: r.ResourceID, actorID: m.By.UserID, manager: manager, Kind: r.Kind,
		Start: r.StartsAt.Format(time.RFC3339), End: r.EndsAt.Format(time.RFC3339), Seats: r.Seats, Note: r.Note}
	if r.UserID != nil {
		b.UserID = *r.UserID
	}
	if m.Start != "" {
		b.Start = m.Start
	}
	if m.End != "" {
		b.End = m.End
	}
	if m.Seats != 0 {
		b.Seats = m.Seats
	}
	if m.ResourceID != "" {
		b.ResourceID = m.ResourceID
	}
	return b
}

// MoveReservation moves or resizes a reservation with the same checks as a
// booking, in one transaction: there is no moment when the old slot is free
// and the new one not yet held.
func (svc *Service) MoveReservation(ctx context.Context, m Move) (*Reservation, error) {
	var out *Reservation
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		r, manager, err := lockForMove(ctx, tx, m)
		if err != nil {
			return err
		}
		out, err = svc.move(ctx, tx, r, manager, m, nil)
		return err
	})
	return out, err
}

// lockForMove reads the reservation m moves, locked, and says whether its
// caller moves it as a manager; who may not change it is an error, not a
// refusal of the move.
func lockForMove(ctx context.Context, tx bun.IDB, m Move) (*Reservation, bool, error) {
	var r *Reservation
	var err error
	if m.ResourceID == "" {
		r, err = lockReservation(ctx, tx, m.ReservationID)
	} else {
		r, err = lockReservationAndTarget(ctx, tx, m.ReservationID, m.ResourceID)
	}
	if err != nil {
		return nil, false, err
	}
	manager, err := mayChangeReservation(m.By, r)
	if err != nil {
		return nil, false, err
	}
	return r, manager, nil
}

// move moves r (locked) as m asks. With run (a quote, see QuoteMove), the
// guard's decision goes through the Pricer, which says what it cost.
func (svc *Service) move(ctx context.Context, tx bun.Tx, r *Reservation, manager bool, m Move, run *quoteRun) (*Reservation, error) {
	if r.Status != StatusConfirmed {
		return nil, errs.Rule("reservation_id", "not_movable", "only a confirmed reservation can be moved")
	}
	oldRes, err := getResource(ctx, tx, r.ResourceID, true)
	if err != nil {
		return nil, err
	}
	res := oldRes
	if m.changesResource(r) {
		if res, err = svc.moveTarget(ctx, tx, r, m); err != nil {
			return nil, err
		}
	}
	site, err := getSite(ctx, tx, res.SiteID)
	if err != nil {
		return nil, err
	}
	if !r.StartsAt.After(svc.now()) && !manager {
		return nil, errs.Rule("reservation_id", "already_started", "a reservation that has started cannot be moved")
	}
	s, err := svc.checkSlot(ctx, tx, res, site, movedBooking(r, m, manager))
	if err != nil {
		return nil, err
	}
	if err := svc.checkFree(ctx, tx, s, r.ID); err != nil {
		return nil, err
	}
	oldStart, oldBusy := r.StartsAt, r.BusyUntil
	if r.Kind == ReservationBooking {
		// What the old slot took is given back and the new one charged,
		// in this transaction: a move cannot dodge a quota.
		if err := svc.guard.ReleaseBooking(ctx, tx, r, false); err != nil {
			return nil, err
		}
	}
	oldResource := r.ResourceID
	r.ResourceID, r.StartsAt, r.EndsAt, r.BusyUntil, r.Seats, r.UpdatedAt = res.ID, s.start, s.end, s.busy, s.seats, svc.now()
	if m.Note != nil {
		r.Note = strings.TrimSpace(*m.Note)
	}
	if r.Kind == ReservationBooking {
		if err := svc.guardBooking(ctx, tx, Booking{quote: run}, r, res, site); err != nil {
			return nil, err
		}
	}
	if _, err := tx.NewUpdate().Model(r).Column("resource_id", "starts_at", "ends_at", "busy_until", "seats", "note", "updated_at").
		WherePK().Exec(ctx); err != nil {
		if db.IsExclusion(err) {
			return nil, conflictProblem(Conflict{Start: s.start, End: s.busy}, "this slot was just taken")
		}
		return nil, fmt.Errorf("move reservation: %w", err)
	}
	if err := svc.offerFreed(ctx, tx, oldRes, oldStart, oldBusy); err != nil {
		return nil, err
	}
	if !r.StartsAt.Equal(oldStart) || r.ResourceID != oldResource {
		// The old job finds the booking moved and does nothing.
		if err := svc.scheduleRelease(ctx, tx, r, res); err != nil {
			return nil, err
		}
	}
	if err := svc.publish(ctx, tx, EventReservationUpdated, r); err != nil {
		return nil, err
	}
	return r, nil
}

// moveTarget reads the resource m moves r to, and refuses what may not
// change resource: another site's resource, an occurrence of a series (a
// series is of one resource: it moves whole), and a reservation that has
// started (its door and machine sessions were granted for its resource).
// The rules of the target itself (kind, qualification, who may book it,
// seats) are checked as for a new booking.
func (svc *Service) moveTarget(ctx context.Context, tx bun.IDB, r *Reservation, m Move) (*Resource, error) {
	res, err := getResource(ctx, tx, m.ResourceID, true)
	if errors.Is(err, errs.ErrNotFound) {
		return nil, errNoSuchResource()
	}
	if err != nil {
		return nil, err
	}
	switch {
	case res.SiteID != r.SiteID:
		return nil, errs.Rule("resource_id", "other_site", "a reservation moves only to a resource of its own site")
	case r.SeriesID != nil:
		return nil, errs.Rule("resource_id", "series_resource", "an occurrence of a series stays on the series' resource: move the series, or cancel the occurrence and book anew")
	case !r.StartsAt.After(svc.now()):
		return nil, errs.Rule("resource_id", "already_started", "a reservation that has started stays on its resource")
	}
	return res, nil
}

// ReservationFilter selects reservations to list.
type ReservationFilter struct {
	UserID     string
	SiteID     string
	ResourceID string
	From, To   time.Time // overlap with [From, To); zero is open
	Statuses   []string  // empty: every status
	After      string    // cursor: the last id of the previous page
	Limit      int
}

// ListReservations returns the reservations of f that p may list (see
// scopeReservationList), by start time then id. A filter by resource alone
// is decided on the resource's site.
func (svc *Service) ListReservations(ctx context.Context, p *identity.Principal, f ReservationFilter) ([]Reservation, string, error) {
	if f.ResourceID != "" && f.SiteID == "" {
		if res, err := svc.GetResource(ctx, f.ResourceID); err == nil {
			f.SiteID = res.SiteID
		}
	}
	if err := scopeReservationList(p, &f); err != nil {
		return nil, "", err
	}
	rs := []Reservation{}
	q := svc.db.NewSelect().Model(&rs).OrderExpr("starts_at, id").Limit(f.Limit + 1)
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.SiteID != "" {
		q = q.Where("site_id = ?", f.SiteID)
	}
	if f.ResourceID != "" {
		q = q.Where("resource_id = ?", f.ResourceID)
	}
	if !f.From.IsZero() {
		// busy_until is never before ends_at: stating it lets the indexes
		// by end time skip the past.
		q = q.Where("ends_at > ? AND busy_until > ?", f.From, f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("starts_at < ?", f.To)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN (?)", bun.In(f.Statuses))
	}
	if f.After != "" {
		// Keyset pagination on (starts_at, id).
		cur, err := getReservation(ctx, svc.db, f.After, false)
		if err != nil {
			return nil, "", errs.Invalid("cursor", "cursor is not one this API returned")
		}
		q = q.Where("(starts_at > ? OR (starts_at = ? AND id > ?))", cur.StartsAt, cur.StartsAt, cur.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list reservations: %w", err)
	}
	next := ""
	if len(rs) > f.Limit {
		rs = rs[:f.Limit]
		next = rs[f.Limit-1].ID
	}
	return rs, next, nil
}

// MemberNames returns the account names of the members of rs, by user id,
// for the managers' planning: a list a caller was allowed to read names
// its members (a block has none). A deleted account keeps its erased name.
func (svc *Service) MemberNames(ctx context.Context, rs []Reservation) (map[string]string, error) {
	var ids []string
	for _, r := range rs {
		if r.UserID != nil {
			ids = append(ids, *r.UserID)
		}
	}
	return svc.UserNames(ctx, ids)
}

// UserNames returns the account names of ids (repeats allowed), by id. The
// caller has decided that its reader may see these people (the members
// of a list or of a dashboard of their site).
func (svc *Service) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	names := map[string]string{}
	seen := map[string]bool{}
	var list []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	if len(list) == 0 {
		return names, nil
	}
	var rows []struct {
		ID   string `bun:"id"`
		Name string `bun:"name"`
	}
	if err := svc.db.NewSelect().Table("users").Column("id", "name").Where("id IN (?)", bun.In(list)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("member names: %w", err)
	}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, nil
}
