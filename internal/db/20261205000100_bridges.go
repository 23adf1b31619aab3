package db

// Bridges and topic roots. A bridge is one MQTT client that carries several
// devices (a Zigbee2MQTT bridge, a Tasmota or Shelly with several relays):
// one login, and the devices behind it have none of their own. Every
// device keeps its topic root (devices.TopicsOf), computed at each write;
// the rule that keeps clients' topics apart is checked by the devices
// package under a lock, since "one root inside another" is not something
// a unique index can say.
//
// Zigbee2MQTT devices registered before bridges existed each had their own
// login, which a real Zigbee2MQTT (one login for all) could not use: the
// in-service ones of each site move behind one bridge per site, with base
// topic zigbee2mqtt, that takes over the earliest one's credentials. Two
// sites with such devices now share a base topic: `relais devices check`
// reports them, and the broker refuses those bridges until one moves.
//
// login_problem keeps why the broker last refused a client with good
// credentials (its Last Will elsewhere than its presence topic, an address
// that breaks the rules), for its managers to read.
func init() {
	up := ddl(
		`CREATE TABLE bridges (
			id TEXT PRIMARY KEY,
			site_id TEXT NOT NULL REFERENCES sites (id),
			name TEXT NOT NULL,
			protocol TEXT NOT NULL CHECK (protocol IN ('zigbee2mqtt', 'tasmota', 'shelly')),
			address TEXT NOT NULL,
			username TEXT NOT NULL UNIQUE,
			secret_hash TEXT NOT NULL,
			online BOOLEAN NOT NULL DEFAULT FALSE,
			last_seen_at {TS},
			presence_at {TS},
			login_problem TEXT NOT NULL DEFAULT '',
			login_problem_at {TS},
			created_at {TS} NOT NULL,
			updated_at {TS} NOT NULL,
			retired_at {TS}
		)`,
		`CREATE INDEX bridges_site_idx ON bridges (site_id)`,
		`CREATE INDEX bridges_root_idx ON bridges (protocol, address) WHERE retired_at IS NULL`,
		`ALTER TABLE devices ADD COLUMN bridge_id TEXT REFERENCES bridges (id)`,
		`ALTER TABLE devices ADD COLUMN topic_root TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE devices ADD COLUMN login_problem TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE devices ADD COLUMN login_problem_at {TS}`,
		`UPDATE devices SET topic_root = CASE protocol
			WHEN 'relais' THEN 'relais/' || site_id || '/' || address
			WHEN 'zigbee2mqtt' THEN 'zigbee2mqtt/' || address
			ELSE address END`,
		`INSERT INTO bridges (id, site_id, name, protocol, address, username, secret_hash, created_at, updated_at)
			SELECT d.id, d.site_id, 'Zigbee2MQTT', 'zigbee2mqtt', 'zigbee2mqtt', d.username, d.secret_hash, d.created_at, d.created_at
			FROM devices d
			WHERE d.protocol = 'zigbee2mqtt' AND d.retired_at IS NULL
				AND d.id = (SELECT MIN(e.id) FROM devices e
					WHERE e.protocol = 'zigbee2mqtt' AND e.retired_at IS NULL AND e.site_id = d.site_id)`,
		`UPDATE devices SET secret_hash = '', bridge_id = (SELECT b.id FROM bridges b
			WHERE b.site_id = devices.site_id AND b.protocol = 'zigbee2mqtt')
			WHERE protocol = 'zigbee2mqtt' AND retired_at IS NULL`,
		`DROP INDEX devices_identity_idx`,
		// One device per root and channel: behind a Tasmota or Shelly bridge
		// the channels differ; elsewhere the registry's rule is stricter.
		`CREATE UNIQUE INDEX devices_identity_idx ON devices (protocol, topic_root, channel) WHERE retired_at IS NULL`,
		`CREATE INDEX devices_bridge_idx ON devices (bridge_id) WHERE bridge_id IS NOT NULL`,
		`CREATE INDEX devices_root_idx ON devices (protocol, topic_root) WHERE retired_at IS NULL`,
	)
	down := ddl(
		`DROP INDEX devices_root_idx`,
		`DROP INDEX devices_bridge_idx`,
		`DROP INDEX devices_identity_idx`,
		`UPDATE devices SET secret_hash = COALESCE((SELECT b.secret_hash FROM bridges b WHERE b.id = devices.id), secret_hash)`,
		`ALTER TABLE devices DROP COLUMN login_problem_at`,
		`ALTER TABLE devices DROP COLUMN login_problem`,
		`ALTER TABLE devices DROP COLUMN topic_root`,
		`ALTER TABLE devices DROP COLUMN bridge_id`,
		`DROP TABLE bridges`,
		`CREATE UNIQUE INDEX devices_identity_idx ON devices
			(protocol, (CASE WHEN protocol = 'relais' THEN site_id ELSE '' END), address, channel)
			WHERE retired_at IS NULL`,
	)
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
