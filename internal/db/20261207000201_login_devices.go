package db

// The devices (browser and system, as identity simplifies a User-Agent)
// each account logged in with, and when last: a login with a device the
// account has not used in 90 days mails the member when they chose
// notifications.new_sign_in. Rows older than 90 days are pruned.
func init() {
	up := ddl(
		`CREATE TABLE login_devices (
			user_id TEXT NOT NULL REFERENCES users (id),
			device TEXT NOT NULL,
			last_login_at {TS} NOT NULL,
			PRIMARY KEY (user_id, device)
		)`,
		`CREATE INDEX login_devices_last_idx ON login_devices (last_login_at)`,
	)
	down := ddl(
		`DROP TABLE login_devices`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
