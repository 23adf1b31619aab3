// Package db opens Relais's database (SQLite or PostgreSQL) through bun,
// applies the schema migrations and maps driver errors to a few sentinels.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// DefaultURL is used when no database is configured: a SQLite file in the
// working directory, so `relais serve` runs with zero configuration.
const DefaultURL = "sqlite:relais.db"

// ConfigError reports a database URL that cannot be used as written.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Target is a parsed database URL.
type Target struct {
	Postgres bool
	// DSN is what database/sql receives.
	DSN string
	// Display is safe to log (no password).
	Display string
}

// Parse turns a Relais database URL into a driver DSN. Accepted forms:
// sqlite:PATH, file:PATH, postgres://…, postgresql://….
func Parse(raw string) (Target, error) {
	if raw == "" {
		raw = DefaultURL
	}
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return Target{}, &ConfigError{Msg: fmt.Sprintf("database URL %q is not a valid postgres:// URL", redact(raw))}
		}
		return Target{Postgres: true, DSN: raw, Display: u.Redacted()}, nil
	case strings.HasPrefix(raw, "sqlite:"), strings.HasPrefix(raw, "file:"):
		rest := raw[strings.Index(raw, ":")+1:]
		rest = strings.TrimPrefix(rest, "//")
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return Target{}, &ConfigError{Msg: fmt.Sprintf("database URL %q names no file", raw)}
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return Target{}, &ConfigError{Msg: fmt.Sprintf("database URL %q has a malformed query: %v", raw, err)}
		}
		// WAL lets readers proceed while one writer writes; busy_timeout makes
		// writers queue instead of failing; _txlock=immediate takes the write
		// lock at BEGIN, so a read-then-write transaction (check a slot, then
		// insert) can never interleave with another writer.
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		return Target{DSN: "file:" + path + "?" + q.Encode(), Display: "sqlite:" + path}, nil
	default:
		return Target{}, &ConfigError{Msg: fmt.Sprintf("database URL %q: want sqlite:PATH, file:PATH or postgres://…", redact(raw))}
	}
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable)"
}

// UnreachableError reports a database that did not answer.
type UnreachableError struct {
	Display string
	Err     error
}

func (e *UnreachableError) Error() string {
	// Drivers report one line per address tried; keep it to one line.
	msg := strings.Join(strings.Fields(e.Err.Error()), " ")
	return fmt.Sprintf("database %s is unreachable: %s", e.Display, msg)
}
func (e *UnreachableError) Unwrap() error { return e.Err }

// Open opens and pings the database named by raw.
func Open(ctx context.Context, raw string) (*bun.DB, error) {
	t, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	var db *bun.DB
	if t.Postgres {
		cfg, err := pgx.ParseConfig(t.DSN)
		if err != nil {
			return nil, &ConfigError{Msg: fmt.Sprintf("database URL %s: %v", t.Display, err)}
		}
		// bun writes argument values into the SQL text, so no two queries
		// share a text and pgx's default (prepare, then execute: two round
		// trips) gains nothing: send each query once.
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		sqldb := stdlib.OpenDB(*cfg)
		sqldb.SetMaxOpenConns(32)
		sqldb.SetMaxIdleConns(32)
		sqldb.SetConnMaxIdleTime(5 * time.Minute)
		db = bun.NewDB(sqldb, pgdialect.New())
	} else {
		sqldb, err := sql.Open(sqliteshim.ShimName, t.DSN)
		if err != nil {
			return nil, &ConfigError{Msg: fmt.Sprintf("database URL %s: %v", t.Display, err)}
		}
		// One writer at a time anyway; a modest pool keeps readers concurrent
		// without piling up connections that only wait on the write lock.
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, &UnreachableError{Display: t.Display, Err: err}
	}
	if !t.Postgres {
		// The pragmas in the DSN apply per connection; check one took effect so
		// a driver that ignores them fails loudly rather than racing silently.
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			db.Close()
			return nil, fmt.Errorf("read sqlite journal mode: %w", err)
		}
		if !strings.EqualFold(mode, "wal") {
			db.Close()
			return nil, fmt.Errorf("sqlite journal mode is %q, want wal", mode)
		}
	}
	return db, nil
}

// IsSQLite reports whether db talks to SQLite.
func IsSQLite(db bun.IDB) bool {
	return db.Dialect().Name() == dialect.SQLite
}

// Errors drivers raise that domain code needs to tell apart.
var (
	ErrUniqueViolation    = errors.New("unique constraint violated")
	ErrExclusionViolation = errors.New("exclusion constraint violated")
	ErrForeignKey         = errors.New("foreign key constraint violated")
	ErrCheckViolation     = errors.New("check constraint violated")
	ErrSerialization      = errors.New("transaction could not be serialized")
)

type pgError interface {
	SQLState() string
}

type sqliteError interface {
	Code() int
}

// Classify wraps err with one of the sentinels above when the driver error is
// one of those kinds, keeping the original for logs. Other errors pass through.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var pe pgError
	if errors.As(err, &pe) {
		switch pe.SQLState() {
		case "23505":
			return fmt.Errorf("%w: %w", ErrUniqueViolation, err)
		case "23P01":
			return fmt.Errorf("%w: %w", ErrExclusionViolation, err)
		case "23503":
			return fmt.Errorf("%w: %w", ErrForeignKey, err)
		case "23514":
			return fmt.Errorf("%w: %w", ErrCheckViolation, err)
		case "40001", "40P01":
			return fmt.Errorf("%w: %w", ErrSerialization, err)
		}
		return err
	}
	var se sqliteError
	if errors.As(err, &se) {
		switch se.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return fmt.Errorf("%w: %w", ErrUniqueViolation, err)
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return fmt.Errorf("%w: %w", ErrForeignKey, err)
		case 275: // SQLITE_CONSTRAINT_CHECK
			return fmt.Errorf("%w: %w", ErrCheckViolation, err)
		case 5, 517, 6: // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED
			return fmt.Errorf("%w: %w", ErrSerialization, err)
		}
	}
	return err
}

// IsUnique reports whether err is (or wraps) a unique-constraint violation.
func IsUnique(err error) bool { return errors.Is(Classify(err), ErrUniqueViolation) }

// Tx runs fn in a transaction on db. On SQLite the DSN makes every
// transaction BEGIN IMMEDIATE; on PostgreSQL it is READ COMMITTED and callers
// that need more lock rows explicitly.
func Tx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// IsForeignKey reports whether err is (or wraps) a foreign-key violation.
func IsForeignKey(err error) bool { return errors.Is(Classify(err), ErrForeignKey) }

// IsExclusion reports whether err is (or wraps) an exclusion-constraint violation.
func IsExclusion(err error) bool { return errors.Is(Classify(err), ErrExclusionViolation) }

// WithPgx runs fn on one of db's PostgreSQL connections through pgx's own
// interface, for reads of many rows: pgx scanning binary results costs a
// fraction of database/sql's per-value boxing. On SQLite it returns false
// without calling fn. fn must not keep the connection.
func WithPgx(ctx context.Context, bdb *bun.DB, fn func(*pgx.Conn) error) (bool, error) {
	if IsSQLite(bdb) {
		return false, nil
	}
	conn, err := bdb.DB.Conn(ctx)
	if err != nil {
		return true, fmt.Errorf("take a connection: %w", err)
	}
	defer conn.Close()
	return true, conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", dc)
		}
		return fn(c.Conn())
	})
}
