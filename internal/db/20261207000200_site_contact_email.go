package db

// The address a site's team reads: the Reply-To of every mail Relais
// sends a member about that site (bookings, reminders, waiting list), so
// that an answer reaches people rather than the unattended sender. NULL
// when the site has none.
func init() {
	up := ddl(
		`ALTER TABLE sites ADD COLUMN contact_email TEXT`,
	)
	down := ddl(
		`ALTER TABLE sites DROP COLUMN contact_email`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
