// Package jobs runs Relais's durable background jobs on River, stored in the
// same database as everything else (SQLite or PostgreSQL). A job inserted in
// the transaction that changes state exists exactly when that change does, and
// survives restarts; River's leader election keeps periodic jobs to one
// replica per interval.
//
// A later package adds a job kind in three steps. First, declare the
// arguments, stored as JSON in the job row:
//
//	type RelayOffArgs struct{ SlotID string `json:"slot_id"` }
//
//	func (RelayOffArgs) Kind() string { return "relais.relay_off" }
//
// Second, write a worker and register it in the *river.Workers given as
// Config.Workers. River runs a job at least once (a crash after the work but
// before the completion is recorded repeats it), so Work must be idempotent:
//
//	type relayOffWorker struct {
//		river.WorkerDefaults[RelayOffArgs]
//		db *bun.DB
//	}
//
//	func (w *relayOffWorker) Work(ctx context.Context, job *river.Job[RelayOffArgs]) error { … }
//
//	river.AddWorker(workers, &relayOffWorker{db: db})
//
// Third, insert the job in the same bun transaction as the state change it
// follows from, so that a rollback drops both:
//
//	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
//		// … insert the booking …
//		_, err := client.River().InsertTx(ctx, tx.Tx, RelayOffArgs{SlotID: id},
//			&river.InsertOpts{ScheduledAt: slotEnd})
//		return err
//	})
//
// Leave InsertOpts.ScheduledAt zero for "as soon as possible": any non-zero
// value, even a past one, makes the job wait for River's scheduler, which runs
// every 5 s. Times at least 5 s ahead are honoured to within the fetch poll
// interval.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	reldb "github.com/relais-tierslieux/relais/internal/db"
)

// Pruner deletes rows that expired at or before now and reports how many.
// It must be idempotent: replicas and retries may run it more than once.
type Pruner func(ctx context.Context, now time.Time) (int64, error)

// Config configures New.
type Config struct {
	// Pruners run, by name, in every prune job.
	Pruners map[string]Pruner
	// PruneInterval separates prune runs; default 1 h.
	PruneInterval time.Duration
	// Workers holds the job kinds of later packages; may be nil. New adds the
	// prune worker to it, so one bundle serves one Client.
	Workers *river.Workers
	// Periodic jobs of later packages, enqueued by the elected replica.
	Periodic []*river.PeriodicJob
	// Logger receives the prune counts, and River's own warnings and errors;
	// default slog.Default().
	Logger *slog.Logger
}

const (
	// pruneKind names the periodic prune job in river_job.
	pruneKind = "relais.prune"
	// fetchPollInterval bounds how late a due job starts: PostgreSQL through
	// database/sql has no LISTEN/NOTIFY, so workers find due jobs by polling,
	// and a relay must switch off at the end of its slot, not a second later.
	fetchPollInterval = 500 * time.Millisecond
	// fetchCooldown is the least time between two fetches. A worker that
	// finishes asks for the next jobs, but no sooner than this after the
	// last fetch, so a backlog drains at about MaxWorkers jobs per
	// cooldown: River's default, 100 ms, held ten queued mails a second
	// to 100 per second (BenchmarkMailThroughput).
	fetchCooldown = 20 * time.Millisecond
	// riverLockKey serialises River migrations of replicas starting together;
	// distinct from internal/db's key so the two migrations never wait on
	// each other.
	riverLockKey = 7_256_131_772
)

// Client is Relais's River client.
type Client struct {
	river *river.Client[*sql.Tx]
	// mover inserts the outbox's jobs. It is insert-only, as a Queue's
	// client is: River refuses, in a client with workers, to insert a kind
	// it has no worker for, and one such row must not hold up the others
	// (a replica of another version may work it).
	mover *river.Client[*sql.Tx]
	db    *bun.DB
	log   *slog.Logger
	// stopOutbox ends runOutbox, which closes outboxDone on return.
	stopOutbox context.CancelFunc
	outboxDone chan struct{}
}

