package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/csvsafe"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Kinds of access events.
const (
	EventDoorUnlock     = "door_unlock"
	EventMachineOn      = "machine_on"
	EventMachineOff     = "machine_off"
	EventMachineWarning = "machine_warning"
	EventDeviceOffline  = "device_offline"
	EventDeviceOnline   = "device_online"
)

// Decisions.
const (
	Granted = "granted"
	Denied  = "denied"
	Info    = "info"
)

// Outcomes of a granted command. A decision that sends a command is
// recorded first as pending, then settled with one of the others once the
// device answered (or the command could not go out).
const (
	// OutcomePending: recorded, and the command was (or was about to be)
	// sent; the answer is not recorded. Left behind only when relais
	// stopped, or could not write, between the command and the answer:
	// the door may have opened, the relay may have switched.
	OutcomePending   = "pending"
	OutcomeConfirmed = "confirmed" // the device confirmed it acted
	OutcomeTimeout   = "timeout"   // sent; no confirmation in time, and the command expired
	OutcomeOffline   = "offline"   // not sent: the device or the broker was offline
	OutcomeRejected  = "rejected"  // the device answered with an error
	OutcomeBusy      = "busy"      // not sent: another command to it is in flight
)

// Event is one access decision or device happening. The table is
// append-only: the database refuses updates and deletes.
type Event struct {
	bun.BaseModel `bun:"table:access_events,alias:ae"`

	ID            string    `bun:"id,pk"`
	SiteID        string    `bun:"site_id"`
	OccurredAt    time.Time `bun:"occurred_at"`
	Kind          string    `bun:"kind"`
	Decision      string    `bun:"decision"`
	Reason        string    `bun:"reason"` // why it was denied, or a manager's reason to open
	Detail        string    `bun:"detail"`
	Outcome       string    `bun:"outcome"`
	UserID        *string   `bun:"user_id"`    // whom it is about
	ActorID       *string   `bun:"actor_id"`   // who acted, when not the user (a manager, relais itself: nil)
	ActorName     string    `bun:"actor_name"` // the actor's name then: the audit outlives renamed and deleted accounts
	DeviceID      *string   `bun:"device_id"`
	ResourceID    *string   `bun:"resource_id"`
	ReservationID *string   `bun:"reservation_id"`
	SessionID     *string   `bun:"session_id"`
	CommandID     *string   `bun:"command_id"`
	LatencyMS     *int      `bun:"latency_ms"`
}

// Events records access events: the decision every door and machine
// leaves, its device's answer, and the presence of the devices. It needs
// only the database, so it is built before devices, which report presence
// to it, and before the Gate, which records through it (GateConfig.Events).
type Events struct {
	db    *bun.DB
	clock func() time.Time
	log   *slog.Logger
	// metrics counts events by kind, decision and outcome.
	metrics *gateMetrics
	// publisher tells integrators (see publish.go).
	publisher events.Publisher
	// insertSQL and insertFields record a door's decision on PostgreSQL
	// (eventInsertSQL), settleSQL its answer (eventSettleSQL); both are
	// empty on SQLite.
	insertSQL    string
	insertFields []*schema.Field
	settleSQL    string
}

// NewEvents returns the access event recorder of cfg (its Now, Logger and
// DurableAudit).
func NewEvents(db *bun.DB, cfg GateConfig) *Events {
	cfg = cfg.withDefaults()
	if cfg.Publisher == nil {
		panic("access: GateConfig.Publisher is required")
	}
	e := &Events{db: db, clock: cfg.Now, log: cfg.Logger, metrics: newGateMetrics(), publisher: cfg.Publisher}
	e.insertSQL, e.insertFields = eventInsertSQL(db, cfg.DurableAudit)
	e.settleSQL = eventSettleSQL(db, cfg.DurableAudit)
	return e
}

// now is the recorder's clock, at the database's precision, like the Gate's.
func (e *Events) now() time.Time { return e.clock().UTC().Truncate(time.Microsecond) }

// OnPresence records a device going offline or coming back: devices calls
// it (devices.Config.OnPresence).
func (e *Events) OnPresence(ctx context.Context, d devices.Device, online bool, at time.Time) {
	ev := &Event{SiteID: d.SiteID, OccurredAt: at.UTC(), Kind: EventDeviceOffline, Decision: Info, DeviceID: ptr(d.ID), ResourceID: d.ResourceID}
	if online {
		ev.Kind = EventDeviceOnline
	}
	if err := e.record(ctx, e.db, ev); err != nil {
		e.log.ErrorContext(ctx, "record device presence", "device_id", d.ID, "error", err)
	}
}

