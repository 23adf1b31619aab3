package db

// What a site is, as the network's console shows it and a member's app may
// say: a coworking space, a fablab, a public digital space (EPN) or a
// tiers-lieu mixing them (the default, and what every site opened before
// was taken to be).
func init() {
	up := ddl(
		`ALTER TABLE sites ADD COLUMN kind TEXT NOT NULL DEFAULT 'tiers_lieu'`,
	)
	down := ddl(
		`ALTER TABLE sites DROP COLUMN kind`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