// New builds a client over db's connection pool. It does not start working
// jobs until Start; before that it can already insert them.
func New(db *bun.DB, cfg Config) (*Client, error) {
	if cfg.PruneInterval <= 0 {
		cfg.PruneInterval = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Workers == nil {
		cfg.Workers = river.NewWorkers()
	}
	prune := &pruneWorker{pruners: maps.Clone(cfg.Pruners), log: cfg.Logger}
	if err := river.AddWorkerSafely(cfg.Workers, prune); err != nil {
		return nil, fmt.Errorf("register prune worker: %w", err)
	}
	interval := cfg.PruneInterval
	rc, err := river.NewClient(driver(db), &river.Config{
		Logger:            warnOnly(cfg.Logger),
		ErrorHandler:      failureLogger{cfg.Logger},
		Workers:           cfg.Workers,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 10}},
		FetchPollInterval: fetchPollInterval,
		FetchCooldown:     fetchCooldown,
		PeriodicJobs: append(slices.Clone(cfg.Periodic), river.NewPeriodicJob(
			river.PeriodicInterval(interval),
			func() (river.JobArgs, *river.InsertOpts) {
				return pruneArgs{}, &river.InsertOpts{
					// The next interval retries anyway; retries on top of it
					// would pile up behind a pruner that keeps failing.
					MaxAttempts: 1,
					// Only the leader enqueues periodic jobs, but each newly
					// elected leader runs it on start; during a rolling
					// restart that would prune once per replica.
					UniqueOpts: river.UniqueOpts{ByPeriod: interval},
				}
			},
			&river.PeriodicJobOpts{ID: pruneKind, RunOnStart: true},
		)),
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	mover, err := river.NewClient(driver(db), &river.Config{Logger: warnOnly(cfg.Logger)})
	if err != nil {
		return nil, fmt.Errorf("river insert-only client: %w", err)
	}
	return &Client{river: rc, mover: mover, db: db, log: cfg.Logger}, nil
}

// Start begins working jobs (and, on the elected replica, enqueuing periodic
// ones) and moving the jobs staged in the outbox into River (outbox.go).
// Cancelling ctx stops the client as Stop would.
func (c *Client) Start(ctx context.Context) error {
	if err := c.river.Start(ctx); err != nil {
		return err
	}
	if c.outboxDone == nil {
		octx, stop := context.WithCancel(ctx)
		c.stopOutbox, c.outboxDone = stop, make(chan struct{})
		go func() {
			defer close(c.outboxDone)
			c.runOutbox(octx)
		}()
	}
	return nil
}

// Stop stops moving staged jobs and fetching jobs, and waits, until ctx is
// done, for running ones. Close the database only after it returns.
func (c *Client) Stop(ctx context.Context) error {
	if c.stopOutbox != nil {
		c.stopOutbox()
		select {
		case <-c.outboxDone:
		case <-ctx.Done():
		}
	}
	return c.river.Stop(ctx)
}

// River exposes the River client to insert jobs (InsertTx with a bun.Tx's Tx)
// and to inspect them.
func (c *Client) River() *river.Client[*sql.Tx] { return c.river }

// Migrate creates or upgrades River's tables. It is idempotent, and safe for
// replicas starting together. On PostgreSQL the tables go to the first schema
// of the connection's search_path, as bun's do.
func Migrate(ctx context.Context, db *bun.DB) error {
	m, err := rivermigrate.New(driver(db), &rivermigrate.Config{Logger: warnOnly(slog.Default())})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if reldb.IsSQLite(db) {
		// River reads the applied versions before its per-version
		// transactions, so two processes migrating one file at once both
		// apply version 1 and one fails. One transaction around everything
		// (BEGIN IMMEDIATE, from the DSN) serialises them. River deprecates
		// MigrateTx only because some PostgreSQL migrations need
		// intermediate commits; SQLite DDL is fully transactional.
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := m.MigrateTx(ctx, tx.Tx, rivermigrate.DirectionUp, nil); err != nil { //nolint:staticcheck // see above
				return fmt.Errorf("apply river migrations: %w", err)
			}
			return nil
		})
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("river migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", riverLockKey); err != nil {
		return fmt.Errorf("river migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", riverLockKey)
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply river migrations: %w", err)
	}
	return nil
}

// driver shares db's pool with River so that InsertTx joins bun transactions.
func driver(db *bun.DB) riverdriver.Driver[*sql.Tx] {
	if reldb.IsSQLite(db) {
		return riversqlite.New(db.DB)
	}
	return riverdatabasesql.New(db.DB)
}

type pruneArgs struct{}

func (pruneArgs) Kind() string { return pruneKind }

type pruneWorker struct {
	river.WorkerDefaults[pruneArgs]
	pruners map[string]Pruner
	log     *slog.Logger
}

// Work runs every pruner even when one fails, so that one broken table does
// not let the others grow. Failures reach the log through failureLogger.
func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[pruneArgs]) error {
	// UTC, because SQLite compares timestamps as text.
	now := time.Now().UTC()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(w.pruners)) {
		n, err := w.pruners[name](ctx, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("prune %s: %w", name, err))
			continue
		}
		w.log.InfoContext(ctx, "pruned expired rows", "pruner", name, "rows", n)
	}
	return errors.Join(errs...)
}

// failureLogger reports jobs whose Work returned an error: River logs those at
// info level, which warnOnly drops, yet a relay left on is an operator's
// problem. Panics need nothing here: River logs them as errors itself.
type failureLogger struct{ log *slog.Logger }

func (f failureLogger) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	level := slog.LevelWarn
	if job.Attempt >= job.MaxAttempts {
		level = slog.LevelError // discarded: no retry follows
	}
	f.log.Log(ctx, level, "job failed", "kind", job.Kind, "job_id", job.ID,
		"attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", err)
	return nil
}

func (failureLogger) HandlePanic(context.Context, *rivertype.JobRow, any, string) *river.ErrorHandlerResult {
	return nil
}

// warnOnly keeps River's routine info logs (leader elections, maintenance
// passes) out of Relais's log while letting its warnings and errors through.
func warnOnly(l *slog.Logger) *slog.Logger {
	return slog.New(minLevel{l.Handler()})
}

type minLevel struct{ slog.Handler }

func (h minLevel) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.Handler.Enabled(ctx, level)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs)}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name)}
}
