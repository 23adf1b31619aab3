package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// A Source is told of events and answers with the jobs they need (none
// for the events that are not its own), without inserting them: Publisher
// inserts the jobs of all its sources together.
type Source interface {
	JobsFor(e events.Event) ([]river.InsertManyParams, error)
	// JobKinds lists the arguments of every kind JobsFor may answer, as
	// zero values: the outbox decodes staged jobs back into these types
	// (outbox.go).
	JobKinds() []river.JobArgs
}

// Publisher returns the events.Publisher that, for each event, queues the
// jobs every source asks for together. Inside a transaction they are
// staged in the outbox with one prepared INSERT, in the transaction, so
// they exist exactly when the change commits, and the job client moves
// them into River just after (outbox.go): a booking told to webhooks and
// to notify pays one small INSERT, not River's insert (see
// BenchmarkBookingPublishers). Outside a transaction (a door's decision,
// device presence) they go into River at once, after the change. It
// panics if two sources declare one kind with two types, a programming
// error.
func (q *Queue) Publisher(sources ...Source) events.Publisher {
	for _, s := range sources {
		for _, k := range s.JobKinds() {
			if err := registerKind(k); err != nil {
				panic(err)
			}
		}
	}
	return &publisher{q: q, sources: sources}
}

type publisher struct {
	q       *Queue
	sources []Source
}

// jobsFor asks every source for e's jobs.
func (p *publisher) jobsFor(e events.Event) ([]river.InsertManyParams, error) {
	var all []river.InsertManyParams
	for _, s := range p.sources {
		params, err := s.JobsFor(e)
		if err != nil {
			return nil, err
		}
		all = append(all, params...)
	}
	return all, nil
}

func (p *publisher) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	all, err := p.jobsFor(e)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return nil
	}
	if tx, inTx := idb.(bun.Tx); inTx {
		err = stage(ctx, tx, all)
	} else {
		_, err = p.q.river.InsertMany(ctx, all)
	}
	if err != nil {
		return fmt.Errorf("queue the jobs of %s: %w", e.Type, err)
	}
	return nil
}

// Stage makes the publisher an events.Stager: e's jobs go into the outbox
// within the caller's statement, one row each for each row of from.
// PostgreSQL only: SQLite has no INSERT inside WITH.
func (p *publisher) Stage(e events.Event, from string) (string, []any, bool, error) {
	all, err := p.jobsFor(e)
	if err != nil {
		return "", nil, false, err
	}
	if len(all) == 0 {
		return "", nil, true, nil
	}
	values, args, err := stagedValues(all, "CAST(? AS timestamptz)")
	if err != nil {
		return "", nil, false, fmt.Errorf("queue the jobs of %s: %w", e.Type, err)
	}
	return "INSERT INTO job_outbox (id, kind, args, opts, created_at) SELECT v.id, v.kind, v.args, v.opts, v.created_at FROM (VALUES " +
		values + ") AS v (id, kind, args, opts, created_at) CROSS JOIN " + from, args, true, nil
}
