package db

// Devices: door locks and machine power relays spoken to over MQTT. A
// device's MQTT identity (protocol, address, channel) is unique among the
// devices in service: two rows answering on the same topics would confirm
// each other's commands. The relais protocol puts the site in its topics, so
// its addresses are unique per site; the other protocols' topics are global.
// Presence (online, last_seen_at) is written with a conditional UPDATE so
// that, with several replicas, one of them sees each transition.
func init() {
	up := ddl(
		`CREATE TABLE devices (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			kind TEXT NOT NULL CHECK (kind IN ('lock', 'relay')),
			name TEXT NOT NULL,
			resource_id TEXT REFERENCES resources (id),
			protocol TEXT NOT NULL CHECK (protocol IN ('relais', 'tasmota', 'shelly', 'zigbee2mqtt')),
			address TEXT NOT NULL,
			channel INTEGER NOT NULL DEFAULT 0 CHECK (channel >= 0),
			username TEXT NOT NULL UNIQUE,
			secret_hash TEXT NOT NULL,
			pulse_seconds INTEGER NOT NULL DEFAULT 0 CHECK (pulse_seconds >= 0),
			online BOOLEAN NOT NULL DEFAULT FALSE,
			last_seen_at {TS},
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			retired_at {TS}
		)`,
		`CREATE INDEX devices_site_idx ON devices (site_id)`,
		`CREATE INDEX devices_resource_idx ON devices (resource_id)`,
		`CREATE UNIQUE INDEX devices_identity_idx ON devices
			(protocol, (CASE WHEN protocol = 'relais' THEN site_id ELSE '' END), address, channel)
			WHERE retired_at IS NULL`,
	)
	down := ddl(`DROP TABLE devices`)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
