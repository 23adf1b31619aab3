// Package jobstest helps the tests of services that queue River jobs: it
// builds job queues over test databases, and lets tests wait for jobs to
// finish instead of polling their effects with sleeps (it asks River which
// jobs of a kind have completed, and wakes on the completion events of the
// test's client).
package jobstest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/jobs"
)

// Queue migrates the job tables of d and returns a Queue over it. Jobs
// inserted through it wait in the table until a Client on d works them;
// tests that do not start one only see them queued.
func Queue(t testing.TB, d *bun.DB) *jobs.Queue {
	t.Helper()
	if err := jobs.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// Within bounds every wait: generous for a loaded CI machine, so failing it
// means the job never completed, not that it was slow.
const Within = 30 * time.Second

// recheck bounds how long a completion recorded by another client (another
// replica over the same database), which sends no event to this one, goes
// unnoticed.
const recheck = 50 * time.Millisecond

// WaitCompleted waits until at least n jobs of kind are completed in c's
// database, whichever client worked them, and returns the completed jobs.
// It may be called before or after the jobs run: completions already
// recorded count.
func WaitCompleted(t testing.TB, c *river.Client[*sql.Tx], kind string, n int) []*rivertype.JobRow {
	t.Helper()
	// Subscribe before the first look, so that no completion falls between
	// the two.
	events, cancel := c.Subscribe(river.EventKindJobCompleted)
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), Within)
	defer stop()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		res, err := c.JobList(ctx, river.NewJobListParams().Kinds(kind).
			States(rivertype.JobStateCompleted).First(max(n, 100)))
		if err != nil {
			t.Fatalf("list completed %s jobs: %v", kind, err)
		}
		if len(res.Jobs) >= n {
			return res.Jobs
		}
		select {
		case <-events:
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%d %s jobs completed after %s, want %d", len(res.Jobs), kind, Within, n)
		}
	}
}
