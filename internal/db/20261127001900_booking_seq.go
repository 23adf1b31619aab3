package db

import (
	"context"

	"github.com/uptrace/bun"
)

// A change counter per resource, bumped by the database itself whenever one
// of its reservations is inserted, updated or deleted, so that a replica's
// in-memory copy of a site's busy intervals (calendar's busyCache) can be
// checked current with one small read. The counters only grow, and a change
// bumps its resource's counter in the change's own transaction: a reader
// that reads the counters before the reservations can never label older
// rows with a newer count. Triggers rather than application code so that no
// path that writes reservations (bookings, moves, cancellations, holds,
// series, imports) can forget it.
func init() {
	sqlite := []string{
		`CREATE TRIGGER reservations_seq_insert AFTER INSERT ON reservations BEGIN
			UPDATE resources SET booking_seq = booking_seq + 1 WHERE id = NEW.resource_id; END`,
		`CREATE TRIGGER reservations_seq_update AFTER UPDATE ON reservations BEGIN
			UPDATE resources SET booking_seq = booking_seq + 1 WHERE id = NEW.resource_id OR id = OLD.resource_id; END`,
		`CREATE TRIGGER reservations_seq_delete AFTER DELETE ON reservations BEGIN
			UPDATE resources SET booking_seq = booking_seq + 1 WHERE id = OLD.resource_id; END`,
	}
	pg := []string{
		`CREATE FUNCTION reservations_bump_seq() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF TG_OP <> 'INSERT' THEN
				UPDATE resources SET booking_seq = booking_seq + 1 WHERE id = OLD.resource_id;
			END IF;
			IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.resource_id <> OLD.resource_id) THEN
				UPDATE resources SET booking_seq = booking_seq + 1 WHERE id = NEW.resource_id;
			END IF;
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER reservations_bump_seq AFTER INSERT OR UPDATE OR DELETE ON reservations
			FOR EACH ROW EXECUTE FUNCTION reservations_bump_seq()`,
	}
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, `ALTER TABLE resources ADD COLUMN booking_seq BIGINT NOT NULL DEFAULT 0`); err != nil {
				return err
			}
			if IsSQLite(tx) {
				return execDDL(ctx, tx, sqlite...)
			}
			return execDDL(ctx, tx, pg...)
		})
	}
	down := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if IsSQLite(tx) {
				if err := execDDL(ctx, tx, `DROP TRIGGER reservations_seq_insert`, `DROP TRIGGER reservations_seq_update`, `DROP TRIGGER reservations_seq_delete`); err != nil {
					return err
				}
			} else if err := execDDL(ctx, tx, `DROP TRIGGER reservations_bump_seq ON reservations`, `DROP FUNCTION reservations_bump_seq()`); err != nil {
				return err
			}
			return execDDL(ctx, tx, `ALTER TABLE resources DROP COLUMN booking_seq`)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
