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
}

// Publisher returns the events.Publisher that, for each event, queues the
// jobs every source asks for in one statement: a booking told to webhooks
// and to notify pays one INSERT, not one per listener (see
// BenchmarkBookingPublishers). Inside a transaction the jobs are inserted
// in it, so they exist exactly when the change commits; outside one (a
// door's decision, device presence) they are inserted on their own,
// after the change.
func (q *Queue) Publisher(sources ...Source) events.Publisher {
	return &publisher{q: q, sources: sources}
}

type publisher struct {
	q       *Queue
	sources []Source
}

func (p *publisher) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	var all []river.InsertManyParams
	for _, s := range p.sources {
		params, err := s.JobsFor(e)
		if err != nil {
			return err
		}
		all = append(all, params...)
	}
	if len(all) == 0 {
		return nil
	}
	var err error
	if tx, inTx := idb.(bun.Tx); inTx {
		_, err = p.q.river.InsertManyTx(ctx, tx.Tx, all)
	} else {
		_, err = p.q.river.InsertMany(ctx, all)
	}
	if err != nil {
		return fmt.Errorf("queue the jobs of %s: %w", e.Type, err)
	}
	return nil
}
