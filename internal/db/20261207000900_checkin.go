package db

// Check-in: when the member arrived for a booking (by themselves, a
// manager, or the first door grant of the slot), and who recorded it. A
// booking over without it is a no-show (computed, see calendar/checkin.go).
// The dashboard reads a site's bookings by time: reservations_site_busy_idx
// (site_id, busy_until, …) serves it.
func init() {
	up := ddl(
		`ALTER TABLE reservations ADD COLUMN checked_in_at {TS}`,
		`ALTER TABLE reservations ADD COLUMN checked_in_by TEXT`,
	)
	down := ddl(
		`ALTER TABLE reservations DROP COLUMN checked_in_by`,
		`ALTER TABLE reservations DROP COLUMN checked_in_at`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
