package db_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// TestDialectHelpers checks what each helper writes on the engine the
// tests run on: nothing on SQLite, the lock or the cast on PostgreSQL.
func TestDialectHelpers(t *testing.T) {
	bdb := dbtest.New(t)
	ctx := context.Background()
	sqlite := db.IsSQLite(bdb)

	sel := db.ForUpdate(bdb.NewSelect().Table("sites").Column("id")).String()
	nokey := db.ForNoKeyUpdate(bdb.NewSelect().Table("sites").Column("id")).String()
	cases := []struct {
		name, got, wantPG, wantSQLite string
	}{
		{"ForUpdate", sel, `SELECT "id" FROM "sites" FOR UPDATE`, `SELECT "id" FROM "sites"`},
		{"ForNoKeyUpdate", nokey, `SELECT "id" FROM "sites" FOR NO KEY UPDATE`, `SELECT "id" FROM "sites"`},
		{"ForUpdateSQL", db.ForUpdateSQL(bdb), " FOR UPDATE", ""},
		{"Typed", db.Typed(bdb, "timestamptz"), "CAST(? AS timestamptz)", "?"},
	}
	for _, c := range cases {
		want := c.wantPG
		if sqlite {
			want = c.wantSQLite
		}
		if c.got != want {
			t.Errorf("%s = %q, want %q", c.name, c.got, want)
		}
	}

	// The statements run: a lock inside a transaction, and a typed
	// parameter that PostgreSQL would refuse to assign as text.
	err := db.Tx(ctx, bdb, func(ctx context.Context, tx bun.Tx) error {
		var ids []string
		if err := db.ForUpdate(tx.NewSelect().Table("sites").Column("id")).Scan(ctx, &ids); err != nil {
			return err
		}
		var n int
		return tx.QueryRowContext(ctx, "SELECT "+db.Typed(tx, "integer")+" + 1", 41).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
}
