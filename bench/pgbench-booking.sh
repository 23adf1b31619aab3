#!/usr/bin/env bash
# What PostgreSQL alone can do with Relais's own booking statement: the one
# statement a member's booking sends (check the slot and the closures,
# insert the reservation, store the Idempotency-Key with its answer), run by
# pgbench as a prepared statement against the real schema (migrations
# applied to a scratch schema), at 1 and 16 clients. No HTTP, no Go, no
# authentication: the ceiling for BenchmarkBooking at M=500. Then the same
# at 16 clients with parts of the schema taken away one after another, to
# show what each costs (see BENCHMARKS.md). Compare with
# bench/pgbench-floor.sh, run in the same minutes.
#   bench/pgbench-booking.sh            (from the repository root)
set -euo pipefail
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
SCHEMA=pgbench_booking
SECONDS_PER_RUN="${SECONDS_PER_RUN:-8}"
psql -q "$PGURL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" -c "CREATE SCHEMA $SCHEMA" 2>/dev/null
trap 'psql -q "$PGURL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null; rm -f "$full" "$noidem"' EXIT
go run ./cmd/relais migrate up --database-url "$PGURL&search_path=$SCHEMA,public" >/dev/null
export PGOPTIONS="-c search_path=$SCHEMA,public"
psql -q "$PGURL" <<'SQL'
INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at)
  VALUES ('site1', 'La Fabrique', 'Europe/Paris', '{}', '{}', now(), now());
INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at)
  SELECT 'user' || g, 'member' || g || '@example.fr', 'Member', 'x', 'member', now(), now() FROM generate_series(1, 16) g;
INSERT INTO resources (id, site_id, kind, name, capacity, rules, created_at, updated_at)
  SELECT 'res' || g, 'site1', 'desk', 'Desk ' || g, 1, '{}', now(), now() FROM generate_series(1, 500) g;
SQL

full=$(mktemp)
noidem=$(mktemp)
# The statement of calendar.bookInOneStatement, with pgbench variables: a
# random desk of 500, a random hour, a random member of 16. (Its overlap
# test is the range test of calendar.overlappingSQL.)
cat > "$full" <<'SQL'
\set r random(1, 500)
\set h random(0, 100000)
\set u random(1, 16)
WITH ins AS (INSERT INTO reservations (id, resource_id, site_id, user_id, kind, status, exclusive, seats, starts_at, ends_at, busy_until, note, series_id, created_by, created_at, updated_at)
  SELECT gen_random_uuid()::text, 'res' || :r, 'site1', 'user' || :u, 'booking', 'confirmed', true, 1,
    timestamptz '2026-01-01' + :h * interval '1 hour', timestamptz '2026-01-01' + (:h + 1) * interval '1 hour',
    timestamptz '2026-01-01' + (:h + 1) * interval '1 hour', '', NULL, 'user' || :u, now(), now()
  WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE resource_id = 'res' || :r AND exclusive AND status <> 'cancelled'
      AND tstzrange(starts_at, busy_until, '[)') && tstzrange(timestamptz '2026-01-01' + :h * interval '1 hour', timestamptz '2026-01-01' + (:h + 1) * interval '1 hour', '[)'))
  AND NOT EXISTS (SELECT 1 FROM resource_closures WHERE resource_id = 'res' || :r
      AND starts_at < timestamptz '2026-01-01' + (:h + 1) * interval '1 hour' AND ends_at > timestamptz '2026-01-01' + :h * interval '1 hour')
  AND NOT EXISTS (SELECT 1 FROM site_closures WHERE site_id = 'site1'
      AND starts_at < timestamptz '2026-01-01' + (:h + 1) * interval '1 hour' AND ends_at > timestamptz '2026-01-01' + :h * interval '1 hour')
  AND EXISTS (SELECT 1 FROM resources WHERE id = 'res' || :r AND version = 0)
  AND EXISTS (SELECT 1 FROM sites WHERE id = 'site1' AND version = 0)
  RETURNING 1),
answer AS (INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, headers, body, created_at, expires_at)
  SELECT 'user' || :u, gen_random_uuid()::text, 'POST', '/v1/reservations', repeat('ab', 32), 201,
    '{"Content-Type":["application/json"]}', convert_to(repeat('x', 400), 'UTF8'), now(), now() + interval '1 day' FROM ins RETURNING 1)
SELECT (SELECT COUNT(*) FROM ins), (SELECT COUNT(*) FROM answer);
SQL
# The same without the Idempotency-Key's row.
sed -e '/^answer AS/,/^SELECT (SELECT COUNT/d' -e 's/^  RETURNING 1),$/  RETURNING 1)\nSELECT (SELECT COUNT(*) FROM ins);/' "$full" > "$noidem"

run() { # label script clients
  psql -q "$PGURL" -c 'TRUNCATE reservations, idempotency_keys CASCADE' 2>/dev/null
  printf '%-58s %s\n' "$1 ($3 clients)" \
    "$(pgbench -n -M prepared -f "$2" -c "$3" -j 2 -T "$SECONDS_PER_RUN" "$PGURL" | grep -E '^tps' | sed 's/ (without.*//')"
}
run "the booking statement" "$full" 1
run "the booking statement" "$full" 16
psql -q "$PGURL" -c 'ALTER TABLE reservations DROP CONSTRAINT reservations_resource_id_fkey, DROP CONSTRAINT reservations_site_id_fkey,
  DROP CONSTRAINT reservations_user_id_fkey, DROP CONSTRAINT reservations_created_by_fkey'
