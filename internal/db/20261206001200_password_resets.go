package db

// Password resets: a member who forgot their password asks for a link
// mailed to their address. Only the token's hash is stored; a token serves
// once and for an hour (identity.PasswordResetTTL).
func init() {
	up := ddl(
		`CREATE TABLE password_resets (
			id TEXT PRIMARY KEY,
			token_hash TEXT NOT NULL UNIQUE,
			user_id TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			used_at {TS}
		)`,
		`CREATE INDEX password_resets_user_idx ON password_resets (user_id, created_at)`,
	)
	down := ddl(
		`DROP TABLE password_resets`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
