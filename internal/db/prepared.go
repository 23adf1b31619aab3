package db

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// Prepared readies a statement of the hot paths (an unlock, a booking) for
// database/sql, bypassing bun's formatting: q is written with ? placeholders
// and holds no other question mark. On PostgreSQL the placeholders become
// $1, $2, … and pgx is told to prepare the statement once per connection
// and reuse it, so PostgreSQL parses and plans it once rather than on every
// request (bun writes values into the text, which no cache can reuse). On
// SQLite, q and args go through unchanged: its driver prepares every
// statement anyway. Pass only values the driver stores as bun would
// (strings, numbers, booleans) to a statement that also runs on SQLite:
// its driver writes times in another format than bun's.
func Prepared(idb bun.IDB, q string, args ...any) (string, []any) {
	if IsSQLite(idb) {
		return q, args
	}
	return NumberPlaceholders(q), append([]any{pgx.QueryExecModeCacheStatement}, args...)
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
