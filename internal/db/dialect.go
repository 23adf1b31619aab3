package db

import (
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The dialect differences that domain code meets, behind one name each, so
// that a query reads the same on both engines.
//
// SQLite has no row locks: a write transaction holds the whole database
// (BEGIN IMMEDIATE, see Open), so a row that will be written after being
// read is already safe from other writers. PostgreSQL needs the lock asked
// for explicitly.

// ForUpdate locks the rows q reads until the transaction ends, on
// PostgreSQL; on SQLite the transaction's write lock already does.
func ForUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.SQLite {
		return q
	}
	return q.For("UPDATE")
}

// ForNoKeyUpdate takes PostgreSQL's weaker row lock, which still lets other
// transactions insert rows that reference the locked one (a foreign key
// check takes KEY SHARE). On SQLite it does nothing, as ForUpdate.
func ForNoKeyUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if q.Dialect().Name() == dialect.SQLite {
		return q
	}
	return q.For("NO KEY UPDATE")
}

// ForUpdateSQL is ForUpdate for a hand-written statement: " FOR UPDATE" on
// PostgreSQL, "" on SQLite, to append after the statement.
func ForUpdateSQL(idb bun.IDB) string {
	if IsSQLite(idb) {
		return ""
	}
	return " FOR UPDATE"
}

// Typed returns a placeholder for a parameter of the SQL type typ, where
// the statement alone does not give PostgreSQL the type (a parameter in a
// SELECT list is text there, and text does not convert to timestamptz on
// assignment). SQLite takes any value for any column: a bare "?".
func Typed(idb bun.IDB, typ string) string {
	if IsSQLite(idb) {
		return "?"
	}
	return "CAST(? AS " + typ + ")"
}
