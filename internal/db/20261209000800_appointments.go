package db

// Appointments with public services (package appointments, issue 18):
//   - partners: a public service or association (CAF, France Travail…),
//     network-wide (site_id NULL) or of a site, with its purposes and
//     their checklists (JSON, read and written whole);
//   - partner_agents: the accounts that act for a partner, with their
//     fixed video room;
//   - partner_windows: when and where a partner receives (a resource of a
//     site, a weekday or every day of a date range, hours, slot length);
//   - appointments: a resident at a slot, holding the calendar block
//     (reservation_id) that keeps the resource theirs. One live
//     appointment per window and start, whatever the engine.
func init() {
	up := ddl(
		`CREATE TABLE partners (
			id TEXT PRIMARY KEY,
			site_id TEXT REFERENCES sites (id),
			name TEXT NOT NULL,
			kind TEXT NOT NULL,
			purposes {JSON} NOT NULL,
			video_mode TEXT NOT NULL CHECK (video_mode IN ('none', 'agent_room')),
			active BOOLEAN NOT NULL,
			created_by TEXT REFERENCES users (id),
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL
		)`,
		`CREATE INDEX partners_site_idx ON partners (site_id)`,
		`CREATE TABLE partner_agents (
			partner_id TEXT NOT NULL REFERENCES partners (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			video_url TEXT,
			created_at {TS} NOT NULL,
			PRIMARY KEY (partner_id, user_id)
		)`,
		`CREATE INDEX partner_agents_user_idx ON partner_agents (user_id)`,
		`CREATE TABLE partner_windows (
			id TEXT PRIMARY KEY,
			partner_id TEXT NOT NULL REFERENCES partners (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			resource_id TEXT NOT NULL REFERENCES resources (id),
			agent_id TEXT REFERENCES users (id),
			weekday TEXT,
			valid_from TEXT NOT NULL,
			valid_until TEXT,
			start_time TEXT NOT NULL,
			end_time TEXT NOT NULL,
			slot_minutes INTEGER NOT NULL CHECK (slot_minutes > 0),
			status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
			created_at {TS} NOT NULL,
			closed_at {TS}
		)`,
		`CREATE INDEX partner_windows_partner_idx ON partner_windows (partner_id, status)`,
		`CREATE TABLE appointments (
			id TEXT PRIMARY KEY,
			partner_id TEXT NOT NULL REFERENCES partners (id),
			window_id TEXT NOT NULL REFERENCES partner_windows (id),
			site_id TEXT NOT NULL REFERENCES sites (id),
			resource_id TEXT NOT NULL REFERENCES resources (id),
			user_id TEXT NOT NULL REFERENCES users (id),
			agent_id TEXT REFERENCES users (id),
			purpose_id TEXT NOT NULL,
			purpose TEXT NOT NULL,
			checklist {JSON} NOT NULL,
			video_url TEXT,
			starts_at {TS} NOT NULL,
			ends_at {TS} NOT NULL,
			status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
			reservation_id TEXT REFERENCES reservations (id),
			outcome TEXT CHECK (outcome IN ('held', 'no_show', 'follow_up')),
			outcome_note TEXT,
			outcome_by TEXT REFERENCES users (id),
			outcome_at {TS},
			created_by TEXT REFERENCES users (id),
			created_at {TS} NOT NULL,
			cancelled_by TEXT REFERENCES users (id),
			cancelled_at {TS},
			CHECK (ends_at > starts_at)
		)`,
		// Two appointments for one slot: exactly one, on either engine.
		`CREATE UNIQUE INDEX appointments_slot_idx ON appointments (window_id, starts_at) WHERE status = 'confirmed'`,
		`CREATE INDEX appointments_partner_idx ON appointments (partner_id, starts_at)`,
		`CREATE INDEX appointments_user_idx ON appointments (user_id)`,
	)
	down := ddl(
		`DROP TABLE appointments`,
		`DROP TABLE partner_windows`,
		`DROP TABLE partner_agents`,
		`DROP TABLE partners`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
