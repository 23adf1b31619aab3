package db

// Guests of a site's services (package people, issue 18): a person served
// without an account of their own — a resident at an atelier or an
// appointment — is a desk-registered account that never chose a password
// (site_people, users.awaiting_password), plus what funders' figures need
// and nothing more: the commune they live in and an age band. The row is
// erased with the account (people's ForgetMember), by the person's
// request or by the retention purge of guests no longer served.
func init() {
	up := ddl(
		`CREATE TABLE guests (
			user_id TEXT PRIMARY KEY REFERENCES users (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			commune_name TEXT NOT NULL,
			commune_insee TEXT,
			postal_code TEXT,
			age_band TEXT NOT NULL,
			created_by TEXT REFERENCES users (id),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX guests_site_idx ON guests (site_id)`,
		`CREATE INDEX guests_updated_idx ON guests (updated_at)`,
	)
	down := ddl(`DROP TABLE guests`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
