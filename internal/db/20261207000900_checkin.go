package db

// Check-in: when the member arrived for a booking (by themselves, a
// manager, or the first door grant of the slot), and who recorded it. A
// booking over without it is a no-show (computed, see calendar/checkin.go).
// The dashboard reads a site's bookings by time through
// reservations_site_busy_idx (site_id, busy_until, …), and its check-ins
// (who arrived today, who is here) through the partial index below.
func init() {
	up := ddl(
		`ALTER TABLE reservations ADD COLUMN checked_in_at {TS}`,
		`ALTER TABLE reservations ADD COLUMN checked_in_by TEXT`,
		`CREATE INDEX reservations_site_checkin_idx ON reservations (site_id, checked_in_at) WHERE checked_in_at IS NOT NULL`,
	)
	down := ddl(
		`DROP INDEX reservations_site_checkin_idx`,
		`ALTER TABLE reservations DROP COLUMN checked_in_by`,
		`ALTER TABLE reservations DROP COLUMN checked_in_at`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
