package db

// Versions of resources and sites: every change bumps them, so that a
// replica's cached copy (the booking path's, see calendar.resourceCache)
// can be checked current in the statement that uses it. An updated_at
// comparison would not do: two changes can carry the same instant.
func init() {
	up := ddl(
		`ALTER TABLE resources ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE sites ADD COLUMN version BIGINT NOT NULL DEFAULT 0`,
	)
	down := ddl(
		`ALTER TABLE sites DROP COLUMN version`,
		`ALTER TABLE resources DROP COLUMN version`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
