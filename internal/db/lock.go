package db

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// LockSpace is a family of transaction-scoped locks named by strings (a
// resource's id): on PostgreSQL the advisory lock with the two keys (space,
// hashtext(name)). Two-key advisory locks are a key space of their own,
// apart from the one-key locks of migrations, devices' topics, River and
// the tests; each LockSpace constant must differ from the others. Two names
// that hash alike share a lock: they queue for each other, nothing worse.
// A transaction that needs the locks of several names must take them in
// one fixed order (sorted names), or two such transactions can deadlock.
type LockSpace int32

// Lock takes name's lock in space and holds it until idb's transaction
// ends, waiting while another transaction holds it. On SQLite it does
// nothing: a write transaction holds the database's one write lock from
// its BEGIN (the DSN makes every transaction immediate), which already
// queues every other writer.
func (s LockSpace) Lock(ctx context.Context, idb bun.IDB, name string) error {
	if IsSQLite(idb) {
		return nil
	}
	q, args := s.SQL(name)
	if _, err := idb.NewRaw("SELECT "+q, args...).Exec(ctx); err != nil {
		return fmt.Errorf("lock %q: %w", name, err)
	}
	return nil
}

// SQL is the expression that takes name's lock, with its arguments, for a
// PostgreSQL statement that must take the lock itself (written with ?
// placeholders, as bun and NumberPlaceholders read them).
func (s LockSpace) SQL(name string) (string, []any) {
	return "pg_advisory_xact_lock(CAST(? AS integer), hashtext(?))", []any{int32(s), name}
}
