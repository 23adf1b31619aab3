package db

// Billing: plans, memberships, day passes, hour packs, the minutes they
// include and what was used of them, pay-per-use charges, payments, Stripe
// customers and processed Stripe events.
func init() {
	up := ddl(
		`CREATE TABLE plans (
			id TEXT PRIMARY KEY,
			site_id TEXT REFERENCES sites (id),
			kind TEXT NOT NULL CHECK (kind IN ('membership', 'day_pass', 'pack')),
			name TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
			vat_rate_bp INTEGER NOT NULL,
			includes {JSON} NOT NULL,
			active BOOLEAN NOT NULL DEFAULT TRUE,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE TABLE memberships (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			plan_id TEXT NOT NULL REFERENCES plans (id),
			site_id TEXT REFERENCES sites (id),
			status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'past_due', 'suspended', 'canceled')),
			source TEXT NOT NULL CHECK (source IN ('stripe', 'onsite')),
			current_period_start {TS},
			current_period_end {TS},
			cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
			canceled_at {TS},
			past_due_since {TS},
			next_plan_id TEXT REFERENCES plans (id),
			stripe_subscription_id TEXT UNIQUE,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX memberships_user_idx ON memberships (user_id, status)`,
		`CREATE TABLE day_passes (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			plan_id TEXT NOT NULL REFERENCES plans (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			day TEXT NOT NULL,
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'canceled')),
			source TEXT NOT NULL CHECK (source IN ('stripe', 'onsite')),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX day_passes_user_idx ON day_passes (user_id, site_id, starts_at)`,
		`CREATE TABLE packs (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			plan_id TEXT NOT NULL REFERENCES plans (id),
			site_id TEXT REFERENCES sites (id),
			resource_kind TEXT NOT NULL,
			minutes INTEGER NOT NULL CHECK (minutes > 0),
			valid_until {TS} NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'canceled')),
			source TEXT NOT NULL CHECK (source IN ('stripe', 'onsite')),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX packs_user_idx ON packs (user_id, status)`,
		`CREATE TABLE allowance_uses (
			id TEXT PRIMARY KEY,
			reservation_id TEXT NOT NULL REFERENCES reservations (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			source_type TEXT NOT NULL CHECK (source_type IN ('membership', 'pack')),
			source_id TEXT NOT NULL,
			resource_kind TEXT NOT NULL,
			period_start {TS} NOT NULL,
			minutes INTEGER NOT NULL CHECK (minutes > 0),
			created_at {TS} NOT NULL,
			released_at {TS}
		)`,
		`CREATE INDEX allowance_uses_source_idx ON allowance_uses (source_id, period_start, resource_kind)`,
		`CREATE INDEX allowance_uses_reservation_idx ON allowance_uses (reservation_id)`,
		`CREATE TABLE usage_charges (
			id TEXT PRIMARY KEY,
			reservation_id TEXT NOT NULL REFERENCES reservations (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			description TEXT NOT NULL,
			minutes INTEGER NOT NULL,
			amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
			vat_rate_bp INTEGER NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('open', 'invoiced', 'void')),
			created_at {TS} NOT NULL
		)`,
		`CREATE INDEX usage_charges_user_idx ON usage_charges (user_id, status)`,
		`CREATE INDEX usage_charges_reservation_idx ON usage_charges (reservation_id)`,
		`CREATE TABLE payments (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			site_id TEXT REFERENCES sites (id),
			purpose TEXT NOT NULL CHECK (purpose IN ('membership', 'day_pass', 'pack', 'usage')),
			target_id TEXT,
			plan_id TEXT REFERENCES plans (id),
			amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
			method TEXT NOT NULL CHECK (method IN ('card', 'sepa', 'cash', 'cheque', 'transfer')),
			provider TEXT NOT NULL CHECK (provider IN ('stripe', 'onsite')),
			status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded', 'expired')),
			reference TEXT NOT NULL DEFAULT '',
			recorded_by TEXT REFERENCES users (id),
			stripe_checkout_session_id TEXT UNIQUE,
			stripe_payment_intent_id TEXT,
			invoice_id TEXT,
			created_at {TS} NOT NULL,
			paid_at {TS},
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX payments_user_idx ON payments (user_id, created_at)`,
		`CREATE INDEX payments_status_idx ON payments (status, created_at)`,
		`CREATE TABLE stripe_customers (
			user_id TEXT PRIMARY KEY REFERENCES users (id),
			customer_id TEXT NOT NULL UNIQUE,
			created_at {TS} NOT NULL
		)`,
		`CREATE TABLE stripe_events (
			id TEXT PRIMARY KEY,
			type TEXT NOT NULL,
			received_at {TS} NOT NULL
		)`,
	)
	down := ddl(
		`DROP TABLE stripe_events`,
		`DROP TABLE stripe_customers`,
		`DROP TABLE payments`,
		`DROP TABLE usage_charges`,
		`DROP TABLE allowance_uses`,
		`DROP TABLE packs`,
		`DROP TABLE day_passes`,
		`DROP TABLE memberships`,
		`DROP TABLE plans`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
