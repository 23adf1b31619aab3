package db

// Email change: the address a member asked to move to waits in
// users.pending_email until they follow the link mailed to it; the old
// address keeps working meanwhile. Only the link's token hash is stored.
func init() {
	up := ddl(
		`ALTER TABLE users ADD COLUMN pending_email TEXT`,
		`CREATE TABLE email_changes (
			id TEXT PRIMARY KEY,
			token_hash TEXT NOT NULL UNIQUE,
			user_id TEXT NOT NULL REFERENCES users (id),
			old_email TEXT NOT NULL,
			new_email TEXT NOT NULL,
			created_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			used_at {TS}
		)`,
		`CREATE INDEX email_changes_user_idx ON email_changes (user_id, created_at)`,
	)
	down := ddl(
		`DROP TABLE email_changes`,
		`ALTER TABLE users DROP COLUMN pending_email`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
