package db

// Stripe webhooks arrive at least once and in any order:
//
//   - memberships.stripe_state_at is the creation time of the newest Stripe
//     event whose subscription state was applied; an older event's state is
//     ignored, so a late "past_due" cannot undo a newer "active".
//   - payments.refunded_cents is the cumulative amount refunded; Stripe
//     reports the cumulative amount too, so a credit note is issued only for
//     the difference, whatever the order of partial refunds.
//   - payments.stripe_invoice_id ties a subscription payment to its Stripe
//     invoice: unique, so a renewal is recorded (and invoiced) once.
//   - payments are found by payment intent when a charge is refunded.
func init() {
	up := ddl(
		`ALTER TABLE memberships ADD COLUMN stripe_state_at {TS}`,
		`ALTER TABLE payments ADD COLUMN refunded_cents BIGINT NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0)`,
		`ALTER TABLE payments ADD COLUMN stripe_invoice_id TEXT`,
		`CREATE UNIQUE INDEX payments_stripe_invoice_idx ON payments (stripe_invoice_id)`,
		`CREATE INDEX payments_stripe_payment_intent_idx ON payments (stripe_payment_intent_id)`,
	)
	down := ddl(
		`DROP INDEX payments_stripe_payment_intent_idx`,
		`DROP INDEX payments_stripe_invoice_idx`,
		`ALTER TABLE payments DROP COLUMN stripe_invoice_id`,
		`ALTER TABLE payments DROP COLUMN refunded_cents`,
		`ALTER TABLE memberships DROP COLUMN stripe_state_at`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
