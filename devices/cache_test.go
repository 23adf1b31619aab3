package devices_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// TestForCommandCache: a change made through this process is seen by the
// next command at once; one made through another replica (a second
// Service on the same database) within the cache's lifetime, not later.
func TestForCommandCache(t *testing.T) {
	ctx := context.Background()
	bdb := dbtest.New(t)
	f := newFixture(t, bdb)
	const ttl = 300 * time.Millisecond
	here := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, DeviceCacheTTL: ttl})
	other := devices.New(bdb, devices.Config{Places: calendar.DevicePlaces{}, DeviceCacheTTL: ttl})

	d, _, err := here.Create(ctx, operator, devices.NewDevice{SiteID: f.site, Kind: devices.KindLock, Name: "Entrée",
		Protocol: devices.ProtocolRelais, Address: "entree"})
	if err != nil {
		t.Fatal(err)
	}
	pulse := func(svc *devices.Service) int {
		t.Helper()
		got, err := svc.ForCommand(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.PulseSeconds
	}
	if got := pulse(here); got != devices.DefaultPulseSeconds {
		t.Fatalf("pulse = %d", got)
	}
	// The command's copy is the registry's row, column for column.
	fresh, err := here.Get(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cmd, _ := other.ForCommand(ctx, d.ID); !reflect.DeepEqual(cmd, fresh) {
		t.Fatalf("ForCommand = %+v\nGet = %+v", cmd, fresh)
	}
	if _, err := here.ForCommand(ctx, "not-an-id"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("ForCommand of no device = %v", err)
	}

	// Through this process: seen at once, though the old row was cached.
	if _, err := here.Update(ctx, operator, d.ID, devices.DevicePatch{PulseSeconds: ptr(7)}); err != nil {
		t.Fatal(err)
	}
	if got := pulse(here); got != 7 {
		t.Fatalf("after a local update, pulse = %d, want 7", got)
	}

	// Through another replica: the cached row serves until it lapses.
	changed := time.Now()
	if _, err := other.Update(ctx, operator, d.ID, devices.DevicePatch{PulseSeconds: ptr(9)}); err != nil {
		t.Fatal(err)
	}
	for pulse(here) != 9 {
		if time.Since(changed) > ttl+time.Second {
			t.Fatalf("another replica's update not seen after %v", time.Since(changed))
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A retirement through this process is seen by the next command.
	if got := pulse(here); got != 9 {
		t.Fatal("cache went back to an older row")
	}
	if err := here.Retire(ctx, operator, d.ID); err != nil {
		t.Fatal(err)
	}
	got, err := here.ForCommand(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.RetiredAt == nil {
		t.Fatal("a retired device is still served as in service")
	}
}
