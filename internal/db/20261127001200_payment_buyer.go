package db

// Who a payment's invoice is made out to (name, billing address, and for a
// business its SIREN and VAT number), captured with the payment.
func init() {
	up := ddl(`ALTER TABLE payments ADD COLUMN buyer {JSON}`)
	down := ddl(`ALTER TABLE payments DROP COLUMN buyer`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
