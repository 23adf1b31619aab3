package db

// Billing gaps:
//
//   - invoice_lines.amount_credit marks a credit-note line that credits an
//     amount (a partial refund, exact to the cent) rather than a quantity of
//     the original line: earlier credits by quantity are counted without it.
//   - plans.stripe_product_id and plans.stripe_price_id are the Stripe
//     Product and monthly Price of a membership plan, created the first time
//     it is sold online: subscriptions name the price, so a plan change
//     swaps it and webhooks name the plan. Not unique: stripe-mock answers
//     every creation with the same ids.
//   - usage_charges.payment_id is the payment that pays a charge: an online
//     checkout of a member's open charges holds them while it is pending
//     (the desk and another checkout leave them alone), and whichever
//     payment settles them stays linked.
func init() {
	up := ddl(
		`ALTER TABLE invoice_lines ADD COLUMN amount_credit BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE plans ADD COLUMN stripe_product_id TEXT`,
		`ALTER TABLE plans ADD COLUMN stripe_price_id TEXT`,
		`CREATE INDEX plans_stripe_price_idx ON plans (stripe_price_id)`,
		`ALTER TABLE usage_charges ADD COLUMN payment_id TEXT`,
		`CREATE INDEX usage_charges_payment_idx ON usage_charges (payment_id)`,
	)
	down := ddl(
		`DROP INDEX usage_charges_payment_idx`,
		`ALTER TABLE usage_charges DROP COLUMN payment_id`,
		`DROP INDEX plans_stripe_price_idx`,
		`ALTER TABLE plans DROP COLUMN stripe_price_id`,
		`ALTER TABLE plans DROP COLUMN stripe_product_id`,
		`ALTER TABLE invoice_lines DROP COLUMN amount_credit`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
