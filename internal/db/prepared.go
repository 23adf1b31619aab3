package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// Prepared readies a statement of the hot paths (an unlock, a booking) for
// database/sql, bypassing bun's formatting: q is written with ? placeholders
// and holds no other question mark. On PostgreSQL the placeholders become
// $1, $2, … and pgx is told to prepare the statement once per connection
// and reuse it, so PostgreSQL parses and plans it once rather than on every
// request (bun writes values into the text, which no cache can reuse). On
// SQLite, whose driver prepares every statement anyway, q goes through
// unchanged and times are written as bun stores them (text in UTC), so
// that they compare with the stored ones; the driver's own format differs.
func Prepared(idb bun.IDB, q string, args ...any) (string, []any) {
	if IsSQLite(idb) {
		out := make([]any, len(args))
		for i, a := range args {
			switch v := a.(type) {
			case time.Time:
				out[i] = SQLiteTime(v)
			case *time.Time:
				if v != nil {
					out[i] = SQLiteTime(*v)
				}
			default:
				out[i] = a
			}
		}
		return q, out
	}
	return NumberPlaceholders(q), append([]any{pgx.QueryExecModeCacheStatement}, args...)
}

// SQLiteTime is t as bun stores a time in SQLite.
func SQLiteTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.999999-07:00")
}

// Columns lists the columns of model type T as bun maps them, for the
// statements of Prepared: "a, b, c", or "p.a, p.b, p.c" with a prefix.
func Columns[T any](bdb *bun.DB, prefix string) string {
	fields := bdb.Table(reflect.TypeFor[T]()).Fields
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		if prefix != "" {
			b.WriteString(prefix)
			b.WriteByte('.')
		}
		b.WriteString(string(f.SQLName))
	}
	return b.String()
}

// NumberPlaceholders turns the ? placeholders of q (which holds no other
// question mark) into PostgreSQL's $1, $2, ….
func NumberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Querier runs statements as written, past bun's formatting.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Raw returns the database/sql handle under idb (a pool, a transaction or a
// connection), for the statements of Prepared.
func Raw(idb bun.IDB) Querier {
	switch v := idb.(type) {
	case *bun.DB:
		return v.DB
	case bun.Tx:
		return v.Tx
	case *bun.Tx:
		return v.Tx
	case bun.Conn:
		return v.Conn
	default:
		panic(fmt.Sprintf("db.Raw: unexpected %T", idb))
	}
}

// ScanPrepared runs q as a Prepared statement through idb and scans its
// rows into dest (a pointer to a slice of models, or to a model) as bun
// would.
func ScanPrepared(ctx context.Context, idb bun.IDB, dest any, q string, args ...any) error {
	q, args = Prepared(idb, q, args...)
	rows, err := Raw(idb).QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	return idb.NewSelect().DB().ScanRows(ctx, rows, dest)
}
