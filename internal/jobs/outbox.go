package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	reldb "github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/id"
)

// The outbox. A transaction that publishes events (a booking, a payment)
// does not insert its jobs into River's table itself: River's insert is one
// large statement (an INSERT … SELECT over unnested arrays, with its
// unique-key handling) that PostgreSQL parses and plans on every call, and
// it cost a booking most of a millisecond (BenchmarkInsertTx,
// BenchmarkBookingPublishers). The transaction writes each job as a plain
// row of job_outbox with one prepared statement instead, and the job
// client moves the rows into River just after the commit, in a transaction
// of its own that inserts the jobs and deletes the rows: a job exists
// exactly when its change committed, once.
//
// Moving a row needs its job's arguments back as their own Go type, not as
// JSON alone: River derives a unique job's key from the struct tags of its
// arguments (`river:"unique"`), so a job decoded into anything else would
// get another key, and an event published twice would be mailed twice.
// Sources declare their kinds (Source.JobKinds) and the Publisher records
// them here; kinds are names shared by every River client of the process,
// so the record is too.

// outboxPoll is how often the job client looks for staged jobs. A staged
// job waits at most this long before it is in River; the look is one
// indexed read of an empty table.
const outboxPoll = 50 * time.Millisecond

// outboxBatch bounds the rows moved in one transaction.
const outboxBatch = 200

var kinds sync.Map // kind → reflect.Type of its arguments

// leftBehind holds the ids of the rows moveOutbox could not decode and
// has logged, so that each is logged once, not at every look.
var leftBehind sync.Map

// registerKind records args's type as the type of its kind.
func registerKind(args river.JobArgs) error {
	t := reflect.TypeOf(args)
	if prev, loaded := kinds.LoadOrStore(args.Kind(), t); loaded && prev != t {
		return fmt.Errorf("job kind %s declared with two types: %v and %v", args.Kind(), prev, t)
	}
	return nil
}

// decodeArgs decodes raw into the registered type of kind.
func decodeArgs(kind string, raw []byte) (river.JobArgs, error) {
	v, ok := kinds.Load(kind)
	if !ok {
		return nil, fmt.Errorf("job kind %s is declared by no source of this process", kind)
	}
	t := v.(reflect.Type)
	ptr := t.Kind() == reflect.Pointer
	if ptr {
		t = t.Elem()
	}
	p := reflect.New(t)
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, fmt.Errorf("decode %s arguments: %w", kind, err)
	}
	if ptr {
		return p.Interface().(river.JobArgs), nil
	}
	return p.Elem().Interface().(river.JobArgs), nil
}

// stagedOpts is river.InsertOpts as a row keeps it.
type stagedOpts struct {
	MaxAttempts       int                  `json:"max_attempts,omitempty"`
	Metadata          json.RawMessage      `json:"metadata,omitempty"`
	Pending           bool                 `json:"pending,omitempty"`
	Priority          int                  `json:"priority,omitempty"`
	Queue             string               `json:"queue,omitempty"`
	ScheduledAt       *time.Time           `json:"scheduled_at,omitempty"`
	Tags              []string             `json:"tags,omitempty"`
	UniqueByArgs      bool                 `json:"unique_by_args,omitempty"`
	UniqueByPeriod    time.Duration        `json:"unique_by_period,omitempty"`
	UniqueByQueue     bool                 `json:"unique_by_queue,omitempty"`
	UniqueByState     []rivertype.JobState `json:"unique_by_state,omitempty"`
	UniqueExcludeKind bool                 `json:"unique_exclude_kind,omitempty"`
}

func (s stagedOpts) unique() bool {
	return s.UniqueByArgs || s.UniqueByPeriod != 0 || s.UniqueByQueue || s.UniqueByState != nil || s.UniqueExcludeKind
}

func stageOpts(o *river.InsertOpts) stagedOpts {
	if o == nil {
		return stagedOpts{}
	}
	s := stagedOpts{MaxAttempts: o.MaxAttempts, Metadata: o.Metadata, Pending: o.Pending, Priority: o.Priority,
		Queue: o.Queue, Tags: o.Tags, UniqueByArgs: o.UniqueOpts.ByArgs, UniqueByPeriod: o.UniqueOpts.ByPeriod,
		UniqueByQueue: o.UniqueOpts.ByQueue, UniqueByState: o.UniqueOpts.ByState, UniqueExcludeKind: o.UniqueOpts.ExcludeKind}
	if !o.ScheduledAt.IsZero() {
		at := o.ScheduledAt.UTC()
		s.ScheduledAt = &at
	}
	return s
}

func (s stagedOpts) insertOpts() *river.InsertOpts {
	o := &river.InsertOpts{MaxAttempts: s.MaxAttempts, Metadata: s.Metadata, Pending: s.Pending, Priority: s.Priority,
		Queue: s.Queue, Tags: s.Tags, UniqueOpts: river.UniqueOpts{ByArgs: s.UniqueByArgs, ByPeriod: s.UniqueByPeriod,
			ByQueue: s.UniqueByQueue, ByState: s.UniqueByState, ExcludeKind: s.UniqueExcludeKind}}
	if s.ScheduledAt != nil {
		o.ScheduledAt = *s.ScheduledAt
	}
	return o
}

// stage writes jobs into the outbox in tx, in one prepared statement.
func stage(ctx context.Context, tx bun.Tx, jobs []river.InsertManyParams) error {
	values, args, err := stagedValues(jobs, "?")
	if err != nil {
		return err
	}
	query, qargs := reldb.Prepared(tx, "INSERT INTO job_outbox (id, kind, args, opts, created_at) VALUES "+values, args...)
	if _, err := reldb.Raw(tx).ExecContext(ctx, query, qargs...); err != nil {
		return fmt.Errorf("stage jobs: %w", err)
	}
	return nil
}

