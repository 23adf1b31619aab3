package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrations holds every schema change, registered in init() by the
// YYYYMMDDHHMMSS_name.go files. A migration never uses live model structs: it states its
// SQL so that later changes to the models cannot rewrite history.
var Migrations = migrate.NewMigrations()

// migrationLockKey is an arbitrary constant for pg_advisory_lock, so that
// replicas starting together migrate one after the other.
const migrationLockKey = 7_256_131_771

// Migrate applies every pending migration.
func Migrate(ctx context.Context, db *bun.DB) error {
	return withMigrationLock(ctx, db, func(m *migrate.Migrator) error {
		if _, err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("apply migrations: %w", err)
		}
		return nil
	})
}

// Rollback undoes the last group of applied migrations.
func Rollback(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	var group *migrate.MigrationGroup
	err := withMigrationLock(ctx, db, func(m *migrate.Migrator) error {
		var err error
		group, err = m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("roll back migrations: %w", err)
		}
		return nil
	})
	return group, err
}

// Status lists every known migration and whether it is applied.
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	m := migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("init migration tables: %w", err)
	}
	return m.MigrationsWithStatus(ctx)
}

// Pending returns how many migrations are not applied yet; /readyz uses it.
// A readiness probe calls it every few seconds: it only reads, and creates
// the migration tables (a write, taking SQLite's lock) only on a database
// that has never been migrated.
func Pending(ctx context.Context, db *bun.DB) (int, error) {
	ms, err := migrate.NewMigrator(db, Migrations).MigrationsWithStatus(ctx)
	if err != nil {
		if ms, err = Status(ctx, db); err != nil {
			return 0, err
		}
	}
	return len(ms.Unapplied()), nil
}

func withMigrationLock(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	m := migrate.NewMigrator(db, Migrations, migrate.WithMarkAppliedOnSuccess(true))
	if IsSQLite(db) {
		// One file, one writer: SQLite's own lock serialises concurrent starts.
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("init migration tables: %w", err)
		}
		return fn(m)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey)
	if err := m.Init(ctx); err != nil {
		return fmt.Errorf("init migration tables: %w", err)
	}
	return fn(m)
}

// execDDL runs each statement of a migration, after replacing the few type
// names that differ between the two engines:
//
//	TS    timestamp with time zone (PostgreSQL) / TIMESTAMP text in UTC (SQLite)
//	JSON  JSONB / TEXT
//	BYTES BYTEA / BLOB
func execDDL(ctx context.Context, db bun.IDB, statements ...string) error {
	r := strings.NewReplacer("{TS}", "TIMESTAMPTZ", "{JSON}", "JSONB", "{BYTES}", "BYTEA")
	if IsSQLite(db) {
		r = strings.NewReplacer("{TS}", "TIMESTAMP", "{JSON}", "TEXT", "{BYTES}", "BLOB")
	}
	for _, s := range statements {
		if _, err := db.ExecContext(ctx, r.Replace(s)); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// ddl returns a migration function that runs statements in one transaction.
// Each YYYYMMDDHHMMSS_name.go file registers its pair from init(); bun takes the
// migration's name from that file's name.
func ddl(statements ...string) migrate.MigrationFunc {
	return func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return execDDL(ctx, tx, statements...)
		})
	}
}
