package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"
)

// Queue inserts jobs and works none. Domain services receive one when they
// are built, before the Client that works their jobs exists: the Client
// needs the services' workers, the services need a way to queue jobs, and
// a Queue breaks that circle without a setter. Jobs inserted through a
// Queue are found by any Client on the same database, on this replica or
// another (workers poll; see fetchPollInterval).
type Queue struct {
	river *river.Client[*sql.Tx]
}

// NewQueue returns a Queue over db's connection pool. It checks no kind
// against registered workers: the workers live in the Client.
func NewQueue(db *bun.DB) (*Queue, error) {
	rc, err := river.NewClient(driver(db), &river.Config{Logger: warnOnly(slog.Default())})
	if err != nil {
		return nil, fmt.Errorf("river insert-only client: %w", err)
	}
	return &Queue{river: rc}, nil
}

// InsertTx queues a job in tx: it exists exactly when tx commits. tx is
// a bun.IDB, as the domains' functions take, but must be a transaction: a
// job queued outside one could run for a change that never committed.
func (q *Queue) InsertTx(ctx context.Context, tx bun.IDB, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	btx, ok := tx.(bun.Tx)
	if !ok {
		return nil, fmt.Errorf("queue %s: not inside a transaction", args.Kind())
	}
	res, err := q.river.InsertTx(ctx, btx.Tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// Insert queues a job on its own.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := q.river.Insert(ctx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// River exposes the insert-only River client, to inspect jobs (JobGet,
// JobList) in tests and tools.
func (q *Queue) River() *river.Client[*sql.Tx] { return q.river }
