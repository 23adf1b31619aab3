package db

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// An access decision that sends a command is recorded before the command
// goes out, with the outcome 'pending', and its device's answer is written
// into that same row afterwards: so a command never leaves for a decision
// the audit does not hold, and a manager still reads one row per decision.
//
// access_events stays append-only in the database itself; the triggers now
// allow exactly one change: a row whose outcome is 'pending' gets its final
// outcome (confirmed, timeout, offline, rejected, busy), the round trip
// (latency_ms, when none was recorded) and the device's error appended to
// its detail. Nothing else of the row may change, a settled row never
// changes again, and nothing is ever deleted. A column added to the table
// later must be added to accessEventFixed below (TestAccessEventsSettleOnce
// tries every column of the model).
var accessEventFixed = []string{"id", "site_id", "occurred_at", "kind", "decision", "reason", "user_id", "actor_id",
	"actor_name", "device_id", "resource_id", "reservation_id", "session_id", "command_id"}

const accessEventFinal = `('confirmed', 'timeout', 'offline', 'rejected', 'busy')`

func init() {
	var same []string
	for _, c := range accessEventFixed {
		same = append(same, "NEW."+c+" IS OLD."+c)
	}
	sqliteSettle := `OLD.outcome = 'pending' AND NEW.outcome IN ` + accessEventFinal + `
		AND (OLD.latency_ms IS NULL OR NEW.latency_ms IS OLD.latency_ms)
		AND substr(NEW.detail, 1, length(OLD.detail)) = OLD.detail
		AND ` + strings.Join(same, " AND ")
	sqliteUp := []string{
		`DROP TRIGGER access_events_no_update`,
		`CREATE TRIGGER access_events_no_update BEFORE UPDATE ON access_events
			WHEN NOT (` + sqliteSettle + `)
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only: only a pending outcome may be settled, once'); END`,
	}
	sqliteDown := []string{
		`DROP TRIGGER access_events_no_update`,
		`CREATE TRIGGER access_events_no_update BEFORE UPDATE ON access_events
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END`,
	}
	oldCols := "OLD." + strings.Join(accessEventFixed, ", OLD.")
	newCols := "NEW." + strings.Join(accessEventFixed, ", NEW.")
	pgUp := []string{
		// The function the existing trigger (BEFORE UPDATE OR DELETE, each
		// row) runs; replacing it keeps the trigger.
		`CREATE OR REPLACE FUNCTION access_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP = 'UPDATE' AND OLD.outcome = 'pending' AND NEW.outcome IN ` + accessEventFinal + `
				AND (OLD.latency_ms IS NULL OR NEW.latency_ms IS NOT DISTINCT FROM OLD.latency_ms)
				AND left(NEW.detail, length(OLD.detail)) = OLD.detail
				AND (` + newCols + `) IS NOT DISTINCT FROM (` + oldCols + `)
			THEN
				RETURN NEW;
			END IF;
			RAISE EXCEPTION 'access_events is append-only: only a pending outcome may be settled, once';
		END $$`,
	}
	pgDown := []string{
		`CREATE OR REPLACE FUNCTION access_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'access_events is append-only'; END $$`,
	}
	migration := func(sqlite, pg []string) func(context.Context, *bun.DB) error {
		return func(ctx context.Context, db *bun.DB) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				if IsSQLite(tx) {
					return execDDL(ctx, tx, sqlite...)
				}
				return execDDL(ctx, tx, pg...)
			})
		}
	}
	if err := Migrations.Register(migration(sqliteUp, pgUp), migration(sqliteDown, pgDown)); err != nil {
		panic(err)
	}
}
