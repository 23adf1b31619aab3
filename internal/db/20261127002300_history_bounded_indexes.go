package db

// A resource's, a site's and a member's reservations are indexed by when
// they end (busy_until, or ends_at for a member) rather than when they
// start. The questions asked of them are about a window from now on (what
// overlaps [from, to): availability, the overlap check, a door's current
// reservation, plan quotas, feeds, listings), and "ends after from" is a
// range of such an index that holds the window and the future only, while
// "starts before to" walked every earlier reservation. With eight years of
// daily bookings of 500 desks, PostgreSQL read a week of the site in 81–103
// ms instead of 6–7, and of two desks in 1.7–1.8 ms instead of 0.6–0.9
// (BENCHMARKS.md). Listing all of a member's reservations from the first
// one now sorts them, which is cheap at a few thousand. The queries state
// busy_until > from wherever they filter on ends_at > from (busy_until is
// never before ends_at), so that both engines can use the range.
func init() {
	up := ddl(
		`DROP INDEX reservations_resource_time_idx`,
		`CREATE INDEX reservations_resource_until_idx ON reservations (resource_id, busy_until)`,
		`DROP INDEX reservations_site_busy_idx`,
		`CREATE INDEX reservations_site_until_idx ON reservations
			(site_id, busy_until, starts_at, resource_id, seats, exclusive, status, hold_expires_at)`,
		`DROP INDEX reservations_user_time_idx`,
		`CREATE INDEX reservations_user_until_idx ON reservations (user_id, ends_at)`,
	)
	down := ddl(
		`DROP INDEX reservations_user_until_idx`,
		`CREATE INDEX reservations_user_time_idx ON reservations (user_id, starts_at)`,
		`DROP INDEX reservations_site_until_idx`,
		`CREATE INDEX reservations_site_busy_idx ON reservations
			(site_id, starts_at, busy_until, resource_id, seats, exclusive, status, hold_expires_at)`,
		`DROP INDEX reservations_resource_until_idx`,
		`CREATE INDEX reservations_resource_time_idx ON reservations (resource_id, starts_at)`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
