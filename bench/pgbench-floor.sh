#!/usr/bin/env bash
# The floor for booking throughput: PostgreSQL alone inserting one-hour
# bookings into a table guarded by the same GiST exclusion constraint Relais
# uses, from 1 and 16 pgbench clients. Each insert picks a random resource and
# hour; overlaps are refused by the constraint (ON CONFLICT cannot catch
# exclusion violations, so the script uses a DO block that swallows them).
#   PGURL=postgres://postgres@127.0.0.1:5432/test bench/pgbench-floor.sh
set -euo pipefail
PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
psql -q "$PGURL" <<'SQL'
CREATE EXTENSION IF NOT EXISTS btree_gist;
DROP TABLE IF EXISTS floor_bookings;
CREATE TABLE floor_bookings (
  id bigserial PRIMARY KEY,
  resource_id int NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
);
SQL
script=$(mktemp)
cat > "$script" <<'SQL'
\set r random(1, 500)
\set h random(0, 100000)
DO $$ BEGIN
  INSERT INTO floor_bookings (resource_id, starts_at, ends_at)
  VALUES (:r, timestamptz '2026-01-01' + :h * interval '1 hour', timestamptz '2026-01-01' + (:h + 1) * interval '1 hour');
EXCEPTION WHEN exclusion_violation THEN NULL;
END $$;
SQL
for c in 1 16; do
  psql -q "$PGURL" -c 'TRUNCATE floor_bookings'
  echo "== $c client(s)"
  pgbench -n -f "$script" -c "$c" -j "$c" -T 10 "$PGURL" | grep -E 'tps|latency average'
done
psql -q "$PGURL" -c 'DROP TABLE floor_bookings'
rm -f "$script"
