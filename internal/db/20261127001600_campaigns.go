package db

// Crowdfunding campaigns and their contributions.
//
//   - campaigns.status is 'open' until the campaign settles, exactly once:
//     the settlement is a conditional UPDATE … WHERE status = 'open'.
//   - campaign_contributions are unique per (platform, external_id): a
//     Stripe checkout, or a row of a HelloAsso or generic CSV export, is
//     recorded once however often it arrives. user_id stays NULL while no
//     member has the contributor's email; the credit is granted when one
//     does. receipt_seq numbers the receipts of a campaign.
//   - campaign_imports keeps each applied CSV file's report.
func init() {
	up := ddl(
		`CREATE TABLE campaigns (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			title TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			goal_cents BIGINT NOT NULL CHECK (goal_cents > 0),
			starts_at {TS} NOT NULL,
			deadline {TS} NOT NULL,
			mode TEXT NOT NULL CHECK (mode IN ('all_or_nothing', 'keep_it_all')),
			tiers {JSON} NOT NULL,
			vat_rate_bp INTEGER NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('open', 'succeeded', 'failed')),
			created_by TEXT REFERENCES users (id),
			closed_early_at {TS},
			settled_at {TS},
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			CHECK (deadline > starts_at)
		)`,
		`CREATE INDEX campaigns_site_idx ON campaigns (site_id, created_at)`,
		`CREATE INDEX campaigns_due_idx ON campaigns (status, deadline)`,
		`CREATE TABLE campaign_contributions (
			id TEXT PRIMARY KEY,
			campaign_id TEXT NOT NULL REFERENCES campaigns (id),
			platform TEXT NOT NULL CHECK (platform IN ('stripe', 'helloasso', 'generic')),
			external_id TEXT NOT NULL,
			receipt_seq INTEGER NOT NULL,
			user_id TEXT REFERENCES users (id),
			email TEXT NOT NULL,
			name TEXT NOT NULL DEFAULT '',
			public_name TEXT,
			amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
			tier_index INTEGER,
			credit_unit TEXT NOT NULL DEFAULT '',
			credit_amount BIGINT NOT NULL DEFAULT 0,
			credit_resource_kind TEXT NOT NULL DEFAULT '',
			status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'refund_due', 'refunded', 'failed', 'expired')),
			lot_id TEXT REFERENCES credit_lots (id),
			contributed_at {TS} NOT NULL,
			stripe_checkout_session_id TEXT UNIQUE,
			stripe_payment_intent_id TEXT,
			refunded_cents BIGINT NOT NULL DEFAULT 0,
			buyer {JSON},
			invoice_id TEXT,
			import_id TEXT,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			UNIQUE (platform, external_id),
			UNIQUE (campaign_id, receipt_seq)
		)`,
		`CREATE INDEX campaign_contributions_campaign_idx ON campaign_contributions (campaign_id, status)`,
		`CREATE INDEX campaign_contributions_email_idx ON campaign_contributions (email) WHERE user_id IS NULL`,
		`CREATE INDEX campaign_contributions_user_idx ON campaign_contributions (user_id)`,
		`CREATE INDEX campaign_contributions_intent_idx ON campaign_contributions (stripe_payment_intent_id)`,
		`CREATE TABLE campaign_imports (
			id TEXT PRIMARY KEY,
			campaign_id TEXT NOT NULL REFERENCES campaigns (id),
			format TEXT NOT NULL,
			rows_total INTEGER NOT NULL,
			rows_created INTEGER NOT NULL,
			rows_duplicate INTEGER NOT NULL,
			rows_skipped INTEGER NOT NULL,
			imported_by TEXT REFERENCES users (id),
			created_at {TS} NOT NULL
		)`,
	)
	down := ddl(
		`DROP TABLE campaign_imports`,
		`DROP TABLE campaign_contributions`,
		`DROP TABLE campaigns`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
