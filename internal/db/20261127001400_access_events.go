package db

import (
	"context"

	"github.com/uptrace/bun"
)

// Physical access: the append-only audit of every door and machine decision,
// and machine sessions (a member's relay switched on for their slot).
//
// access_events is append-only in the database itself, not only in the
// code: a trigger refuses every UPDATE and DELETE on both engines, so no
// future code path (nor a manual fix-up) can rewrite what happened.
func init() {
	tables := []string{
		`CREATE TABLE access_events (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			occurred_at {TS} NOT NULL,
			kind TEXT NOT NULL,
			decision TEXT NOT NULL CHECK (decision IN ('granted', 'denied', 'info')),
			reason TEXT NOT NULL DEFAULT '',
			detail TEXT NOT NULL DEFAULT '',
			outcome TEXT NOT NULL DEFAULT '',
			user_id TEXT REFERENCES users (id),
			actor_id TEXT REFERENCES users (id),
			actor_name TEXT NOT NULL DEFAULT '',
			device_id TEXT REFERENCES devices (id),
			resource_id TEXT REFERENCES resources (id),
			reservation_id TEXT REFERENCES reservations (id),
			session_id TEXT,
			command_id TEXT,
			latency_ms INTEGER
		)`,
		`CREATE INDEX access_events_site_time_idx ON access_events (site_id, occurred_at, id)`,
		`CREATE INDEX access_events_user_time_idx ON access_events (user_id, occurred_at, id)`,
		`CREATE TABLE machine_sessions (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			resource_id TEXT NOT NULL REFERENCES resources (id),
			device_id TEXT NOT NULL REFERENCES devices (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			reservation_id TEXT NOT NULL REFERENCES reservations (id),
			started_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			stopped_at {TS},
			stop_reason TEXT NOT NULL DEFAULT '',
			off_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
			used_minutes INTEGER,
			created_at {TS} NOT NULL
		)`,
		// One running session per machine: two members (or two replicas)
		// starting at once cannot both hold the relay.
		`CREATE UNIQUE INDEX machine_sessions_running_idx ON machine_sessions (resource_id) WHERE stopped_at IS NULL`,
		`CREATE INDEX machine_sessions_user_idx ON machine_sessions (user_id, started_at)`,
	}
	sqliteOnly := []string{
		`CREATE TRIGGER access_events_no_update BEFORE UPDATE ON access_events
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END`,
		`CREATE TRIGGER access_events_no_delete BEFORE DELETE ON access_events
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END`,
	}
	pgOnly := []string{
		`CREATE FUNCTION access_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'access_events is append-only'; END $$`,
		`CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
			FOR EACH ROW EXECUTE FUNCTION access_events_append_only()`,
	}
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, tables...); err != nil {
				return err
			}
			if IsSQLite(tx) {
				return execDDL(ctx, tx, sqliteOnly...)
			}
			return execDDL(ctx, tx, pgOnly...)
		})
	}
	down := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, `DROP TABLE machine_sessions`, `DROP TABLE access_events`); err != nil {
				return err
			}
			if IsSQLite(tx) {
				return nil
			}
			return execDDL(ctx, tx, `DROP FUNCTION access_events_append_only()`)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
