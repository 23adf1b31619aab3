package jobs_test

import (
	"context"
	"testing"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	reldb "github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

type benchArgs struct {
	EventID string `json:"event_id"`
}

func (benchArgs) Kind() string { return "bench" }

// benchSource answers two jobs per event, as webhooks and notify do for a
// booking.
type benchSource struct{}

func (benchSource) JobsFor(e events.Event) ([]river.InsertManyParams, error) {
	return []river.InsertManyParams{{Args: benchArgs{EventID: e.ID}}, {Args: benchArgs{EventID: e.ID}}}, nil
}

func (benchSource) JobKinds() []river.JobArgs { return []river.JobArgs{benchArgs{}} }

// BenchmarkInsertTx measures what queuing jobs adds to a transaction that
// writes a row (as a booking does, so that every case pays the commit's
// flush): no job, one job, two jobs inserted one after the other (two
// publishers each inserting theirs), the same two in one InsertManyTx,
// and the same two staged in the outbox (jobs.Queue.Publisher).
func BenchmarkInsertTx(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	q := jobstest.Queue(b, d)
	if _, err := d.ExecContext(ctx, "CREATE TABLE bench_rows (n INTEGER)"); err != nil {
		b.Fatal(err)
	}
	args := benchArgs{EventID: "01234567-89ab-cdef-0123-456789abcdef"}
	outbox := q.Publisher(benchSource{})
	for _, c := range []struct {
		name string
		work func(tx bun.Tx) error
	}{
		{"jobs=0", func(bun.Tx) error { return nil }},
		{"roundtrip", func(tx bun.Tx) error {
			q, a := reldb.Prepared(tx, "SELECT 1")
			var one int
			return reldb.Raw(tx).QueryRowContext(ctx, q, a...).Scan(&one)
		}},
		{"jobs=1", func(tx bun.Tx) error { _, err := q.InsertTx(ctx, tx, args, nil); return err }},
		{"jobs=2/separate", func(tx bun.Tx) error {
			if _, err := q.InsertTx(ctx, tx, args, nil); err != nil {
				return err
			}
			_, err := q.InsertTx(ctx, tx, args, nil)
			return err
		}},
		{"jobs=2/many", func(tx bun.Tx) error {
			_, err := q.River().InsertManyTx(ctx, tx.Tx, []river.InsertManyParams{{Args: args}, {Args: args}})
			return err
		}},
		{"jobs=2/manyfast", func(tx bun.Tx) error {
			_, err := q.River().InsertManyFastTx(ctx, tx.Tx, []river.InsertManyParams{{Args: args}, {Args: args}})
			return err
		}},
		{"jobs=2/outbox", func(tx bun.Tx) error {
			return outbox.Publish(ctx, tx, events.Event{ID: args.EventID, Type: "bench"})
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					if _, err := tx.ExecContext(ctx, "INSERT INTO bench_rows (n) VALUES (1)"); err != nil {
						return err
					}
					return c.work(tx)
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
