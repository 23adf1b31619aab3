package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Host places, travelling kits and paid ateliers (area services-places,
// issue 18):
//   - sites of kind "host" (the column is 20261210000200's: an EHPAD, a
//     résidence, a mairie that hosts ateliers and appointments but has
//     nothing bookable of its own) have a contact person and phone (the
//     email is contact_email), and the kind is indexed to list them;
//   - resources.kind gains "kit": tablets, a portable visio kit, a 3D
//     printer that travels from its home site to ateliers elsewhere;
//   - ateliers.pricing: free, price (TTC, a usage charge settled at the desk
//     or online), included (in the plans of atelier_plans) or credits
//     (credit_cents of money credit spent at registration);
//   - usage_charges.service_starts_at/ends_at: the session a charge without
//     a reservation pays for, the service dates of its invoice line;
//   - usage_charges.registration_id and credit_movements.
//     atelier_registration_id tie a charge or a spend to the registration it
//     pays for; a usage charge no longer needs a reservation.
//
// Widening a CHECK or dropping a NOT NULL changes nothing stored: on SQLite
// the table's recorded statement is edited in place (the procedure
// SQLite's documentation gives for such changes), rather than rebuilding
// tables that many others reference.
func init() {
	up := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`ALTER TABLE sites ADD COLUMN contact_name TEXT`,
				`ALTER TABLE sites ADD COLUMN contact_phone TEXT`,
				`CREATE INDEX sites_kind_idx ON sites (kind, id)`,
				`ALTER TABLE ateliers ADD COLUMN pricing TEXT NOT NULL DEFAULT 'free' CHECK (pricing IN ('free', 'price', 'included', 'credits'))`,
				`ALTER TABLE ateliers ADD COLUMN credit_cents BIGINT NOT NULL DEFAULT 0 CHECK (credit_cents >= 0)`,
				`UPDATE ateliers SET pricing = 'price' WHERE price_cents > 0`,
				`CREATE TABLE atelier_plans (
					atelier_id TEXT NOT NULL REFERENCES ateliers (id),
					plan_id TEXT NOT NULL REFERENCES plans (id),
					PRIMARY KEY (atelier_id, plan_id)
				)`,
				`ALTER TABLE usage_charges ADD COLUMN registration_id TEXT`,
				`ALTER TABLE usage_charges ADD COLUMN service_starts_at {TS}`,
				`ALTER TABLE usage_charges ADD COLUMN service_ends_at {TS}`,
				`CREATE INDEX usage_charges_registration_idx ON usage_charges (registration_id)`,
				`ALTER TABLE credit_movements ADD COLUMN atelier_registration_id TEXT`,
				`CREATE INDEX credit_movements_registration_idx ON credit_movements (atelier_registration_id)`,
			); err != nil {
				return err
			}
			if IsSQLite(tx) {
				if err := editSQLiteSchema(ctx, tx, "resources",
					"kind IN ('desk', 'room', 'zone', 'machine')", "kind IN ('desk', 'room', 'zone', 'machine', 'kit')"); err != nil {
					return err
				}
				return editSQLiteSchema(ctx, tx, "usage_charges",
					"reservation_id TEXT NOT NULL REFERENCES reservations (id)", "reservation_id TEXT REFERENCES reservations (id)")
			}
			return execDDL(ctx, tx,
				`ALTER TABLE resources DROP CONSTRAINT resources_kind_check`,
				`ALTER TABLE resources ADD CONSTRAINT resources_kind_check CHECK (kind IN ('desk', 'room', 'zone', 'machine', 'kit'))`,
				`ALTER TABLE usage_charges ALTER COLUMN reservation_id DROP NOT NULL`,
			)
		})
	}
	down := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`DROP INDEX credit_movements_registration_idx`,
				`ALTER TABLE credit_movements DROP COLUMN atelier_registration_id`,
				`DROP INDEX usage_charges_registration_idx`,
				`ALTER TABLE usage_charges DROP COLUMN service_ends_at`,
				`ALTER TABLE usage_charges DROP COLUMN service_starts_at`,
				`ALTER TABLE usage_charges DROP COLUMN registration_id`,
				`DROP TABLE atelier_plans`,
				`ALTER TABLE ateliers DROP COLUMN credit_cents`,
				`ALTER TABLE ateliers DROP COLUMN pricing`,
				`DROP INDEX sites_kind_idx`,
				`ALTER TABLE sites DROP COLUMN contact_phone`,
				`ALTER TABLE sites DROP COLUMN contact_name`,
			); err != nil {
				return err
			}
			// Kits and charges without a reservation cannot go back: the
			// narrower constraints are left as they are.
			return nil
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}

// editSQLiteSchema replaces old with new in the recorded CREATE statement of
// table, for changes that leave every stored row valid (a wider CHECK, a
// NOT NULL dropped), and makes every connection read the schema again.
func editSQLiteSchema(ctx context.Context, tx bun.IDB, table, old, new string) error {
	var sql string
	if err := tx.NewRaw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(ctx, &sql); err != nil {
		return fmt.Errorf("read schema of %s: %w", table, err)
	}
	if strings.Count(sql, old) != 1 {
		return fmt.Errorf("schema of %s: %q not found once", table, old)
	}
	var version int64
	if err := tx.NewRaw("PRAGMA schema_version").Scan(ctx, &version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	for _, q := range []string{
		"PRAGMA writable_schema = ON",
		fmt.Sprintf("UPDATE sqlite_master SET sql = '%s' WHERE type = 'table' AND name = '%s'",
			strings.ReplaceAll(strings.Replace(sql, old, new, 1), "'", "''"), table),
		fmt.Sprintf("PRAGMA schema_version = %d", version+1),
		"PRAGMA writable_schema = OFF",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("edit schema of %s: %w", table, err)
		}
	}
	return nil
}
