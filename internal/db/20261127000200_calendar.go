package db

import (
	"context"

	"github.com/uptrace/bun"
)

// The calendar: resources and their rules, qualifications, reservations
// (with recurring series and holds for waiting-list offers), the waiting
// list, resource closures and calendar feed tokens.
//
// On PostgreSQL an exclusion constraint is the last word against double
// booking of exclusive resources (desks, rooms, machines): two confirmed or
// held reservations of one resource can never overlap over
// [starts_at, busy_until), whatever the application or the number of
// replicas does. Zones (N seats) are guarded by a row lock on the resource.
// On SQLite every write transaction is BEGIN IMMEDIATE, which serialises them.
func init() {
	tables := []string{
		`CREATE TABLE qualifications (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			name TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			created_at {TS} NOT NULL
		)`,
		`CREATE INDEX qualifications_site_idx ON qualifications (site_id)`,
		`CREATE TABLE qualification_grants (
			id TEXT PRIMARY KEY,
			qualification_id TEXT NOT NULL REFERENCES qualifications (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			granted_by TEXT NOT NULL REFERENCES users (id),
			granted_at {TS} NOT NULL,
			expires_at {TS},
			revoked_at {TS}
		)`,
		`CREATE INDEX qualification_grants_user_idx ON qualification_grants (user_id, qualification_id)`,
		`CREATE TABLE resources (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			kind TEXT NOT NULL CHECK (kind IN ('desk', 'room', 'zone', 'machine')),
			name TEXT NOT NULL,
			description TEXT NOT NULL DEFAULT '',
			capacity INTEGER NOT NULL CHECK (capacity >= 1),
			rules {JSON} NOT NULL,
			opening_hours {JSON},
			qualification_id TEXT REFERENCES qualifications (id),
			price_per_hour_cents BIGINT NOT NULL DEFAULT 0 CHECK (price_per_hour_cents >= 0),
			member_bookable BOOLEAN NOT NULL DEFAULT TRUE,
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			retired_at {TS}
		)`,
		`CREATE INDEX resources_site_idx ON resources (site_id)`,
		`CREATE TABLE resource_closures (
			id TEXT PRIMARY KEY,
			resource_id TEXT NOT NULL REFERENCES resources (id),
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			reason TEXT NOT NULL DEFAULT '',
			created_at {TS} NOT NULL,
			CHECK (ends_at > starts_at)
		)`,
		`CREATE INDEX resource_closures_idx ON resource_closures (resource_id, starts_at)`,
		`CREATE TABLE reservation_series (
			id TEXT PRIMARY KEY,
			resource_id TEXT NOT NULL REFERENCES resources (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			rrule TEXT NOT NULL,
			first_start {TS} NOT NULL,
			duration_seconds BIGINT NOT NULL,
			timezone TEXT NOT NULL,
			created_at {TS} NOT NULL
		)`,
		`CREATE TABLE reservations (
			id TEXT PRIMARY KEY,
			resource_id TEXT NOT NULL REFERENCES resources (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			user_id TEXT REFERENCES users (id),
			kind TEXT NOT NULL CHECK (kind IN ('booking', 'block')),
			status TEXT NOT NULL CHECK (status IN ('confirmed', 'held', 'cancelled')),
			exclusive BOOLEAN NOT NULL,
			seats INTEGER NOT NULL CHECK (seats >= 1),
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			busy_until {TS} NOT NULL,
			note TEXT NOT NULL DEFAULT '',
			series_id TEXT REFERENCES reservation_series (id),
			created_by TEXT NOT NULL REFERENCES users (id),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			hold_expires_at {TS},
			cancelled_at {TS},
			cancelled_by TEXT REFERENCES users (id),
			cancel_reason TEXT NOT NULL DEFAULT '',
			late_cancel BOOLEAN NOT NULL DEFAULT FALSE,
			CHECK (ends_at > starts_at),
			CHECK (busy_until >= ends_at)
		)`,
		`CREATE INDEX reservations_resource_time_idx ON reservations (resource_id, starts_at)`,
		`CREATE INDEX reservations_site_time_idx ON reservations (site_id, starts_at)`,
		`CREATE INDEX reservations_user_time_idx ON reservations (user_id, starts_at)`,
		`CREATE INDEX reservations_series_idx ON reservations (series_id)`,
		`CREATE TABLE waitlist_entries (
			id TEXT PRIMARY KEY,
			resource_id TEXT NOT NULL REFERENCES resources (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			seats INTEGER NOT NULL,
			auto_book BOOLEAN NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'booked', 'expired', 'cancelled')),
			reservation_id TEXT REFERENCES reservations (id),
			offer_expires_at {TS},
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX waitlist_resource_idx ON waitlist_entries (resource_id, status, created_at)`,
		`CREATE TABLE calendar_tokens (
			id TEXT PRIMARY KEY,
			user_id TEXT NOT NULL REFERENCES users (id),
			token_hash TEXT NOT NULL UNIQUE,
			created_at {TS} NOT NULL,
			revoked_at {TS}
		)`,
	}
	pgOnly := []string{
		`CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public`,
		`ALTER TABLE reservations ADD CONSTRAINT reservations_no_overlap
			EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, busy_until, '[)') WITH &&)
			WHERE (exclusive AND status <> 'cancelled')`,
	}
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, tables...); err != nil {
				return err
			}
			if IsSQLite(tx) {
				return nil
			}
			return execDDL(ctx, tx, pgOnly...)
		})
	}
	down := ddl(
		`DROP TABLE calendar_tokens`,
		`DROP TABLE waitlist_entries`,
		`DROP TABLE reservations`,
		`DROP TABLE reservation_series`,
		`DROP TABLE resource_closures`,
		`DROP TABLE resources`,
		`DROP TABLE qualification_grants`,
		`DROP TABLE qualifications`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
