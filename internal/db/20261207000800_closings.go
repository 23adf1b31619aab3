package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// The cash journal (art. 286 I-3° bis CGI):
//
//   - closings holds the daily, monthly and yearly closings of each legal
//     entity (entity_key is its SIREN): totals of the period, the perpetual
//     grand total and a SHA-256 footprint chained to the previous closing of
//     the same entity and kind. (entity_key, kind, period) is unique, so two
//     replicas' jobs can never close one period twice.
//   - closing_heads has one row per entity and kind, locked by whoever
//     closes, so that one closing of a chain is written at a time.
//   - journal_events is the technical events journal: who changed what in
//     prices, plans, legal identity, VAT rates, closings and exports.
//
// closings and journal_events are append-only: triggers refuse any UPDATE
// or DELETE, whoever sends it.
func init() {
	tables := []string{
		`CREATE TABLE closing_heads (
			entity_key TEXT NOT NULL,
			kind TEXT NOT NULL,
			PRIMARY KEY (entity_key, kind)
		)`,
		`CREATE TABLE closings (
			id TEXT PRIMARY KEY,
			entity_key TEXT NOT NULL,
			kind TEXT NOT NULL CHECK (kind IN ('day', 'month', 'year')),
			period TEXT NOT NULL,
			chain_index BIGINT NOT NULL CHECK (chain_index >= 1),
			timezone TEXT NOT NULL,
			period_start {TS} NOT NULL,
			period_end {TS} NOT NULL,
			invoices_count BIGINT NOT NULL,
			credit_notes_count BIGINT NOT NULL,
			payments_count BIGINT NOT NULL,
			total_ht_cents BIGINT NOT NULL,
			total_vat_cents BIGINT NOT NULL,
			total_ttc_cents BIGINT NOT NULL,
			by_method {JSON} NOT NULL,
			by_rate {JSON} NOT NULL,
			grand_total_cents BIGINT NOT NULL,
			closed_by TEXT NOT NULL,
			canonical TEXT NOT NULL,
			prev_hash TEXT NOT NULL,
			hash TEXT NOT NULL,
			created_at {TS} NOT NULL,
			UNIQUE (entity_key, kind, period),
			UNIQUE (entity_key, kind, chain_index),
			CHECK (total_ttc_cents = total_ht_cents + total_vat_cents)
		)`,
		`CREATE INDEX closings_period_idx ON closings (entity_key, period_start)`,
		`CREATE TABLE journal_events (
			id TEXT PRIMARY KEY,
			entity_key TEXT NOT NULL DEFAULT '',
			site_id TEXT NOT NULL DEFAULT '',
			occurred_at {TS} NOT NULL,
			actor_kind TEXT NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
			actor_id TEXT NOT NULL DEFAULT '',
			action TEXT NOT NULL,
			object_kind TEXT NOT NULL,
			object_id TEXT NOT NULL DEFAULT '',
			field TEXT NOT NULL DEFAULT '',
			before_value TEXT NOT NULL DEFAULT '',
			after_value TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX journal_events_time_idx ON journal_events (occurred_at, id)`,
	}
	appendOnly := []string{"closings", "journal_events"}
	up := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, tables...); err != nil {
				return err
			}
			if IsSQLite(tx) {
				for _, t := range appendOnly {
					for _, op := range []string{"UPDATE", "DELETE"} {
						if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TRIGGER %s_no_%s BEFORE %s ON %s
							BEGIN SELECT RAISE(ABORT, '%s is append-only'); END`, t, strings.ToLower(op), op, t, t)); err != nil {
							return fmt.Errorf("append-only trigger on %s: %w", t, err)
						}
					}
				}
				return nil
			}
			if _, err := tx.ExecContext(ctx, `CREATE FUNCTION cash_journal_append_only() RETURNS trigger AS $$
				BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$ LANGUAGE plpgsql`); err != nil {
				return fmt.Errorf("append-only function: %w", err)
			}
			for _, t := range appendOnly {
				if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TRIGGER %s_append_only BEFORE UPDATE OR DELETE ON %s
					FOR EACH ROW EXECUTE FUNCTION cash_journal_append_only()`, t, t)); err != nil {
					return fmt.Errorf("append-only trigger on %s: %w", t, err)
				}
			}
			return nil
		})
	}
	down := func(ctx context.Context, d *bun.DB) error {
		return d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, `DROP TABLE journal_events`, `DROP TABLE closings`, `DROP TABLE closing_heads`); err != nil {
				return err
			}
			if IsSQLite(tx) {
				return nil
			}
			return execDDL(ctx, tx, `DROP FUNCTION cash_journal_append_only()`)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
