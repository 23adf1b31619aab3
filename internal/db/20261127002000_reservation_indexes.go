package db

// Fewer indexes for every booking to update: reservations_site_time_idx
// (site_id, starts_at) is a prefix of reservations_site_busy_idx, which
// serves the same queries; most reservations belong to no series, so the
// series index keeps only those that do.
func init() {
	up := ddl(
		`DROP INDEX reservations_site_time_idx`,
		`DROP INDEX reservations_series_idx`,
		`CREATE INDEX reservations_series_idx ON reservations (series_id) WHERE series_id IS NOT NULL`,
	)
	down := ddl(
		`DROP INDEX reservations_series_idx`,
		`CREATE INDEX reservations_series_idx ON reservations (series_id)`,
		`CREATE INDEX reservations_site_time_idx ON reservations (site_id, starts_at)`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