// record appends ev, filling its id and time. A pending event is counted
// in the metrics when it is settled.
func (e *Events) record(ctx context.Context, idb bun.IDB, ev *Event) error {
	if ev.ID == "" {
		ev.ID = id.New()
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = e.now()
	}
	if err := e.insertEvent(ctx, idb, ev); err != nil {
		return fmt.Errorf("record access event: %w", err)
	}
	if err := e.publish(ctx, idb, ev, false); err != nil {
		return err
	}
	if ev.Outcome != OutcomePending {
		e.metrics.decision(ev)
	}
	return nil
}

// settle writes the device's answer into the pending event ev: its
// outcome, the round trip and, for a rejection, the device's error. The
// database lets a pending event be settled once, and nothing else of it
// change (migration 20261205000300).
func (e *Events) settle(ctx context.Context, idb bun.IDB, ev *Event, res *devices.Result, sendErr error) error {
	answer(ev, res, sendErr)
	return e.writeAnswer(ctx, idb, ev)
}

// answer fills ev with the device's answer: its outcome, round trip and words.
func answer(ev *Event, res *devices.Result, sendErr error) {
	ev.Outcome = outcomeOf(sendErr)
	if sendErr != nil && ev.Outcome == OutcomeRejected {
		// The device's words, as it sent them, could hold what the
		// database or a reader should not get (a NUL, an escape sequence).
		ev.Detail = joinDetail(ev.Detail, freetext.Clean(sendErr.Error(), 500))
	}
	if res != nil && !res.ConfirmedAt.IsZero() {
		ev.LatencyMS = ptr(int(res.ConfirmedAt.Sub(res.SentAt).Milliseconds()))
	}
}

// writeAnswer settles ev's pending row with the answer answer filled in.
func (e *Events) writeAnswer(ctx context.Context, idb bun.IDB, ev *Event) error {
	var (
		r   sql.Result
		err error
	)
	if e.settleSQL != "" && ev.Kind == EventDoorUnlock && idb == bun.IDB(e.db) {
		q, args := db.Prepared(e.db, e.settleSQL, ev.Outcome, ev.LatencyMS, ev.Detail, ev.ID)
		r, err = e.db.DB.ExecContext(ctx, q, args...)
	} else {
		r, err = idb.ExecContext(ctx, settleSQL, ev.Outcome, ev.LatencyMS, ev.Detail, ev.ID)
	}
	if err == nil {
		if n, _ := r.RowsAffected(); n != 1 {
			err = errors.New("the event is not pending")
		}
	}
	if err != nil {
		return fmt.Errorf("record the device's answer (%s) to access event %s: %w", ev.Outcome, ev.ID, err)
	}
	e.metrics.decision(ev)
	return e.publish(ctx, idb, ev, true)
}

// settleSQL settles a pending event; eventSettleSQL is its fast form.
const settleSQL = "UPDATE access_events SET outcome = ?, latency_ms = ?, detail = ? WHERE id = ? AND outcome = '" + OutcomePending + "'"

func (e *Events) insertEvent(ctx context.Context, idb bun.IDB, ev *Event) error {
	// A door's decision on its own (not in a transaction): the hot path.
	if e.insertSQL != "" && ev.Kind == EventDoorUnlock && idb == bun.IDB(e.db) {
		v := reflect.ValueOf(ev).Elem()
		args := make([]any, 0, 1+len(e.insertFields))
		args = append(args, pgx.QueryExecModeCacheStatement)
		for _, f := range e.insertFields {
			args = append(args, f.Value(v).Interface())
		}
		_, err := e.db.DB.ExecContext(ctx, e.insertSQL, args...)
		return err
	}
	// Nothing to read back: every column is set here, and RETURNING the
	// defaulted ones would cost a row on every unlock.
	_, err := idb.NewInsert().Model(ev).Returning("NULL").Exec(ctx)
	return err
}

// eventInsertSQL is the statement that records a door's decision on
// PostgreSQL: prepared once per connection, its columns those
// of Event. Unless durable, it commits without waiting for PostgreSQL to
// flush its write-ahead log: set_config(…, true) lasts until the end of
// the statement's own transaction, so nothing else is affected. The event
// is then on disk within three times PostgreSQL's wal_writer_delay (600 ms
// by default); only a crash of PostgreSQL or of its machine within that
// time can lose it, never a crash of relais, and never out of order. That is
// close to what SQLite gives (WAL, synchronous=NORMAL: safe from a crash of
// relais, not from one of the machine), and it keeps the disk's
// flush (about 0.15 ms here) out of every unlock; see
// GateConfig.DurableAudit. On SQLite it returns "": events go through bun.
func eventInsertSQL(bdb *bun.DB, durable bool) (string, []*schema.Field) {
	if db.IsSQLite(bdb) {
		return "", nil
	}
	fields := bdb.Table(reflect.TypeFor[Event]()).Fields
	cols := make([]string, len(fields))
	params := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = string(f.SQLName)
		params[i] = "$" + strconv.Itoa(i+1)
	}
	q := "INSERT INTO access_events (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(params, ", ") + ")"
	if !durable {
		q += asynchronousCommit
	}
	return q, fields
}

