package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// mailArgs is unique by its event, as notify's jobs are: River keys it on
// event_id alone, whatever else it carries.
type mailArgs struct {
	EventID string    `json:"event_id" river:"unique"`
	Type    string    `json:"type"`
	At      time.Time `json:"at"`
}

func (mailArgs) Kind() string { return "test.outbox_mail" }

// hookArgs is not unique: two rows of it are two jobs, which makes a job
// moved twice visible.
type hookArgs struct {
	EventID string `json:"event_id"`
}

func (hookArgs) Kind() string { return "test.outbox_hook" }

// undeclaredArgs is answered by a source that does not declare it.
type undeclaredArgs struct{}

func (undeclaredArgs) Kind() string { return "test.outbox_undeclared" }

// testSource answers a unique mail job scheduled at the event's time, with
// options to carry, and a plain hook job.
type testSource struct{ undeclared bool }

func (s testSource) JobsFor(e events.Event) ([]river.InsertManyParams, error) {
	if s.undeclared {
		return []river.InsertManyParams{{Args: undeclaredArgs{}}}, nil
	}
	return []river.InsertManyParams{
		{Args: mailArgs{EventID: e.ID, Type: e.Type, At: e.At}, InsertOpts: &river.InsertOpts{
			ScheduledAt: e.At, MaxAttempts: 3, Priority: 2, Tags: []string{"mail"},
			UniqueOpts: river.UniqueOpts{ByArgs: true}}},
		{Args: hookArgs{EventID: e.ID}},
	}, nil
}

func (testSource) JobKinds() []river.JobArgs { return []river.JobArgs{mailArgs{}, hookArgs{}} }

func staged(t *testing.T, d *bun.DB) int {
	t.Helper()
	n, err := d.NewSelect().Table("job_outbox").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func listJobs(t *testing.T, c *jobs.Client, kind string) []*rivertype.JobRow {
	t.Helper()
	res, err := c.River().JobList(context.Background(), river.NewJobListParams().Kinds(kind).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

func publishInTx(t *testing.T, d *bun.DB, pub events.Publisher, e events.Event, rollback bool) {
	t.Helper()
	errRollback := errors.New("rolled back")
	err := d.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		if err := pub.Publish(ctx, tx, e); err != nil {
			return err
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if err != nil && !(rollback && errors.Is(err, errRollback)) {
		t.Fatal(err)
	}
}

// A job published in a transaction is staged with it, rolled back with
// it, and moved into River once, with its arguments and options as given.
func TestOutboxStagesWithTheTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{})
	c := newClient(t, d, jobs.Config{}) // not started: the test moves the outbox itself
	at := time.Date(2030, 3, 30, 1, 30, 0, 0, time.UTC)

	publishInTx(t, d, pub, events.New("thing.created", "", at, nil), true)
	if n := staged(t, d); n != 0 {
		t.Fatalf("%d rows staged by a rolled-back transaction", n)
	}

	e := events.New("thing.created", "", at, nil)
	publishInTx(t, d, pub, e, false)
	if n := staged(t, d); n != 2 {
		t.Fatalf("%d rows staged, want the mail and the hook", n)
	}
	if n := len(listJobs(t, c, mailArgs{}.Kind())); n != 0 {
		t.Fatalf("%d jobs in River before the move", n)
	}
	if n, err := c.MoveOutbox(ctx); err != nil || n != 2 {
		t.Fatalf("moved %d, %v; want 2", n, err)
	}
	if n := staged(t, d); n != 0 {
		t.Fatalf("%d rows left after the move", n)
	}
	checkMoved(t, c, e, at)
	if n, err := c.MoveOutbox(ctx); err != nil || n != 0 {
		t.Fatalf("second move: %d, %v", n, err)
	}
}

// A unique job keeps its key through the outbox: the same event staged
// three times, and published once more outside any transaction (straight
// into River), is one job; a job that is not unique is one per
// publication.
func TestOutboxKeepsUniqueKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{})
	c := newClient(t, d, jobs.Config{})
	e := events.New("thing.created", "", time.Now(), nil)
	publishInTx(t, d, pub, e, false)
	if _, err := c.MoveOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	// Twice more, moved in one batch: River refuses a batch holding one
	// unique key twice, so the mover must drop the copy, not fail.
	publishInTx(t, d, pub, e, false)
	publishInTx(t, d, pub, e, false)
	if n, err := c.MoveOutbox(ctx); err != nil || n != 4 {
		t.Fatalf("moved %d, %v; want the four rows", n, err)
	}
	if err := pub.Publish(ctx, d, e); err != nil {
		t.Fatal(err)
	}
	if n := len(listJobs(t, c, mailArgs{}.Kind())); n != 1 {
		t.Fatalf("%d mail jobs for one event, want 1", n)
	}
	if n := len(listJobs(t, c, hookArgs{}.Kind())); n != 4 {
		t.Fatalf("%d hook jobs for four publications of a non-unique job, want 4", n)
	}
}

