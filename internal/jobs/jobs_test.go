package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

var quiet = slog.New(slog.DiscardHandler)

func TestMigrateIsIdempotentAndCreatesRiverJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	// Replicas starting together migrate at once.
	var wg sync.WaitGroup
	for i := range 3 {
		d := dbtest.OpenURL(t, url)
		wg.Go(func() {
			if err := jobs.Migrate(ctx, d); err != nil {
				t.Errorf("concurrent Migrate #%d: %v", i+1, err)
			}
		})
	}
	wg.Wait()
	d := dbtest.OpenURL(t, url)
	if err := jobs.Migrate(ctx, d); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var n int
	if err := d.QueryRowContext(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
		t.Fatalf("river_job is not queryable: %v", err)
	}
	if !dbtest.Postgres() {
		return
	}
	// The test database's search_path is "<schema>,public": River must have
	// used the per-test schema, or tests (and tenants) would share one queue.
	var schema string
	err := d.QueryRowContext(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relname = 'river_job' AND n.nspname = current_schema()`).Scan(&schema)
	if err != nil {
		t.Fatalf("river_job is not in current_schema(): %v", err)
	}
	var inPublic bool
	if err := d.QueryRowContext(ctx, "SELECT to_regclass('public.river_job') IS NOT NULL").Scan(&inPublic); err != nil {
		t.Fatal(err)
	}
	if inPublic {
		t.Fatal("River created public.river_job")
	}
}

func TestPruneRunsEveryRegisteredPruner(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	exec(t, d, "CREATE TABLE expiring (id BIGINT PRIMARY KEY, expires_at BIGINT NOT NULL)")
	now := time.Now().Unix()
	exec(t, d, "INSERT INTO expiring (id, expires_at) VALUES (1, ?), (2, ?), (3, ?)", now-3600, now-1, now+3600)

	var expiringCalls, brokenCalls atomic.Int64
	var log logBuffer
	start(t, d, jobs.Config{
		Logger:        slog.New(slog.NewTextHandler(&log, nil)),
		PruneInterval: time.Second,
		Pruners: map[string]jobs.Pruner{
			"expiring": func(ctx context.Context, now time.Time) (int64, error) {
				expiringCalls.Add(1)
				res, err := d.ExecContext(ctx, "DELETE FROM expiring WHERE expires_at <= ?", now.Unix())
				if err != nil {
					return 0, err
				}
				return res.RowsAffected()
			},
			// A failing pruner must not keep the others from running.
			"broken": func(context.Context, time.Time) (int64, error) {
				brokenCalls.Add(1)
				return 0, errors.New("table is gone")
			},
		},
	})

	remaining := func() []int64 {
		var ids []int64
		if err := d.NewSelect().Table("expiring").Column("id").Order("id").Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	eventually(t, "the run on start deletes the expired rows", func() bool {
		return fmt.Sprint(remaining()) == "[3]"
	})
	if brokenCalls.Load() == 0 {
		t.Error("the broken pruner was not called")
	}

	// Later runs prune what expired since.
	exec(t, d, "INSERT INTO expiring (id, expires_at) VALUES (4, ?)", time.Now().Unix()-1)
	eventually(t, "a later run deletes the newly expired row", func() bool {
		return fmt.Sprint(remaining()) == "[3]"
	})
	if expiringCalls.Load() < 2 || brokenCalls.Load() < 2 {
		t.Errorf("calls: expiring %d, broken %d; want both at least 2", expiringCalls.Load(), brokenCalls.Load())
	}
	for _, want := range []string{
		`level=INFO msg="pruned expired rows" pruner=expiring rows=2`,
		`level=ERROR msg="job failed" kind=relais.prune`,
		`err="prune broken: table is gone"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log.String())
		}
	}
}

func TestInsertTxFollowsTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	createExecutions(t, d)
	c := start(t, d, jobs.Config{Workers: recorderWorkers(d, "only", 0)})

	errRollback := errors.New("roll back")
	err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := c.River().InsertTx(ctx, tx.Tx, recordArgs{Label: "rolled back"}, nil); err != nil {
			t.Errorf("InsertTx: %v", err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("RunInTx = %v, want the rollback", err)
	}
	var committed int64
	err = d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := c.River().InsertTx(ctx, tx.Tx, recordArgs{Label: "committed"}, nil)
		if err != nil {
			return err
		}
		committed = res.Job.ID
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	waitCompleted(t, c, committed)
	stop(t, c)
	// The rolled-back job was inserted first, so had it survived it would
	// have been fetched first.
	got := executions(t, d)
	want := fmt.Sprintf("[%d:committed:only]", committed)
	if fmt.Sprint(got) != want {
		t.Errorf("executions = %v, want %s", got, want)
	}
	var n int
	if err := d.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = ?", recordArgs{}.Kind()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("%d %s jobs in river_job, want 1", n, recordArgs{}.Kind())
	}
}

func TestReplicasWorkEachJobOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	a, b := dbtest.OpenURL(t, url), dbtest.OpenURL(t, url)
	if err := jobs.Migrate(ctx, a); err != nil {
		t.Fatal(err)
	}
	createExecutions(t, a)
	// Slow jobs, all queued before either replica starts, so that both
	// fetch from the same backlog instead of one draining it alone.
	ca := newClient(t, a, jobs.Config{Workers: recorderWorkers(a, "a", 50*time.Millisecond)})
	cb := newClient(t, b, jobs.Config{Workers: recorderWorkers(b, "b", 50*time.Millisecond)})
	const n = 50
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: recordArgs{Label: fmt.Sprint(i)}}
	}
	inserted, err := ca.River().InsertMany(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	run(t, ca)
	run(t, cb)
	for _, res := range inserted {
		waitCompleted(t, ca, res.Job.ID)
	}
	stop(t, ca)
	stop(t, cb)

	seen := map[int64]int{}
	byWorker := map[string]int{}
	for _, e := range executions(t, a) {
		seen[e.JobID]++
		byWorker[e.Worker]++
	}
	for _, res := range inserted {
		if seen[res.Job.ID] != 1 {
			t.Errorf("job %d ran %d times, want once", res.Job.ID, seen[res.Job.ID])
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct jobs ran, want %d", len(seen), n)
	}
	// Otherwise the test proved nothing about replicas.
	if byWorker["a"] == 0 || byWorker["b"] == 0 {
		t.Errorf("executions per replica = %v, want both to have worked", byWorker)
	}
}

func TestScheduledJobSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.URL(t)
	before := dbtest.OpenURL(t, url)
	if err := jobs.Migrate(ctx, before); err != nil {
		t.Fatal(err)
	}
	createExecutions(t, before)
	old := start(t, before, jobs.Config{Workers: recorderWorkers(before, "before", 0)})
	// Stop only once the old client has led (its prune job ran): stopped
	// while its first election is in flight, River can keep a leadership it
	// never resigns, and nobody schedules jobs until that lease ends (15 s).
	eventually(t, "the old client runs its prune job", func() bool {
		var n int
		if err := before.QueryRowContext(ctx, "SELECT count(*) FROM river_job WHERE kind = 'relais.prune' AND state = 'completed'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	stop(t, old)
	// A stopped client still inserts: the job waits in the database alone.
	res, err := old.River().Insert(ctx, recordArgs{Label: "scheduled"},
		&river.InsertOpts{ScheduledAt: time.Now().Add(500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	after := dbtest.OpenURL(t, url)
	c := start(t, after, jobs.Config{Workers: recorderWorkers(after, "after", 0)})
	waitCompleted(t, c, res.Job.ID)
	stop(t, c)
	want := fmt.Sprintf("[%d:scheduled:after]", res.Job.ID)
	if got := executions(t, after); fmt.Sprint(got) != want {
		t.Errorf("executions = %v, want %s", got, want)
	}
}

// recordArgs is a job that records its execution in the executions table.
type recordArgs struct {
	Label string `json:"label"`
}

func (recordArgs) Kind() string { return "test.record" }

type recorder struct {
	river.WorkerDefaults[recordArgs]
	db    *bun.DB
	name  string
	delay time.Duration
}

func (r *recorder) Work(ctx context.Context, job *river.Job[recordArgs]) error {
	time.Sleep(r.delay)
	_, err := r.db.ExecContext(ctx, "INSERT INTO executions (job_id, label, worker) VALUES (?, ?, ?)",
		job.ID, job.Args.Label, r.name)
	return err
}

func recorderWorkers(d *bun.DB, name string, delay time.Duration) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &recorder{db: d, name: name, delay: delay})
	return w
}

// No key on job_id: a second execution must show up as a second row.
func createExecutions(t *testing.T, d *bun.DB) {
	exec(t, d, "CREATE TABLE executions (job_id BIGINT NOT NULL, label TEXT NOT NULL, worker TEXT NOT NULL)")
}

type execution struct {
	JobID  int64  `bun:"job_id"`
	Label  string `bun:"label"`
	Worker string `bun:"worker"`
}

func (e execution) String() string { return fmt.Sprintf("%d:%s:%s", e.JobID, e.Label, e.Worker) }

func executions(t *testing.T, d *bun.DB) []execution {
	t.Helper()
	var es []execution
	if err := d.NewSelect().Table("executions").Column("job_id", "label", "worker").
		Order("job_id").Scan(context.Background(), &es); err != nil {
		t.Fatal(err)
	}
	return es
}

func migrated(t *testing.T) *bun.DB {
	t.Helper()
	d := dbtest.New(t)
	if err := jobs.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func newClient(t *testing.T, d *bun.DB, cfg jobs.Config) *jobs.Client {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	c, err := jobs.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run starts c until the test ends, stopping it before its database closes.
func run(t *testing.T, c *jobs.Client) {
	t.Helper()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, c) })
}

func start(t *testing.T, d *bun.DB, cfg jobs.Config) *jobs.Client {
	t.Helper()
	c := newClient(t, d, cfg)
	run(t, c)
	return c
}

func stop(t *testing.T, c *jobs.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func waitCompleted(t *testing.T, c *jobs.Client, id int64) {
	t.Helper()
	var state rivertype.JobState
	defer func() {
		if t.Failed() {
			t.Logf("job %d was last %q", id, state)
		}
	}()
	eventually(t, fmt.Sprintf("job %d completes", id), func() bool {
		job, err := c.River().JobGet(context.Background(), id)
		if err != nil {
			t.Fatalf("JobGet(%d): %v", id, err)
		}
		state = job.State
		return state == rivertype.JobStateCompleted
	})
}

// eventually polls cond until it holds, failing the test after a deadline
// generous enough for a loaded CI machine; it never asserts how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logBuffer collects log lines written from River's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func exec(t *testing.T, d *bun.DB, query string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// TestQueueInsertsForAClientBuiltLater: a job queued through a Queue, in a
// transaction, is worked by a Client that did not exist when it was queued,
// and a rolled-back one never is.
func TestQueueInsertsForAClientBuiltLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	createExecutions(t, d)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	errRollback := errors.New("roll back")
	if err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := q.InsertTx(ctx, tx, recordArgs{Label: "rolled back"}, nil); err != nil {
			t.Errorf("InsertTx: %v", err)
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("RunInTx = %v, want the rollback", err)
	}
	var queued int64
	if err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := q.InsertTx(ctx, tx, recordArgs{Label: "queued"}, nil)
		if err != nil {
			return err
		}
		queued = res.Job.ID
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	c := start(t, d, jobs.Config{Workers: recorderWorkers(d, "later", 0)})
	waitCompleted(t, c, queued)
	stop(t, c)
	want := fmt.Sprintf("[%d:queued:later]", queued)
	if got := executions(t, d); fmt.Sprint(got) != want {
		t.Errorf("executions = %v, want %s", got, want)
	}
}
