package db

// When the presence message last applied to a device was received. Several
// replicas receive the same presence messages and each writes them; one
// that lags behind must not re-apply an older message over a newer one
// (online, offline, online seen late as a second offline), so a write only
// applies when its message is newer than presence_at.
func init() {
	up := ddl(`ALTER TABLE devices ADD COLUMN presence_at {TS}`)
	down := ddl(`ALTER TABLE devices DROP COLUMN presence_at`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
