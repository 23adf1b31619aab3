package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/internal/id"
)

// relockFixture adds a Zigbee2MQTT bridge and a latching lock behind it,
// with a one-second pulse, and connects them.
func relockFixture(t *testing.T) (*gateFixture, *devices.Device, *devicesim.Sim) {
	t.Helper()
	ctx := context.Background()
	f := newGateFixture(t)
	// Relocks are scheduled by the gate's clock: keep it near the real one.
	f.setClock(time.Now())
	b, secret, err := f.dev.CreateBridge(ctx, operator, devices.NewBridge{SiteID: f.site.ID, Name: "Zigbee", Protocol: devices.ProtocolZigbee,
		Address: "zigbee2mqtt/" + id.Secret(8)})
	if err != nil {
		t.Fatal(err)
	}
	lock, _, err := f.dev.Create(ctx, operator, devices.NewDevice{SiteID: f.site.ID, BridgeID: &b.ID, Kind: devices.KindLock, Name: "Entrée Zigbee",
		Address: "entrée/serrure", PulseSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	env := mqtttest.Start(t, f.dev)
	cfg := devicesim.ForBridge(b, secret, env.DeviceURL, lock)
	cfg.Logger = mqtttest.Quiet()
	sim, err := devicesim.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	f.waitOnline(t, lock, true)
	jc := f.newJobs(t)
	startJobs(t, jc)
	return f, lock, sim
}

func (f *gateFixture) eventsOf(t *testing.T, kind string) []access.Event {
	t.Helper()
	evs, _, err := f.gate.ListEvents(context.Background(), access.EventFilter{SiteID: f.site.ID, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var out []access.Event
	for _, e := range evs {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// TestZigbeeLockRelocks: a Zigbee lock latches, so relais locks it again
// when the pulse is over, through a durable job, and records it.
func TestZigbeeLockRelocks(t *testing.T) {
	t.Parallel()
	f, lock, sim := relockFixture(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lock locked again after its pulse", func() bool { return len(actions(sim, devices.ActionLock)) == 1 })
	eventually(t, "the relock recorded", func() bool {
		evs := f.eventsOf(t, access.EventDoorRelock)
		return len(evs) == 1 && evs[0].Outcome == access.OutcomeConfirmed && evs[0].Decision == access.Info
	})
	unlocked, relocked := actions(sim, devices.ActionUnlock)[0].At, actions(sim, devices.ActionLock)[0].At
	if relocked.Sub(unlocked) < time.Second {
		t.Fatalf("relocked %s after the unlock, before the pulse ended", relocked.Sub(unlocked))
	}
}

// TestRelockLeavesALaterUnlockAlone: a second unlock during the first's
// pulse gets its whole pulse: the first unlock's relock does nothing.
func TestRelockLeavesALaterUnlockAlone(t *testing.T) {
	t.Parallel()
	f, lock, sim := relockFixture(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	f.setClock(time.Now())
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lock locked again", func() bool { return len(actions(sim, devices.ActionLock)) >= 1 })
	unlocks := actions(sim, devices.ActionUnlock)
	if len(unlocks) != 2 {
		t.Fatalf("unlocks = %+v", unlocks)
	}
	first := actions(sim, devices.ActionLock)[0].At
	if first.Sub(unlocks[1].At) < time.Second {
		t.Fatalf("locked %s after the second unlock: the first unlock's relock cut its pulse short", first.Sub(unlocks[1].At))
	}
}

// TestRelockOfAnOfflineLockIsRetried: the lock's bridge is away when the
// pulse ends; the failure is recorded and the job tries again.
func TestRelockOfAnOfflineLockIsRetried(t *testing.T) {
	t.Parallel()
	f, lock, sim := relockFixture(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); err != nil {
		t.Fatal(err)
	}
	sim.SetMode(devicesim.Offline, 0)
	f.waitOnline(t, lock, false)
	eventually(t, "a failed relock recorded", func() bool {
		for _, e := range f.eventsOf(t, access.EventDoorRelock) {
			if e.Outcome == access.OutcomeOffline {
				return true
			}
		}
		return false
	})
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); problemCode(err) != "device_offline" {
		t.Fatalf("unlock while the bridge is away: %v", err)
	}
}
