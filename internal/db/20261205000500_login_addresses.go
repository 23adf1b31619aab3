package db

// The client addresses each account logged in from (an IPv6 client's /64),
// and when last: wrong passwords tried from addresses an account has never
// logged in from share one limit per account, which addresses it knows are
// not held to, so that a stranger cannot lock its owner out
// (identity.RateLimits). Rows older than 90 days are pruned.
func init() {
	up := ddl(
		`CREATE TABLE login_addresses (
			user_id TEXT NOT NULL REFERENCES users (id),
			address TEXT NOT NULL,
			last_login_at {TS} NOT NULL,
			PRIMARY KEY (user_id, address)
		)`,
		`CREATE INDEX login_addresses_last_idx ON login_addresses (last_login_at)`,
	)
	down := ddl(
		`DROP TABLE login_addresses`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
