package db

// Discounts at the desk: an invoice line may carry a discount (in its
// price basis) with its reason, and a payment remembers the list price it
// was discounted from and why, for the cash-drawer view.
func init() {
	up := ddl(
		`ALTER TABLE invoice_lines ADD COLUMN discount_cents BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE invoice_lines ADD COLUMN discount_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE payments ADD COLUMN discount_cents BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE payments ADD COLUMN discount_reason TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE payments ADD COLUMN refund_reason TEXT NOT NULL DEFAULT ''`,
		`CREATE INDEX payments_site_created_idx ON payments (site_id, created_at)`,
	)
	down := ddl(
		`DROP INDEX payments_site_created_idx`,
		`ALTER TABLE payments DROP COLUMN refund_reason`,
		`ALTER TABLE payments DROP COLUMN discount_reason`,
		`ALTER TABLE payments DROP COLUMN discount_cents`,
		`ALTER TABLE invoice_lines DROP COLUMN discount_reason`,
		`ALTER TABLE invoice_lines DROP COLUMN discount_cents`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
