package db

// Webhook endpoints and their delivery log (package webhooks). The secret
// is kept as it is: it is the HMAC key each delivery is signed with, so it
// cannot be hashed; the API shows it once. Deliveries are pruned by the
// webhooks package after 30 days.
func init() {
	up := ddl(
		`CREATE TABLE webhook_endpoints (
			id TEXT PRIMARY KEY,
			site_id TEXT REFERENCES sites (id),
			url TEXT NOT NULL,
			events {JSON} NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			secret TEXT NOT NULL,
			enabled BOOLEAN NOT NULL,
			failing_since {TS},
			disabled_reason TEXT NOT NULL DEFAULT '',
			created_by TEXT NOT NULL,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX webhook_endpoints_site_idx ON webhook_endpoints (site_id)`,
		`CREATE TABLE webhook_deliveries (
			id TEXT PRIMARY KEY,
			endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
			event_id TEXT NOT NULL,
			event_type TEXT NOT NULL,
			payload {BYTES} NOT NULL,
			status TEXT NOT NULL,
			attempts INTEGER NOT NULL DEFAULT 0,
			response_code INTEGER NOT NULL DEFAULT 0,
			response_body TEXT NOT NULL DEFAULT '',
			error TEXT NOT NULL DEFAULT '',
			duration_ms BIGINT NOT NULL DEFAULT 0,
			created_at {TS} NOT NULL,
			last_attempt_at {TS},
			UNIQUE (endpoint_id, event_id)
		)`,
		`CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)`,
	)
	down := ddl(
		`DROP TABLE webhook_deliveries`,
		`DROP TABLE webhook_endpoints`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
