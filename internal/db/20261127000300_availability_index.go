package db

// Availability reads every live reservation of a site in a window: a
// covering index lets both engines answer from the index alone, without a
// table lookup per reservation.
func init() {
	up := ddl(`CREATE INDEX reservations_site_busy_idx ON reservations
		(site_id, starts_at, busy_until, resource_id, seats, exclusive, status, hold_expires_at)`)
	down := ddl(`DROP INDEX reservations_site_busy_idx`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