// asynchronousCommit ends a statement that commits without waiting for
// the write-ahead log's flush (see eventInsertSQL).
const asynchronousCommit = " RETURNING set_config('synchronous_commit', 'off', true)"

// eventSettleSQL is settleSQL for a door's answer on PostgreSQL, prepared
// once per connection (db.Prepared) and, unless durable, committed like
// the decision it settles. On SQLite it returns "": the driver prepares
// every statement anyway, and bun's path is the same cost.
func eventSettleSQL(bdb *bun.DB, durable bool) string {
	if db.IsSQLite(bdb) {
		return ""
	}
	if durable {
		return settleSQL
	}
	return settleSQL + asynchronousCommit
}

// EventFilter selects events to list, newest first.
type EventFilter struct {
	SiteID   string
	UserID   string
	DeviceID string
	From, To time.Time // [From, To); zero is open
	After    string    // cursor: the last id of the previous page
	Limit    int       // 0: no limit (exports)
}

// ListEvents returns events newest first, and the cursor of the next page.
func (g *Gate) ListEvents(ctx context.Context, f EventFilter) ([]Event, string, error) {
	evs := []Event{}
	q := g.filter(g.db.NewSelect().Model(&evs), f).OrderExpr("occurred_at DESC, id DESC")
	if f.After != "" {
		var cur Event
		if err := g.db.NewSelect().Model(&cur).Where("id = ?", f.After).Scan(ctx); err != nil {
			return nil, "", errs.Invalid("cursor", "cursor is not one this API returned")
		}
		q = q.Where("(occurred_at < ? OR (occurred_at = ? AND id < ?))", cur.OccurredAt, cur.OccurredAt, cur.ID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit + 1)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list access events: %w", err)
	}
	next := ""
	if f.Limit > 0 && len(evs) > f.Limit {
		evs = evs[:f.Limit]
		next = evs[f.Limit-1].ID
	}
	return evs, next, nil
}

func (g *Gate) filter(q *bun.SelectQuery, f EventFilter) *bun.SelectQuery {
	if f.SiteID != "" {
		q = q.Where("site_id = ?", f.SiteID)
	}
	if f.UserID != "" {
		q = q.Where("user_id = ?", f.UserID)
	}
	if f.DeviceID != "" {
		q = q.Where("device_id = ?", f.DeviceID)
	}
	if !f.From.IsZero() {
		q = q.Where("occurred_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("occurred_at < ?", f.To.UTC())
	}
	return q
}

// WriteEventsCSV writes the events f selects, oldest first, as CSV. It
// streams rows so a year of a busy site does not sit in memory.
func (g *Gate) WriteEventsCSV(ctx context.Context, w io.Writer, f EventFilter) error {
	rows, err := g.filter(g.db.NewSelect().Model((*Event)(nil)), f).OrderExpr("occurred_at, id").Rows(ctx)
	if err != nil {
		return fmt.Errorf("export access events: %w", err)
	}
	defer rows.Close()
	cw := csvsafe.NewWriter(w, ',', false)
	cw.Write([]string{"occurred_at", "kind", "decision", "reason", "outcome", "user_id", "actor_id", "actor_name", "device_id",
		"resource_id", "reservation_id", "session_id", "command_id", "latency_ms", "detail"})
	for rows.Next() {
		var ev Event
		if err := g.db.ScanRow(ctx, rows, &ev); err != nil {
			return fmt.Errorf("export access events: %w", err)
		}
		lat := ""
		if ev.LatencyMS != nil {
			lat = strconv.Itoa(*ev.LatencyMS)
		}
		if err := cw.Write([]string{ev.OccurredAt.UTC().Format(time.RFC3339Nano), ev.Kind, ev.Decision, ev.Reason, ev.Outcome,
			str(ev.UserID), str(ev.ActorID), ev.ActorName, str(ev.DeviceID), str(ev.ResourceID), str(ev.ReservationID),
			str(ev.SessionID), str(ev.CommandID), lat, ev.Detail}); err != nil {
			return fmt.Errorf("export access events: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export access events: %w", err)
	}
	if err := cw.Flush(); err != nil {
		return fmt.Errorf("export access events: %w", err)
	}
	return nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
