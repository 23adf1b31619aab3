package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

func TestNumberPlaceholders(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT ? ", "SELECT $1 "},
		{"WHERE a = ? AND b IN (?, ?) AND é = ?", "WHERE a = $1 AND b IN ($2, $3) AND é = $4"},
	} {
		if got := db.NumberPlaceholders(tt.in); got != tt.want {
			t.Errorf("NumberPlaceholders(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPreparedTimes: a time passed to a Prepared statement compares with the
// times bun stored, on either database (on SQLite both are text).
func TestPreparedTimes(t *testing.T) {
	ctx := context.Background()
	bdb := dbtest.Open(t)
	type row struct {
		bun.BaseModel `bun:"table:prepared_times"`
		ID            int        `bun:"id,pk"`
		At            time.Time  `bun:"at"`
		Until         *time.Time `bun:"until"`
	}
	if _, err := bdb.NewCreateTable().Model((*row)(nil)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	at := time.Date(2026, 10, 25, 2, 30, 0, 123456000, paris) // the hour that happens twice
	until := at.Add(time.Hour)
	if _, err := bdb.NewInsert().Model(&[]row{{ID: 1, At: at, Until: &until}, {ID: 2, At: at.Add(time.Minute)}}).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cond string
		args []any
		want []int
	}{
		{"at = ?", []any{at}, []int{1}},
		{"at = ?", []any{at.UTC()}, []int{1}},
		{"at > ?", []any{at}, []int{2}},
		{"until = ?", []any{&until}, []int{1}},
		{"at <= ? AND id = ?", []any{at.Add(time.Minute), 2}, []int{2}},
	} {
		q, args := db.Prepared(bdb, "SELECT id FROM prepared_times WHERE "+tt.cond+" ORDER BY id", tt.args...)
		rows, err := bdb.DB.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", tt.cond, err)
		}
		var got []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s with %v: ids %v, want %v", tt.cond, tt.args, got, tt.want)
		}
	}
}
