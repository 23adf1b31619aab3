package db

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/searchkey"
)

// The front desk's people (package people):
//   - users.search_key, identity's normalised copy of name, email and phone
//     (searchkey.Of), which the desk's search matches with LIKE on both
//     engines; existing accounts get theirs here. On PostgreSQL a trigram
//     index serves "contains" searches when pg_trgm can be installed.
//   - site_people: a person registered at a site's desk (a walk-in), so that
//     they are found there before buying anything.
//   - people_notes: managers' private notes on a person at a site;
//   - indexes of the relations the search reads by site.
func init() {
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`ALTER TABLE users ADD COLUMN search_key TEXT NOT NULL DEFAULT ''`,
				`CREATE TABLE site_people (
					site_id TEXT NOT NULL REFERENCES sites (id),
					user_id TEXT NOT NULL REFERENCES users (id),
					created_by TEXT REFERENCES users (id),
					created_at {TS} NOT NULL,
					PRIMARY KEY (site_id, user_id)
				)`,
				`CREATE INDEX site_people_user_idx ON site_people (user_id)`,
				`CREATE TABLE people_notes (
					id TEXT PRIMARY KEY,
					site_id TEXT NOT NULL REFERENCES sites (id),
					user_id TEXT NOT NULL REFERENCES users (id),
					author_id TEXT REFERENCES users (id),
					body TEXT NOT NULL,
					created_at {TS} NOT NULL
				)`,
				`CREATE INDEX people_notes_person_idx ON people_notes (site_id, user_id, created_at)`,
				`CREATE INDEX people_notes_user_idx ON people_notes (user_id)`,
				`CREATE INDEX users_name_idx ON users (name, id)`,
				// The search's relations, by site (readmodel.go in people).
				`CREATE INDEX memberships_site_user_idx ON memberships (site_id, user_id)`,
				`CREATE INDEX day_passes_site_user_idx ON day_passes (site_id, user_id)`,
				`CREATE INDEX packs_site_user_idx ON packs (site_id, user_id)`,
				`CREATE INDEX credit_lots_site_user_idx ON credit_lots (site_id, user_id)`,
			); err != nil {
				return err
			}
			if err := backfillSearchKeys(ctx, tx); err != nil {
				return err
			}
			if !IsSQLite(tx) {
				return trigramIndex(ctx, tx)
			}
			return nil
		})
	}
	down := ddl(
		`DROP TABLE people_notes`,
		`DROP TABLE site_people`,
		`DROP INDEX users_name_idx`,
		`DROP INDEX memberships_site_user_idx`,
		`DROP INDEX day_passes_site_user_idx`,
		`DROP INDEX packs_site_user_idx`,
		`DROP INDEX credit_lots_site_user_idx`,
		`DROP INDEX IF EXISTS users_search_key_trgm`,
		`ALTER TABLE users DROP COLUMN search_key`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}

func backfillSearchKeys(ctx context.Context, tx bun.Tx) error {
	var rows []struct {
		ID, Name, Email, Phone string
	}
	if err := tx.NewRaw(`SELECT id, name, email, phone FROM users`).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	for _, r := range rows {
		key := searchkey.Of(r.Name, r.Email, r.Phone)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET search_key = ? WHERE id = ?`, key, r.ID); err != nil {
			return fmt.Errorf("search key: %w", err)
		}
	}
	return nil
}

// trigramIndex installs pg_trgm in public, as btree_gist (the schema every
// search_path names), when the role may (inside a savepoint, so that a
// refusal, or another migration creating it at the same instant, leaves
// the migration whole) and indexes search_key with
// it; without it the search reads the site's people sequentially, which
// BENCHMARKS.md measures too.
func trigramIndex(ctx context.Context, tx bun.Tx) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT trgm`); err != nil {
		return err
	}
	for _, stmt := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public`,
		`CREATE INDEX users_search_key_trgm ON users USING gin (search_key gin_trgm_ops)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			_, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT trgm`)
			return rerr
		}
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT trgm`)
	return err
}
