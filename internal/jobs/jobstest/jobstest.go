// Package jobstest builds job queues over test databases, for the tests of
// services that receive a *jobs.Queue at construction.
package jobstest

import (
	"context"
	"testing"

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