// Movers running at once (replicas, or a test beside the client) move
// every staged job once.
func TestOutboxMoversDoNotDouble(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{})
	const published = 150
	for range published {
		publishInTx(t, d, pub, events.New("thing.created", "", time.Now(), nil), false)
	}
	movers := []*jobs.Client{newClient(t, d, jobs.Config{}), newClient(t, d, jobs.Config{}), newClient(t, d, jobs.Config{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, c := range movers {
		wg.Go(func() {
			n, err := c.MoveOutbox(ctx)
			if err != nil {
				t.Errorf("move: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 2*published {
		t.Errorf("moved %d rows in all, want %d", total, 2*published)
	}
	res, err := movers[0].River().JobList(ctx, river.NewJobListParams().Kinds(hookArgs{}.Kind()).First(10_000))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != published {
		t.Errorf("%d hook jobs, want %d", len(res.Jobs), published)
	}
	if n := staged(t, d); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

// A started client moves staged jobs by itself, and works them.
func TestClientMovesTheOutbox(t *testing.T) {
	t.Parallel()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{})
	worked := make(chan string, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(_ context.Context, j *river.Job[hookArgs]) error {
		worked <- j.Args.EventID
		return nil
	}))
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[mailArgs]) error { return nil }))
	start(t, d, jobs.Config{Workers: workers})
	e := events.New("thing.created", "", time.Now(), nil)
	publishInTx(t, d, pub, e, false)
	select {
	case got := <-worked:
		if got != e.ID {
			t.Fatalf("worked %s, want %s", got, e.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the staged job was never worked")
	}
}

// A source answering a kind it did not declare fails the publication (and
// so the change), rather than stage a row no replica could move.
func TestOutboxRefusesUndeclaredKinds(t *testing.T) {
	t.Parallel()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{undeclared: true})
	err = d.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		return pub.Publish(ctx, tx, events.New("thing.created", "", time.Now(), nil))
	})
	if err == nil {
		t.Fatal("an undeclared kind was staged")
	}
	if n := staged(t, d); n != 0 {
		t.Fatalf("%d rows staged", n)
	}
}

// A row no source of this process declares (staged by a newer replica)
// stays in the outbox and does not hold up the others.
func TestOutboxLeavesUnknownKinds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	pub := q.Publisher(testSource{})
	exec(t, d, "INSERT INTO job_outbox (id, kind, args, opts, created_at) VALUES (?, ?, ?, ?, ?)",
		"00000000-0000-7000-8000-000000000000", "test.from_the_future", "{}", "{}", time.Now().UTC())
	publishInTx(t, d, pub, events.New("thing.created", "", time.Now(), nil), false)
	c := newClient(t, d, jobs.Config{})
	if n, err := c.MoveOutbox(ctx); err != nil || n != 2 {
		t.Fatalf("moved %d, %v; want the two known jobs", n, err)
	}
	if n := staged(t, d); n != 1 {
		t.Fatalf("%d rows left, want the unknown one", n)
	}
}

// Stage writes an event's jobs within the caller's own statement, once for
// each row of the caller's expression: none when the change wrote nothing,
// and what it stages moves into River as a published event's jobs do.
// PostgreSQL only: SQLite has no INSERT inside WITH, and the calendar
// publishes there instead.
func TestOutboxStagesInTheCallersStatement(t *testing.T) {
	t.Parallel()
	if !dbtest.Postgres() {
		t.Skip("PostgreSQL only: SQLite has no INSERT inside WITH")
	}
	ctx := context.Background()
	d := migrated(t)
	q, err := jobs.NewQueue(d)
	if err != nil {
		t.Fatal(err)
	}
	stager, ok := q.Publisher(testSource{}).(events.Stager)
	if !ok {
		t.Fatal("the jobs publisher is not an events.Stager")
	}
	c := newClient(t, d, jobs.Config{})
	at := time.Date(2030, 3, 30, 1, 30, 0, 0, time.UTC)
	run := func(change string, e events.Event) {
		t.Helper()
		query, args, ok, err := stager.Stage(e, "change")
		if err != nil || !ok || query == "" {
			t.Fatalf("Stage: %q, %v, %v", query, ok, err)
		}
		stmt := db.NumberPlaceholders("WITH change AS (" + change + "), staged AS (" + query + ") SELECT COUNT(*) FROM change")
		var n int
		if err := db.Raw(d).QueryRowContext(ctx, stmt, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}

	run("SELECT 1 WHERE false", events.New("thing.created", "", at, nil))
	if n := staged(t, d); n != 0 {
		t.Fatalf("%d rows staged by a change that wrote nothing", n)
	}
	e := events.New("thing.created", "", at, nil)
	run("SELECT 1", e)
	if n := staged(t, d); n != 2 {
		t.Fatalf("%d rows staged, want the mail and the hook", n)
	}
	if n, err := c.MoveOutbox(ctx); err != nil || n != 2 {
		t.Fatalf("moved %d, %v; want 2", n, err)
	}
	checkMoved(t, c, e, at)
}

// checkMoved checks that testSource's two jobs for e, an event at at, are
// in River once each, the mail scheduled with its options and arguments.
func checkMoved(t *testing.T, c *jobs.Client, e events.Event, at time.Time) {
	t.Helper()
	mails := listJobs(t, c, mailArgs{}.Kind())
	if len(mails) != 1 {
		t.Fatalf("%d mail jobs, want 1", len(mails))
	}
	m := mails[0]
	if !m.ScheduledAt.Equal(at) || m.MaxAttempts != 3 || m.Priority != 2 || len(m.Tags) != 1 || m.Tags[0] != "mail" ||
		m.State != rivertype.JobStateScheduled {
		t.Errorf("mail job %+v: options not carried", m)
	}
	var got mailArgs
	if err := json.Unmarshal(m.EncodedArgs, &got); err != nil {
		t.Fatal(err)
	}
	if want := (mailArgs{EventID: e.ID, Type: e.Type, At: at}); got != want {
		t.Errorf("args %+v, want %+v", got, want)
	}
	if n := len(listJobs(t, c, hookArgs{}.Kind())); n != 1 {
		t.Fatalf("%d hook jobs, want 1", n)
	}
}