run "  without its 4 foreign keys" "$full" 16
psql -q "$PGURL" -c 'ALTER TABLE reservations DISABLE TRIGGER reservations_bump_seq'
run "  and without the booking_seq trigger" "$full" 16
run "  and without the Idempotency-Key row" "$noidem" 16
psql -q "$PGURL" -c 'DROP INDEX reservations_site_until_idx, reservations_user_until_idx'
run "  and without the availability and user indexes" "$noidem" 16

# A mature database: 2,000 past days of one 8-hour booking per desk (a
# desk used every working day for eight years, 1,000,000 rows), then a busy
# week of March 2026 (40 bookings per desk, 20,000 rows). Measured with the
# indexes by end time Relais uses now, then with the indexes by start time
# it used before (migration 20261127002300):
# - a booking of the hours just after that past (one client), with the
#   overlap test by comparison (SQLite; zones) and by range (PostgreSQL's
#   GiST index; desks, rooms, machines);
# - a week of the site as availability reads it (all 500 desks), and a week
#   of two desks (what a replica reads again after they were booked).
psql -q "$PGURL" <<'SQL'
SET client_min_messages = warning;
TRUNCATE reservations, idempotency_keys CASCADE;
CREATE INDEX reservations_site_until_idx ON reservations (site_id, busy_until, starts_at, resource_id, seats, exclusive, status, hold_expires_at);
INSERT INTO reservations (id, resource_id, site_id, user_id, kind, status, exclusive, seats, starts_at, ends_at, busy_until, note, created_by, created_at, updated_at)
SELECT 'past-' || r || '-' || d, 'res' || r, 'site1', 'user1', 'booking', 'confirmed', true, 1,
  timestamptz '2020-06-01' + d * interval '1 day', timestamptz '2020-06-01' + d * interval '1 day' + interval '8 hours',
  timestamptz '2020-06-01' + d * interval '1 day' + interval '8 hours', '', 'user1', now(), now()
FROM generate_series(1, 500) r, generate_series(0, 1999) d;
INSERT INTO reservations (id, resource_id, site_id, user_id, kind, status, exclusive, seats, starts_at, ends_at, busy_until, note, created_by, created_at, updated_at)
SELECT 'week-' || r || '-' || h, 'res' || r, 'site1', 'user1', 'booking', 'confirmed', true, 1,
  timestamptz '2026-03-02 08:00' + h * interval '3 hours', timestamptz '2026-03-02 09:00' + h * interval '3 hours',
  timestamptz '2026-03-02 09:00' + h * interval '3 hours', '', 'user1', now(), now()
FROM generate_series(1, 500) r, generate_series(0, 39) h;
VACUUM ANALYZE reservations;
SQL
history=$(mktemp)
trap 'psql -q "$PGURL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" 2>/dev/null; rm -f "$full" "$noidem" "$history" "$history.plain"' EXIT
# Bookings of the first 1,000 hours of 2026, between that past and that week.
sed -e 's/random(0, 100000)/random(0, 1000)/' "$noidem" > "$history"
python3 - "$history" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
ranged = """WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE resource_id = 'res' || :r AND exclusive AND status <> 'cancelled'
      AND tstzrange(starts_at, busy_until, '[)') && tstzrange(timestamptz '2026-01-01' + :h * interval '1 hour', timestamptz '2026-01-01' + (:h + 1) * interval '1 hour', '[)'))"""
plain = """WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE resource_id = 'res' || :r AND status <> 'cancelled'
      AND starts_at < timestamptz '2026-01-01' + (:h + 1) * interval '1 hour' AND busy_until > timestamptz '2026-01-01' + :h * interval '1 hour')"""
assert ranged in s
open(p + ".plain", "w").write(s.replace(ranged, plain))
PY
booking() { # label script
  psql -q "$PGURL" -c "DELETE FROM reservations WHERE id NOT LIKE 'past-%' AND id NOT LIKE 'week-%'"
  printf '%-64s %s\n' "  $1" "$(pgbench -n -M prepared -f "$2" -c 1 -T "$SECONDS_PER_RUN" "$PGURL" | grep -E '^latency average')"
}
week() { # label
  for what in "site_id = 'site1'|the site" "site_id = 'site1' AND resource_id = ANY('{res7,res9}')|two desks"; do
    times=""
    for _ in 1 2 3; do
      times="$times $(psql -At "$PGURL" -c "EXPLAIN (ANALYZE) SELECT resource_id, seats, starts_at, busy_until, exclusive FROM reservations
        WHERE ${what%|*} AND status <> 'cancelled' AND starts_at < '2026-03-09' AND busy_until > '2026-03-02'" | sed -n 's/^Execution Time: //p')"
    done
    printf '%-64s %s\n' "  $1: a week of ${what#*|}" "$times"
  done
}
echo "8 years of history:"
booking "indexes by end time (now): booking, overlap by comparison" "$history.plain"
booking "indexes by end time (now): booking, overlap by range" "$history"
week "indexes by end time (now)"
psql -q "$PGURL" -c 'DROP INDEX reservations_site_until_idx, reservations_resource_until_idx' \
  -c 'CREATE INDEX reservations_site_busy_idx ON reservations (site_id, starts_at, busy_until, resource_id, seats, exclusive, status, hold_expires_at)' \
  -c 'CREATE INDEX reservations_resource_time_idx ON reservations (resource_id, starts_at)' -c 'VACUUM ANALYZE reservations'
booking "indexes by start time (before): booking, overlap by comparison" "$history.plain"
booking "indexes by start time (before): booking, overlap by range" "$history"
week "indexes by start time (before)"
