package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// TestBridgesMigration: Zigbee2MQTT devices registered with a login each
// move behind one bridge per site, which keeps the earliest one's
// credentials (so a bridge that managed to log in with them still does);
// every device gets its topic root.
func TestBridgesMigration(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	before := migrate.NewMigrations()
	for _, m := range db.Migrations.Sorted() {
		if m.Name < "20261205000100" {
			before.Add(m)
		}
	}
	m := migrate.NewMigrator(d, before, migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	site := "01900000-0000-7000-8000-000000000001"
	exec(`INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at) VALUES (?, 'S', 'Europe/Paris', '{}', '{}', ?, ?)`, site, now, now)
	dev := func(id, protocol, address, hash string, retired bool) {
		var ret any
		if retired {
			ret = now
		}
		exec(`INSERT INTO devices (id, site_id, kind, name, protocol, address, channel, username, secret_hash, pulse_seconds, created_at, updated_at, retired_at)
			VALUES (?, ?, 'lock', 'd', ?, ?, 0, ?, ?, 5, ?, ?, ?)`, id, site, protocol, address, "dev-"+id, hash, now, now, ret)
	}
	dev("01900000-0000-7000-8000-0000000000a1", "zigbee2mqtt", "front", "hash-front", false)
	dev("01900000-0000-7000-8000-0000000000a2", "zigbee2mqtt", "back", "hash-back", false)
	dev("01900000-0000-7000-8000-0000000000a0", "zigbee2mqtt", "old", "hash-old", true)
	dev("01900000-0000-7000-8000-0000000000b1", "relais", "entree", "hash-relais", false)
	dev("01900000-0000-7000-8000-0000000000b2", "tasmota", "tasmota_X", "hash-tasmota", false)

	if err := db.Migrate(ctx, d); err != nil {
		t.Fatal(err)
	}
	var bridges []struct {
		ID, Username, SecretHash, Address, Protocol string
	}
	if err := d.NewRaw("SELECT id, username, secret_hash, address, protocol FROM bridges").Scan(ctx, &bridges); err != nil {
		t.Fatal(err)
	}
	if len(bridges) != 1 || bridges[0].ID != "01900000-0000-7000-8000-0000000000a1" || bridges[0].Username != "dev-01900000-0000-7000-8000-0000000000a1" ||
		bridges[0].SecretHash != "hash-front" || bridges[0].Address != "zigbee2mqtt" || bridges[0].Protocol != "zigbee2mqtt" {
		t.Fatalf("bridges = %+v, want one taking the earliest device's login", bridges)
	}
	var rows []struct {
		ID, TopicRoot, SecretHash string
		BridgeID                  *string
	}
	if err := d.NewRaw("SELECT id, topic_root, secret_hash, bridge_id FROM devices ORDER BY id").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		root   string
		bridge bool
		hash   string
	}{
		"01900000-0000-7000-8000-0000000000a0": {"zigbee2mqtt/old", false, "hash-old"},
		"01900000-0000-7000-8000-0000000000a1": {"zigbee2mqtt/front", true, ""},
		"01900000-0000-7000-8000-0000000000a2": {"zigbee2mqtt/back", true, ""},
		"01900000-0000-7000-8000-0000000000b1": {"relais/" + site + "/entree", false, "hash-relais"},
		"01900000-0000-7000-8000-0000000000b2": {"tasmota_X", false, "hash-tasmota"},
	}
	for _, r := range rows {
		w := want[r.ID]
		if r.TopicRoot != w.root || (r.BridgeID != nil) != w.bridge || r.SecretHash != w.hash {
			t.Errorf("device %s: root %q bridge %v hash %q, want %+v", r.ID, r.TopicRoot, r.BridgeID, r.SecretHash, w)
		}
	}
}
