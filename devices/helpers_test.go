package devices_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/id"
)

// fixture inserts what devices refer to — a site, a room and a machine —
// straight into the tables: devices knows nothing of calendar's rules.
type fixture struct {
	site, room, machine string
}

func newFixture(t testing.TB, bdb *bun.DB) fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	f := fixture{site: id.New(), room: id.New(), machine: id.New()}
	if _, err := bdb.ExecContext(ctx, `INSERT INTO sites (id, name, timezone, address, legal, created_at, updated_at)
		VALUES (?, 'Test site', 'Europe/Paris', '{}', '{}', ?, ?)`, f.site, now, now); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ id, kind string }{{f.room, "room"}, {f.machine, "machine"}} {
		if _, err := bdb.ExecContext(ctx, `INSERT INTO resources (id, site_id, kind, name, capacity, rules, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, '{}', ?, ?)`, r.id, f.site, r.kind, r.kind, now, now); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// operator is the administrator the tests register and change devices as.
var operator = &identity.Principal{UserID: "operator", Role: identity.RoleAdmin}
