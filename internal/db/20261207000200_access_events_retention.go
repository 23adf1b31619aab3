package db

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// Access events are kept for a limited time (privacy's retention job,
// --access-log-retention): the triggers that keep access_events
// append-only now let a DELETE through for an event older than 28 days,
// the shortest retention Relais accepts (access.MinRetention), and for no
// other. Updates keep the rule of 20261205000300.
func init() {
	sqliteUp := []string{
		`DROP TRIGGER access_events_no_delete`,
		`CREATE TRIGGER access_events_no_delete BEFORE DELETE ON access_events
			WHEN NOT (julianday(OLD.occurred_at) < julianday('now', '-28 days'))
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only: only events older than 28 days may be purged'); END`,
	}
	sqliteDown := []string{
		`DROP TRIGGER access_events_no_delete`,
		`CREATE TRIGGER access_events_no_delete BEFORE DELETE ON access_events
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END`,
	}
	pgUp := []string{accessEventsGuard(`IF TG_OP = 'DELETE' AND OLD.occurred_at < now() - interval '28 days' THEN
				RETURN OLD;
			END IF;`)}
	pgDown := []string{accessEventsGuard("")}
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

// accessEventsGuard is the PostgreSQL function of the append-only trigger
// as 20261205000300 made it, with deleteRule before its settle rule.
func accessEventsGuard(deleteRule string) string {
	oldCols := "OLD." + strings.Join(accessEventFixed, ", OLD.")
	newCols := "NEW." + strings.Join(accessEventFixed, ", NEW.")
	return `CREATE OR REPLACE FUNCTION access_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			` + deleteRule + `
			IF TG_OP = 'UPDATE' AND OLD.outcome = 'pending' AND NEW.outcome IN ` + accessEventFinal + `
				AND (OLD.latency_ms IS NULL OR NEW.latency_ms IS NOT DISTINCT FROM OLD.latency_ms)
				AND left(NEW.detail, length(OLD.detail)) = OLD.detail
				AND (` + newCols + `) IS NOT DISTINCT FROM (` + oldCols + `)
			THEN
				RETURN NEW;
			END IF;
			RAISE EXCEPTION 'access_events is append-only: only a pending outcome may be settled, once';
		END $$`
}
