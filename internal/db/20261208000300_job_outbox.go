package db

// The job outbox: the jobs a transaction queues through jobs.Queue's
// Publisher, written as plain rows with one prepared INSERT each, and moved
// into River's table by the job client just after the commit (see
// internal/jobs/outbox.go). River's own insert statement, run inside a
// booking's transaction, cost it most of a millisecond on PostgreSQL.
func init() {
	up := ddl(
		`CREATE TABLE job_outbox (
			id TEXT PRIMARY KEY,
			kind TEXT NOT NULL,
			args TEXT NOT NULL,
			opts TEXT NOT NULL,
			created_at {TS} NOT NULL
		)`,
	)
	down := ddl(`DROP TABLE job_outbox`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
