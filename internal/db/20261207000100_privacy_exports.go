package db

// A member's export of their personal data (privacy package): a ZIP built
// by a job, kept here seven days, then deleted. At most one export is
// being built per member at a time (the partial unique index).
func init() {
	up := ddl(
		`CREATE TABLE privacy_exports (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			status TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
			created_at {TS} NOT NULL,
			ready_at {TS},
			expires_at {TS},
			size_bytes BIGINT NOT NULL DEFAULT 0,
			content {BYTES}
		)`,
		`CREATE INDEX privacy_exports_user_idx ON privacy_exports (user_id, created_at)`,
		`CREATE UNIQUE INDEX privacy_exports_running_idx ON privacy_exports (user_id) WHERE status = 'pending'`,
	)
	down := ddl(
		`DROP TABLE privacy_exports`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
