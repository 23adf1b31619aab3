package db

// Billing gaps:
//
//   - invoice_lines.amount_credit marks a credit-note line that credits an
//     amount (a partial refund, exact to the cent) rather than a quantity of
//     the original line: earlier credits by quantity are counted without it.
func init() {
	up := ddl(
		`ALTER TABLE invoice_lines ADD COLUMN amount_credit BOOLEAN NOT NULL DEFAULT FALSE`,
	)
	down := ddl(
		`ALTER TABLE invoice_lines DROP COLUMN amount_credit`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
