package db

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Ateliers and trainings (package ateliers, issue 18):
//   - atelier_categories: the network's list of kinds of atelier, seeded
//     with those EPNs and fablabs name most (the admins change it);
//   - ateliers: what is offered, by a site, to whom, for how many;
//   - atelier_resources and atelier_animateurs: the resources every session
//     occupies and who runs it;
//   - atelier_sessions: each date, and atelier_session_blocks the calendar
//     blocks that hold its resources;
//   - atelier_registrations: a person (member or guest) at a session,
//     confirmed or waiting, and their attendance.
func init() {
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx,
				`CREATE TABLE atelier_categories (
					id TEXT PRIMARY KEY,
					name TEXT NOT NULL UNIQUE,
					position INTEGER NOT NULL,
					created_at {TS} NOT NULL
				)`,
				`CREATE TABLE ateliers (
					id TEXT PRIMARY KEY,
					site_id TEXT NOT NULL REFERENCES sites (id),
					category_id TEXT NOT NULL REFERENCES atelier_categories (id),
					title TEXT NOT NULL,
					description TEXT NOT NULL,
					audience TEXT NOT NULL CHECK (audience IN ('public', 'members', 'invitation')),
					seats INTEGER NOT NULL CHECK (seats > 0),
					price_cents BIGINT NOT NULL CHECK (price_cents >= 0),
					qualification_id TEXT REFERENCES qualifications (id),
					qualification_months INTEGER NOT NULL DEFAULT 0,
					registration_opens_at {TS},
					registration_closes_minutes INTEGER NOT NULL DEFAULT 0,
					cancel_before_minutes INTEGER NOT NULL DEFAULT 0,
					status TEXT NOT NULL CHECK (status IN ('active', 'cancelled')),
					created_by TEXT REFERENCES users (id),
					created_at {TS} NOT NULL,
					updated_at {TS} NOT NULL
				)`,
				`CREATE INDEX ateliers_site_idx ON ateliers (site_id)`,
				`CREATE TABLE atelier_resources (
					atelier_id TEXT NOT NULL REFERENCES ateliers (id),
					resource_id TEXT NOT NULL REFERENCES resources (id),
					PRIMARY KEY (atelier_id, resource_id)
				)`,
				`CREATE TABLE atelier_animateurs (
					atelier_id TEXT NOT NULL REFERENCES ateliers (id),
					user_id TEXT NOT NULL REFERENCES users (id),
					PRIMARY KEY (atelier_id, user_id)
				)`,
				`CREATE INDEX atelier_animateurs_user_idx ON atelier_animateurs (user_id)`,
				`CREATE TABLE atelier_sessions (
					id TEXT PRIMARY KEY,
					atelier_id TEXT NOT NULL REFERENCES ateliers (id),
					starts_at {TS} NOT NULL,
					ends_at {TS} NOT NULL,
					status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
					cancelled_at {TS},
					CHECK (ends_at > starts_at)
				)`,
				`CREATE INDEX atelier_sessions_atelier_idx ON atelier_sessions (atelier_id, starts_at)`,
				`CREATE INDEX atelier_sessions_time_idx ON atelier_sessions (starts_at)`,
				`CREATE TABLE atelier_session_blocks (
					session_id TEXT NOT NULL REFERENCES atelier_sessions (id),
					reservation_id TEXT NOT NULL REFERENCES reservations (id),
					PRIMARY KEY (session_id, reservation_id)
				)`,
				`CREATE TABLE atelier_registrations (
					id TEXT PRIMARY KEY,
					atelier_id TEXT NOT NULL REFERENCES ateliers (id),
					session_id TEXT NOT NULL REFERENCES atelier_sessions (id),
					user_id TEXT NOT NULL REFERENCES users (id),
					status TEXT NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
					attendance TEXT CHECK (attendance IN ('present', 'absent', 'excused')),
					attendance_by TEXT REFERENCES users (id),
					attendance_at {TS},
					created_by TEXT REFERENCES users (id),
					created_at {TS} NOT NULL,
					promoted_at {TS},
					cancelled_at {TS}
				)`,
				// One live registration per person and session.
				`CREATE UNIQUE INDEX atelier_registrations_live_idx ON atelier_registrations (session_id, user_id) WHERE status <> 'cancelled'`,
				`CREATE INDEX atelier_registrations_session_idx ON atelier_registrations (session_id, status, created_at)`,
				`CREATE INDEX atelier_registrations_user_idx ON atelier_registrations (user_id)`,
			); err != nil {
				return err
			}
			now := time.Now().UTC()
			for i, name := range []string{"Initiation numérique", "Démarches en ligne", "Atelier seniors", "Formation fablab", "Culture et loisirs"} {
				if _, err := tx.ExecContext(ctx, "INSERT INTO atelier_categories (id, name, position, created_at) VALUES (?, ?, ?, ?)",
					seedCategoryIDs[i], name, i+1, now); err != nil {
					return err
				}
			}
			return nil
		})
	}
	down := ddl(
		`DROP TABLE atelier_registrations`,
		`DROP TABLE atelier_session_blocks`,
		`DROP TABLE atelier_sessions`,
		`DROP TABLE atelier_animateurs`,
		`DROP TABLE atelier_resources`,
		`DROP TABLE ateliers`,
		`DROP TABLE atelier_categories`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}

// seedCategoryIDs are the seeded categories' ids, fixed so that every
// database names them alike.
var seedCategoryIDs = []string{
	"0193a000-0000-7000-8000-00000000ca01",
	"0193a000-0000-7000-8000-00000000ca02",
	"0193a000-0000-7000-8000-00000000ca03",
	"0193a000-0000-7000-8000-00000000ca04",
	"0193a000-0000-7000-8000-00000000ca05",
}
