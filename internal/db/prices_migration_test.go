package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// TestResourcePricesMigration: HT hourly prices become TTC (what one hour
// cost), keeping the HT price for the old computation on a VAT-liable
// site; an exempt site's prices stay, at rate 0. (billing's
// TestMigratedPricesChargeTheSame checks the charges from these rows.)
func TestResourcePricesMigration(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	before := migrate.NewMigrations()
	for _, m := range db.Migrations.Sorted() {
		if m.Name < "20261207000700" {
			before.Add(m)
		}
	}
	m := migrate.NewMigrator(d, before, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	liable, exempt := "01900000-0000-7000-8000-000000000001", "01900000-0000-7000-8000-000000000002"
	exec(`INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at) VALUES (?, 'L', 'Europe/Paris', '{}', '{"vat_exempt":false}', ?, ?)`, liable, now, now)
	exec(`INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at) VALUES (?, 'E', 'Europe/Paris', '{}', '{"vat_exempt":true}', ?, ?)`, exempt, now, now)
	res := func(id, site string, price int64) {
		exec(`INSERT INTO resources (id, site_id, kind, name, capacity, rules, price_per_hour_cents, created_at, updated_at)
			VALUES (?, ?, 'machine', 'm', 1, '{}', ?, ?, ?)`, id, site, price, now, now)
	}
	res("r1", liable, 1003)
	res("r2", liable, 0)
	res("r3", exempt, 1003)
	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		ID     string `bun:"id"`
		Price  int64  `bun:"price_per_hour_cents"`
		Rate   int    `bun:"vat_rate_bp"`
		Legacy *int64 `bun:"legacy_price_ht_cents"`
	}
	if err := d.NewRaw("SELECT id, price_per_hour_cents, vat_rate_bp, legacy_price_ht_cents FROM resources ORDER BY id").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		price  int64
		rate   int
		legacy int64 // 0: none
	}{{1204, 2000, 1003}, {0, 2000, 0}, {1003, 0, 0}}
	if len(rows) != len(want) {
		t.Fatalf("rows = %+v", rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Price != w.price || r.Rate != w.rate || (r.Legacy == nil) != (w.legacy == 0) || r.Legacy != nil && *r.Legacy != w.legacy {
			t.Errorf("%s: price %d rate %d legacy %v, want %+v", r.ID, r.Price, r.Rate, r.Legacy, w)
		}
	}
}
