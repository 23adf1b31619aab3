// Package jobstest lets tests wait for River jobs to finish instead of
// polling their effects with sleeps: it asks River which jobs of a kind have
// completed, and wakes on the completion events of the test's client.
package jobstest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

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
