#!/usr/bin/env bash
# What an unlock's audit costs PostgreSQL alone: the decision's INSERT, then
# the INSERT and the UPDATE that settles it (with and without the trigger that
# guards the UPDATE, as migration 20261205000300 writes it), each committed
# without waiting for the WAL flush, as relais does by default. Runs in a
# scratch schema, dropped afterwards.
#   bench/pgbench-audit-settle.sh [SECONDS]     (PGHOST etc. as for psql; default 127.0.0.1, postgres, test)
set -euo pipefail
T="${1:-5}"
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-postgres}" PGDATABASE="${PGDATABASE:-test}"
DIR="$(mktemp -d)"
trap 'psql -q -c "DROP SCHEMA IF EXISTS zz_audit CASCADE" >/dev/null 2>&1; rm -rf "$DIR"' EXIT
psql -q -v ON_ERROR_STOP=1 <<'SQL'
DROP SCHEMA IF EXISTS zz_audit CASCADE; CREATE SCHEMA zz_audit; SET search_path = zz_audit;
CREATE TABLE ev (id text PRIMARY KEY, site_id text, occurred_at timestamptz, kind text, decision text,
  reason text DEFAULT '', detail text DEFAULT '', outcome text DEFAULT '', user_id text, actor_id text,
  actor_name text DEFAULT '', device_id text, resource_id text, reservation_id text, session_id text,
  command_id text, latency_ms int);
CREATE TABLE ev_plain (LIKE ev INCLUDING ALL);
CREATE FUNCTION settle_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.outcome = 'pending' AND NEW.outcome IN ('confirmed', 'timeout', 'offline', 'rejected', 'busy')
    AND (OLD.latency_ms IS NULL OR NEW.latency_ms IS NOT DISTINCT FROM OLD.latency_ms)
    AND left(NEW.detail, length(OLD.detail)) = OLD.detail
    AND (NEW.id, NEW.site_id, NEW.occurred_at, NEW.kind, NEW.decision, NEW.reason, NEW.user_id, NEW.actor_id, NEW.actor_name,
         NEW.device_id, NEW.resource_id, NEW.reservation_id, NEW.session_id, NEW.command_id)
      IS NOT DISTINCT FROM (OLD.id, OLD.site_id, OLD.occurred_at, OLD.kind, OLD.decision, OLD.reason, OLD.user_id, OLD.actor_id,
         OLD.actor_name, OLD.device_id, OLD.resource_id, OLD.reservation_id, OLD.session_id, OLD.command_id)
  THEN RETURN NEW; END IF;
  RAISE EXCEPTION 'append-only';
END $$;
CREATE TRIGGER settle_once BEFORE UPDATE OR DELETE ON ev FOR EACH ROW EXECUTE FUNCTION settle_once();
SQL
for table in ev ev_plain; do
  cat >"$DIR/$table-insert.sql" <<SQL
\set n random(1, 2000000000)
INSERT INTO zz_audit.$table (id, site_id, occurred_at, kind, decision, outcome) VALUES ('i' || :n || '-' || :client_id, 's', now(), 'door_unlock', 'granted', 'pending') ON CONFLICT DO NOTHING RETURNING set_config('synchronous_commit', 'off', true);
SQL
  cat >"$DIR/$table-settle.sql" <<SQL
\set n random(1, 2000000000)
INSERT INTO zz_audit.$table (id, site_id, occurred_at, kind, decision, outcome) VALUES ('s' || :n || '-' || :client_id, 's', now(), 'door_unlock', 'granted', 'pending') ON CONFLICT DO NOTHING RETURNING set_config('synchronous_commit', 'off', true);
UPDATE zz_audit.$table SET outcome = 'confirmed', latency_ms = 1, detail = '' WHERE id = 's' || :n || '-' || :client_id AND outcome = 'pending' RETURNING set_config('synchronous_commit', 'off', true);
SQL
done
for run in ev-insert ev-settle ev_plain-settle; do
  printf '%-16s ' "$run"
  pgbench -n -M prepared -f "$DIR/$run.sql" -T "$T" 2>&1 | grep 'latency average'
done
