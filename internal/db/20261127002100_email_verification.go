package db

// Email verification: a member's address is verified once they follow the
// link mailed to it. Only the token's hash is stored; a token serves once.
// Credit held for a backer's email goes only to an account whose address
// is verified (billing.ClaimContributions).
func init() {
	up := ddl(
		`ALTER TABLE users ADD COLUMN email_verified_at {TS}`,
		`CREATE TABLE email_verifications (
			token_hash TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			used_at {TS}
		)`,
		`CREATE INDEX email_verifications_user_idx ON email_verifications (user_id, created_at)`,
	)
	down := ddl(
		`DROP TABLE email_verifications`,
		`ALTER TABLE users DROP COLUMN email_verified_at`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
