package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// The credits ledger: append-only and double-entry.
//
//   - credit_lots are units of credit as they were created: whose, money
//     (cents) or minutes of one resource kind, usable at which site (NULL:
//     anywhere), where they came from and when they expire. A lot is never
//     changed.
//   - credit_movements are the events (a grant, a spend, an expiry…), and
//     credit_entries their lines: each entry moves an amount of one lot into
//     or out of an account ("member:<user>", "pending:<user>", "spent",
//     "expired", "campaign:<id>"…). The entries of a movement on one lot sum
//     to zero, so every lot's entries sum to zero too, and a member's
//     balance is the sum of their account's entries.
//   - credit_holders has one row per member who ever held credit: the row
//     PostgreSQL locks to serialise that member's spends (SQLite
//     transactions hold the write lock from BEGIN).
//
// Nothing in Relais updates or deletes ledger rows; triggers refuse it.
func init() {
	up := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`CREATE TABLE credit_holders (
					user_id TEXT PRIMARY KEY REFERENCES users (id),
					created_at {TS} NOT NULL
				)`,
				`CREATE TABLE credit_lots (
					id TEXT PRIMARY KEY,
					user_id TEXT NOT NULL REFERENCES users (id),
					unit TEXT NOT NULL CHECK (unit IN ('cents', 'minutes')),
					resource_kind TEXT NOT NULL DEFAULT '',
					site_id TEXT REFERENCES sites (id),
					origin TEXT NOT NULL CHECK (origin IN ('campaign', 'pack', 'grant', 'refund', 'gift')),
					origin_id TEXT NOT NULL DEFAULT '',
					expires_at {TS},
					created_at {TS} NOT NULL,
					CHECK ((unit = 'cents') = (resource_kind = ''))
				)`,
				`CREATE INDEX credit_lots_user_idx ON credit_lots (user_id, expires_at)`,
				`CREATE INDEX credit_lots_expiry_idx ON credit_lots (expires_at)`,
				`CREATE INDEX credit_lots_origin_idx ON credit_lots (origin, origin_id)`,
				`CREATE TABLE credit_movements (
					id TEXT PRIMARY KEY,
					kind TEXT NOT NULL CHECK (kind IN ('credit', 'vest', 'void', 'spend', 'release', 'gift', 'grant', 'withdraw', 'expire')),
					user_id TEXT NOT NULL REFERENCES users (id),
					reservation_id TEXT,
					campaign_id TEXT,
					counterpart_id TEXT REFERENCES users (id),
					actor_id TEXT REFERENCES users (id),
					reason TEXT NOT NULL DEFAULT '',
					created_at {TS} NOT NULL
				)`,
				`CREATE INDEX credit_movements_user_idx ON credit_movements (user_id, id)`,
				`CREATE INDEX credit_movements_reservation_idx ON credit_movements (reservation_id)`,
				`CREATE TABLE credit_entries (
					id TEXT PRIMARY KEY,
					movement_id TEXT NOT NULL REFERENCES credit_movements (id),
					lot_id TEXT NOT NULL REFERENCES credit_lots (id),
					account TEXT NOT NULL,
					amount BIGINT NOT NULL CHECK (amount <> 0)
				)`,
				`CREATE INDEX credit_entries_account_idx ON credit_entries (account, lot_id)`,
				`CREATE INDEX credit_entries_lot_idx ON credit_entries (lot_id)`,
				`CREATE INDEX credit_entries_movement_idx ON credit_entries (movement_id)`,
			); err != nil {
				return err
			}
			tables := []string{"credit_lots", "credit_movements", "credit_entries"}
			if IsSQLite(tx) {
				for _, t := range tables {
					for _, op := range []string{"UPDATE", "DELETE"} {
						if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TRIGGER %s_no_%s BEFORE %s ON %s
							BEGIN SELECT RAISE(ABORT, 'the credits ledger is append-only'); END`, t, strings.ToLower(op), op, t)); err != nil {
							return fmt.Errorf("append-only trigger on %s: %w", t, err)
						}
					}
				}
				return nil
			}
			if _, err := tx.ExecContext(ctx, `CREATE FUNCTION credit_ledger_append_only() RETURNS trigger AS $$
				BEGIN RAISE EXCEPTION 'the credits ledger is append-only'; END $$ LANGUAGE plpgsql`); err != nil {
				return fmt.Errorf("append-only function: %w", err)
			}
			for _, t := range tables {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TRIGGER %s_append_only BEFORE UPDATE OR DELETE ON %s
					FOR EACH ROW EXECUTE FUNCTION credit_ledger_append_only()`, t, t)); err != nil {
					return fmt.Errorf("append-only trigger on %s: %w", t, err)
				}
			}
			return nil
		})
	}
	down := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`DROP TABLE credit_entries`,
				`DROP TABLE credit_movements`,
				`DROP TABLE credit_lots`,
				`DROP TABLE credit_holders`,
			); err != nil {
				return err
			}
			if !IsSQLite(tx) {
				if _, err := tx.ExecContext(ctx, `DROP FUNCTION credit_ledger_append_only()`); err != nil {
					return fmt.Errorf("drop append-only function: %w", err)
				}
			}
			return nil
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