// stagedValues returns the rows of job_outbox for jobs, as the list of a
// VALUES clause with ? placeholders and its arguments. at is the
// placeholder of created_at: a VALUES of a SELECT needs its type said.
func stagedValues(jobs []river.InsertManyParams, at string) (string, []any, error) {
	now := time.Now().UTC()
	var q strings.Builder
	args := make([]any, 0, 5*len(jobs))
	for i, j := range jobs {
		kind := j.Args.Kind()
		if _, ok := kinds.Load(kind); !ok {
			return "", nil, fmt.Errorf("stage %s: the kind is not among its source's JobKinds", kind)
		}
		encoded, err := json.Marshal(j.Args)
		if err != nil {
			return "", nil, fmt.Errorf("encode %s arguments: %w", kind, err)
		}
		opts, err := json.Marshal(stageOpts(j.InsertOpts))
		if err != nil {
			return "", nil, fmt.Errorf("encode %s options: %w", kind, err)
		}
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, " + at + ")")
		args = append(args, id.New(), kind, string(encoded), string(opts), now)
	}
	return q.String(), args, nil
}

type stagedRow struct {
	ID   string `bun:"id"`
	Kind string `bun:"kind"`
	Args string `bun:"args"`
	Opts string `bun:"opts"`
}

// moveOutbox moves up to outboxBatch staged jobs into River through rc, in
// one transaction, and reports how many it moved. Replicas move at once
// without doubles: on PostgreSQL each takes rows no other holds (SKIP
// LOCKED); SQLite has one writer. With wait, rows another mover holds are
// waited for instead of skipped, so that once it returns every job staged
// before the call is in River (MoveOutbox). A row whose kind no source of
// this process declares (a replica of another version) is left for one
// that does, and logged.
func moveOutbox(ctx context.Context, bdb *bun.DB, rc *river.Client[*sql.Tx], log *slog.Logger, wait bool) (int, error) {
	// A read first, so that an empty outbox (nearly always) costs no
	// transaction: on SQLite a transaction would take the write lock.
	q, args := reldb.Prepared(bdb, "SELECT COUNT(*) FROM (SELECT 1 FROM job_outbox LIMIT 1) AS staged")
	var staged int
	if err := reldb.Raw(bdb).QueryRowContext(ctx, q, args...).Scan(&staged); err != nil {
		return 0, fmt.Errorf("look into the job outbox: %w", err)
	}
	if staged == 0 {
		return 0, nil
	}
	moved := 0
	err := reldb.Tx(ctx, bdb, func(ctx context.Context, tx bun.Tx) error {
		q := "SELECT id, kind, args, opts FROM job_outbox ORDER BY id LIMIT ?"
		switch {
		case reldb.IsSQLite(tx):
		case wait:
			q += " FOR UPDATE"
		default:
			q += " FOR UPDATE SKIP LOCKED"
		}
		var rows []stagedRow
		if err := tx.NewRaw(q, outboxBatch).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("read the job outbox: %w", err)
		}
		params := make([]river.InsertManyParams, 0, len(rows))
		ids := make([]string, 0, len(rows))
		// River refuses a batch in which two unique jobs share a key. One
		// event published twice (a retried publisher) stages two identical
		// rows: the first is inserted, both are deleted.
		seen := make(map[stagedRow]bool, len(rows))
		for _, r := range rows {
			args, err := decodeArgs(r.Kind, []byte(r.Args))
			var opts stagedOpts
			if err == nil {
				err = json.Unmarshal([]byte(r.Opts), &opts)
			}
			if err != nil {
				if _, told := leftBehind.LoadOrStore(r.ID, true); !told {
					log.ErrorContext(ctx, "staged job left in the outbox", "id", r.ID, "kind", r.Kind, "err", err)
				}
				continue
			}
			if opts.unique() {
				same := stagedRow{Kind: r.Kind, Args: r.Args, Opts: r.Opts}
				if seen[same] {
					ids = append(ids, r.ID)
					continue
				}
				seen[same] = true
			}
			params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts.insertOpts()})
			ids = append(ids, r.ID)
		}
		if len(ids) == 0 {
			return nil
		}
		if len(params) > 0 {
			if _, err := rc.InsertManyTx(ctx, tx.Tx, params); err != nil {
				return fmt.Errorf("insert staged jobs: %w", err)
			}
		}
		if _, err := tx.NewDelete().Table("job_outbox").Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("delete moved jobs: %w", err)
		}
		moved = len(ids)
		return nil
	})
	return moved, err
}

// runOutbox moves staged jobs until ctx is done.
func (c *Client) runOutbox(ctx context.Context) {
	tick := time.NewTicker(outboxPoll)
	defer tick.Stop()
	for {
		for {
			n, err := moveOutbox(ctx, c.db, c.mover, c.log, false)
			if err != nil && ctx.Err() == nil {
				c.log.WarnContext(ctx, "move staged jobs", "err", err)
			}
			if err != nil || n < outboxBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// MoveOutbox moves every staged job into River now, through c, and reports
// how many it moved: for tests and tools that count jobs right after the
// change that queued them, rather than wait for the client's next look.
// Jobs the client's own look is moving at that moment are waited for, not
// skipped: they are in River when MoveOutbox returns (counted by neither).
func (c *Client) MoveOutbox(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := moveOutbox(ctx, c.db, c.mover, c.log, true)
		total += n
		if err != nil || n < outboxBatch {
			return total, err
		}
	}
}
