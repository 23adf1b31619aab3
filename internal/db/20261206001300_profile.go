package db

// A member's profile: a phone number (E.164, or empty), the billing address
// billing uses when a purchase gives no buyer, and which mail they want
// (NULL: the defaults, identity.DefaultNotifications).
func init() {
	up := ddl(
		`ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE users ADD COLUMN billing_address {JSON}`,
		`ALTER TABLE users ADD COLUMN notifications {JSON}`,
	)
	down := ddl(
		`ALTER TABLE users DROP COLUMN notifications`,
		`ALTER TABLE users DROP COLUMN billing_address`,
		`ALTER TABLE users DROP COLUMN phone`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
