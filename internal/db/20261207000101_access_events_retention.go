package db

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// Access events are kept for a limited time (privacy's retention job,
// --access-log-retention): the triggers that keep access_events
// append-only now let a DELETE through only for the retention purge, and
// only for an event older than 28 days, the shortest retention Relais
// accepts (access.MinRetention). The purge announces itself by a row of
// access_event_purges, inserted and deleted inside its own transaction
// (so no other transaction ever sees it), naming the instant before which
// it deletes. A DELETE from anything else — a mistaken query, a manual
// fix-up — is refused as before. Updates keep the rule of 20261205000300.
func init() {
	table := `CREATE TABLE access_event_purges (
			id TEXT PRIMARY KEY,
			purge_before {TS} NOT NULL
		)`
	sqliteUp := []string{
		table,
		`DROP TRIGGER access_events_no_delete`,
		`CREATE TRIGGER access_events_no_delete BEFORE DELETE ON access_events
			WHEN NOT (julianday(OLD.occurred_at) < julianday('now', '-28 days')
				AND EXISTS (SELECT 1 FROM access_event_purges p WHERE julianday(OLD.occurred_at) < julianday(p.purge_before)))
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only: only the retention purge deletes events, none younger than 28 days'); END`,
	}
	sqliteDown := []string{
		`DROP TABLE access_event_purges`,
		`DROP TRIGGER access_events_no_delete`,
		`CREATE TRIGGER access_events_no_delete BEFORE DELETE ON access_events
			BEGIN SELECT RAISE(ABORT, 'access_events is append-only'); END`,
	}
	pgUp := []string{table, accessEventsGuard(`IF TG_OP = 'DELETE' AND OLD.occurred_at < now() - interval '28 days'
				AND EXISTS (SELECT 1 FROM access_event_purges p WHERE OLD.occurred_at < p.purge_before)
			THEN
				RETURN OLD;
			END IF;`)}
	pgDown := []string{accessEventsGuard(""), `DROP TABLE access_event_purges`}
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
