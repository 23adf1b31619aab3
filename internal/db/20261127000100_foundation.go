package db

// The foundation: settings, accounts, sessions and refresh tokens, API keys,
// sites and their managers and closures, idempotency records, rate limits.
func init() {
	up := ddl(
		`CREATE TABLE settings (
			key TEXT PRIMARY KEY,
			value TEXT NOT NULL,
			created_at {TS} NOT NULL
		)`,
		`CREATE TABLE users (
			id TEXT PRIMARY KEY,
			email TEXT NOT NULL UNIQUE,
			name TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			role TEXT NOT NULL CHECK (role IN ('member', 'admin')),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			disabled_at {TS},
			deleted_at {TS}
		)`,
		`CREATE TABLE sessions (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			last_used_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			revoked_at {TS},
			revoked_reason TEXT NOT NULL DEFAULT '',
			user_agent TEXT NOT NULL DEFAULT '',
			ip TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX sessions_user_idx ON sessions (user_id)`,
		`CREATE TABLE refresh_tokens (
			id TEXT PRIMARY KEY,
			session_id TEXT NOT NULL REFERENCES sessions (id),
			token_hash TEXT NOT NULL UNIQUE,
			created_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			used_at {TS}
		)`,
		`CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)`,
		`CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at)`,
		`CREATE TABLE sites (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			timezone TEXT NOT NULL,
			address {JSON} NOT NULL,
			opening_hours {JSON},
			legal {JSON} NOT NULL,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE TABLE site_managers (
			site_id TEXT NOT NULL REFERENCES sites (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			PRIMARY KEY (site_id, user_id)
		)`,
		`CREATE INDEX site_managers_user_idx ON site_managers (user_id)`,
		`CREATE TABLE site_closures (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			created_at {TS} NOT NULL,
			CHECK (ends_at > starts_at)
		)`,
		`CREATE INDEX site_closures_site_idx ON site_closures (site_id, starts_at)`,
		`CREATE TABLE api_keys (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL,
			prefix TEXT NOT NULL,
			key_hash TEXT NOT NULL UNIQUE,
			scopes {JSON} NOT NULL,
			site_ids {JSON} NOT NULL,
			created_by TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			last_used_at {TS},
			revoked_at {TS}
		)`,
		`CREATE TABLE idempotency_keys (
			scope TEXT NOT NULL,
			key TEXT NOT NULL,
			method TEXT NOT NULL,
			path TEXT NOT NULL,
			request_hash TEXT NOT NULL,
			status INTEGER NOT NULL DEFAULT 0,
			headers {JSON},
			body {BYTES},
			created_at {TS} NOT NULL,
			expires_at {TS} NOT NULL,
			PRIMARY KEY (scope, key)
		)`,
		`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`,
		`CREATE TABLE rate_limits (
			bucket TEXT NOT NULL,
			window_start BIGINT NOT NULL,
			hits INTEGER NOT NULL,
			expires_at {TS} NOT NULL,
			PRIMARY KEY (bucket, window_start)
		)`,
		`CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at)`,
	)
	down := ddl(
		`DROP TABLE rate_limits`,
		`DROP TABLE idempotency_keys`,
		`DROP TABLE api_keys`,
		`DROP TABLE site_closures`,
		`DROP TABLE site_managers`,
		`DROP TABLE sites`,
		`DROP TABLE refresh_tokens`,
		`DROP TABLE sessions`,
		`DROP TABLE users`,
		`DROP TABLE settings`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
