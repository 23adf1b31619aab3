package db

// The language a member reads their mail in: "fr" (the default, as for
// every account made before) or "en". Identity renders every message it
// sends in it.
func init() {
	up := ddl(
		`ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'fr'`,
	)
	down := ddl(
		`ALTER TABLE users DROP COLUMN language`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
