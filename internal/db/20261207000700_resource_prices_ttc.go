package db

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uptrace/bun"
)

// Resources' hourly prices become TTC with a VAT rate, as plans and
// campaign tiers are: every price a manager types includes VAT.
//
// Until now a resource's price p was HT and a charge of m minutes was
// ht = round(p × m / 60), then VAT round(ht × 20 %) unless the site is
// VAT-exempt. The new price is what one hour cost: p + round(p × 20 %)
// (p on an exempt site, rate 0). A single TTC price in cents cannot give
// the old charge for every duration (1 003 HT is 12,04 € TTC an hour, but
// two hours cost 24,07 €, not 24,08 €), so a migrated resource of a
// VAT-liable site keeps its HT price in legacy_price_ht_cents and charges
// exactly as before until a manager sets its price or rate again (see
// calendar.Resource.LegacyPriceHTCents).
func init() {
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`ALTER TABLE resources ADD COLUMN vat_rate_bp INTEGER NOT NULL DEFAULT 2000`,
				`ALTER TABLE resources ADD COLUMN legacy_price_ht_cents BIGINT`,
			); err != nil {
				return err
			}
			return resourcePricesToTTC(ctx, tx)
		})
	}
	down := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE resources SET price_per_hour_cents = legacy_price_ht_cents WHERE legacy_price_ht_cents IS NOT NULL`); err != nil {
				return err
			}
			return execDDL(ctx, tx, `ALTER TABLE resources DROP COLUMN legacy_price_ht_cents`, `ALTER TABLE resources DROP COLUMN vat_rate_bp`)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}

// TTCFromHT is the TTC hourly price of an HT one at rateBP: the old
// charge for one hour, HT + VAT rounded half up.
func TTCFromHT(ht int64, rateBP int) int64 {
	return ht + (ht*int64(rateBP)*2+10000)/20000
}

func resourcePricesToTTC(ctx context.Context, tx bun.Tx) error {
	var rows []struct {
		ID    string `bun:"id"`
		Price int64  `bun:"price_per_hour_cents"`
		Legal string `bun:"legal"`
	}
	if err := tx.NewRaw(`SELECT r.id, r.price_per_hour_cents, CAST(s.legal AS TEXT) AS legal
		FROM resources r JOIN sites s ON s.id = r.site_id`).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read resource prices: %w", err)
	}
	for _, r := range rows {
		var legal struct {
			VATExempt bool `json:"vat_exempt"`
		}
		if err := json.Unmarshal([]byte(r.Legal), &legal); err != nil {
			return fmt.Errorf("site legal of resource %s: %w", r.ID, err)
		}
		if legal.VATExempt {
			if _, err := tx.ExecContext(ctx, `UPDATE resources SET vat_rate_bp = 0 WHERE id = ?`, r.ID); err != nil {
				return err
			}
			continue
		}
		if r.Price == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE resources SET price_per_hour_cents = ?, legacy_price_ht_cents = ? WHERE id = ?`,
			TTCFromHT(r.Price, 2000), r.Price, r.ID); err != nil {
			return err
		}
	}
	return nil
}
