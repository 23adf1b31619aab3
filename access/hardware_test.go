package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// connect starts the test broker (embedded, or RELAIS_TEST_MQTT_URL) and a
// simulated device for each of the fixture's devices, and waits until
// relais sees them online.
func (f *gateFixture) connect(t testing.TB) map[string]*devicesim.Sim {
	t.Helper()
	// Devices keep the wall clock: a relais-protocol device checks a
	// command's expiry against its own (real) clock.
	env := mqtttest.Start(t, f.dev)
	sims := map[string]*devicesim.Sim{}
	for _, d := range []*devices.Device{f.entrance, f.roomLock, f.relay} {
		cfg := devicesim.ForDevice(d, f.secrets[d.ID], env.DeviceURL)
		cfg.Logger = mqtttest.Quiet()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := devicesim.Start(ctx, cfg)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		sims[d.ID] = s
		f.waitOnline(t, d, true)
	}
	return sims
}

func (f *gateFixture) waitOnline(t testing.TB, d *devices.Device, want bool) {
	t.Helper()
	eventually(t, "device presence", func() bool {
		on, known := f.dev.Online(d)
		return known && on == want
	})
}

// eventually polls cond until it holds; failing after 15 s means the
// condition never came, not that something was slow.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// trainedMember makes a member on the Nomade plan, trained for the laser.
func (f *gateFixture) trainedMember(t testing.TB, name string) *identity.Principal {
	t.Helper()
	m := f.member(t, name, f.nomade)
	if _, err := f.cal.GrantQualification(context.Background(), &identity.Principal{UserID: m.UserID, Role: identity.RoleAdmin}, f.qual.ID, m.UserID, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

// newJobs gives the gate a River client over the test database with the
// machine jobs registered; the caller starts it if jobs should run.
func (f *gateFixture) newJobs(t testing.TB) *jobs.Client {
	t.Helper()
	if err := jobs.Migrate(context.Background(), f.db); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	f.gate.AddWorkers(workers)
	jc, err := jobs.New(f.db, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return jc
}

// startJobs works jobs until the test ends.
func startJobs(t testing.TB, jc *jobs.Client) {
	t.Helper()
	if err := jc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(stop)
	})
}

func actions(s *devicesim.Sim, a devices.Action) []devicesim.Executed {
	var out []devicesim.Executed
	for _, e := range s.Actions() {
		if e.Action == a && !e.Auto {
			out = append(out, e)
		}
	}
	return out
}

func TestDoorsWithDevices(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	nobody := f.member(t, "nobody", nil)

	t.Run("the entrance opens and the lock confirms", func(t *testing.T) {
		f.setClock(f.at(3, 22, 0))
		dec, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
		if err != nil || !dec.Granted || !dec.Confirmed {
			t.Fatalf("Unlock = %+v, %v", dec, err)
		}
		got := actions(sims[f.entrance.ID], devices.ActionUnlock)
		if len(got) != 1 || got[0].Duration != 5*time.Second {
			t.Fatalf("the lock did %+v, want one 5 s unlock", got)
		}
		ev := dec.Event
		if ev.Outcome != access.OutcomeConfirmed || ev.CommandID == nil || ev.LatencyMS == nil {
			t.Fatalf("event = %+v", ev)
		}
	})

	t.Run("a refusal sends nothing", func(t *testing.T) {
		lock := sims[f.entrance.ID]
		// The simulator records a command after answering it.
		eventually(t, "the first unlock recorded", func() bool { return len(lock.Received()) == 1 })
		if _, err := f.gate.Unlock(ctx, nobody, f.entrance.ID, ""); problemCode(err) != "no_membership" {
			t.Fatalf("Unlock = %v", err)
		}
		// MQTT keeps order: had the refusal sent anything, it would arrive
		// before the next granted command.
		dec, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the second unlock recorded", func() bool { return len(lock.Received()) >= 2 })
		got := lock.Received()
		if len(got) != 2 || !strings.Contains(got[1].Payload, *dec.Event.CommandID) {
			t.Fatalf("the lock received %+v; want the two granted unlocks only", got)
		}
	})

	t.Run("a room's lock opens around its reservation", func(t *testing.T) {
		f.setClock(f.at(2, 7, 0))
		f.book(t, resident.UserID, f.room, f.at(4, 14, 0), f.at(4, 15, 0))
		for _, tc := range []struct {
			at   time.Time
			code string
		}{
			{f.at(4, 13, 45), "no_reservation"}, // 15 min early: beyond the 10 min margin
			{f.at(4, 13, 52), ""},
			{f.at(4, 15, 9), ""},
			{f.at(4, 15, 11), "no_reservation"},
		} {
			f.setClock(tc.at)
			_, err := f.gate.Unlock(ctx, resident, f.roomLock.ID, "")
			if problemCode(err) != tc.code && !(tc.code == "" && err == nil) {
				t.Fatalf("at %s: Unlock = %v, want %q", tc.at.Format("15:04"), err, tc.code)
			}
		}
		if got := actions(sims[f.roomLock.ID], devices.ActionUnlock); len(got) != 2 {
			t.Fatalf("the room's lock opened %d times, want 2", len(got))
		}
	})

	t.Run("a silent lock times out; it never acts afterwards", func(t *testing.T) {
		f.setClock(f.at(5, 22, 0))
		sims[f.entrance.ID].SetMode(devicesim.Silent, 0)
		defer sims[f.entrance.ID].SetMode(devicesim.Normal, 0)
		_, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
		var p *errs.Problem
		if !errors.As(err, &p) || !errors.Is(p.Kind, errs.ErrGatewayTimeout) || p.Code != "device_timeout" {
			t.Fatalf("Unlock of a silent lock = %v, want 504", err)
		}
		evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: resident.UserID, Limit: 1})
		if evs[0].Outcome != access.OutcomeTimeout || evs[0].Decision != access.Granted {
			t.Fatalf("event = %+v", evs[0])
		}
	})

	t.Run("an offline lock: 503, nothing sent, and the outage is recorded", func(t *testing.T) {
		sims[f.entrance.ID].SetMode(devicesim.Offline, 0)
		f.waitOnline(t, f.entrance, false)
		received := len(sims[f.entrance.ID].Received())
		if _, err := f.gate.Unlock(ctx, resident, f.entrance.ID, ""); problemCode(err) != "device_offline" {
			t.Fatalf("Unlock of an offline lock = %v", err)
		}
		sims[f.entrance.ID].SetMode(devicesim.Normal, 0)
		f.waitOnline(t, f.entrance, true)
		if got := len(sims[f.entrance.ID].Received()); got != received {
			t.Fatalf("the offline lock received %d commands", got-received)
		}
		eventually(t, "offline and online events", func() bool {
			off := f.events(t, access.EventFilter{SiteID: f.site.ID, DeviceID: f.entrance.ID})
			kinds := map[string]bool{}
			for _, e := range off {
				kinds[e.Kind] = true
			}
			return kinds[access.EventDeviceOffline] && kinds[access.EventDeviceOnline]
		})
	})
}

func TestMachineSessionWithRelay(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	relay := sims[f.relay.ID]
	ctx := context.Background()
	trained, other := f.trainedMember(t, "trained"), f.trainedMember(t, "other")
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	f.book(t, other.UserID, f.laser, f.at(3, 11, 30), f.at(3, 12, 0))

	// The jobs the session schedules land in River's table.

	f.setClock(f.at(3, 10, 5))
	s, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The relay is on, with a device-side auto-off of the dead-man window.
	if st := relay.State(); !st.On {
		t.Fatal("the relay is off after a confirmed start")
	}
	on := actions(relay, devices.ActionPowerOn)
	if len(on) != 1 || on[0].Duration != 2*time.Minute {
		t.Fatalf("relay actions = %+v, want power_on with a 2 min auto-off", on)
	}
	if !s.EndsAt.Equal(f.at(3, 11, 5)) {
		t.Fatalf("session ends at %v, want the slot's end plus 5 min grace", s.EndsAt)
	}
	// A second start by the same member is the same session; another
	// member (without a reservation now) is refused.
	again, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil || again.ID != s.ID {
		t.Fatalf("second start = %+v, %v", again, err)
	}
	if _, err := f.gate.StartSession(ctx, other.UserID, f.laser.ID); problemCode(err) != "outside_slot" {
		t.Fatalf("other member's start = %v", err)
	}
	var scheduled []string
	if err := f.db.NewSelect().Table("river_job").Column("kind").Where("state = 'scheduled'").Order("kind").Scan(ctx, &scheduled); err != nil {
		t.Fatal(err)
	}
	if len(scheduled) != 2 || scheduled[0] != "access.machine_off" || scheduled[1] != "access.machine_warning" {
		t.Fatalf("scheduled jobs = %v", scheduled)
	}

	// Five minutes before the power goes off, a warning is recorded.
	f.setClock(f.at(3, 11, 0))
	if err := f.gate.WarnSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: trained.UserID, Limit: 1}); evs[0].Kind != access.EventMachineWarning ||
		evs[0].SessionID == nil || *evs[0].SessionID != s.ID {
		t.Fatalf("warning = %+v", evs[0])
	}

	// The refresh pushes the auto-off back while the session lasts.
	f.setClock(f.at(3, 10, 45))
	if err := f.gate.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if on := actions(relay, devices.ActionPowerOn); len(on) != 2 || on[1].Duration != 2*time.Minute {
		t.Fatalf("after a refresh: %+v", on)
	}
	// Near the end the auto-off never reaches past the session's end.
	f.setClock(f.at(3, 11, 4))
	if err := f.gate.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if on := actions(relay, devices.ActionPowerOn); len(on) != 3 || on[2].Duration != time.Minute {
		t.Fatalf("refresh near the end: %+v", on)
	}

	// The member stops at 11:03: three minutes past the slot, taken from the
	// plan's included machine minutes.
	f.setClock(f.at(3, 11, 3))
	cur, err := f.gate.CurrentSession(ctx, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := f.gate.StopSession(ctx, cur, trained.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if relay.State().On || !stopped.OffConfirmed || stopped.StopReason != access.StopMember || *stopped.UsedMinutes != 58 {
		t.Fatalf("stopped = %+v, relay %+v", stopped, relay.State())
	}
	var used int
	if err := f.db.NewSelect().Table("allowance_uses").ColumnExpr("SUM(minutes)").Where("user_id = ?", trained.UserID).Scan(ctx, &used); err != nil {
		t.Fatal(err)
	}
	if used != 63 {
		t.Fatalf("included machine minutes used = %d, want 60 booked + 3 overrun", used)
	}
	if _, err := f.gate.CurrentSession(ctx, f.laser.ID); problemCode(err) != "no_session" {
		t.Fatalf("after stop: %v", err)
	}
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: trained.UserID})
	if len(evs) != 3 || evs[0].Kind != access.EventMachineOff || evs[2].Kind != access.EventMachineOn ||
		evs[0].Outcome != access.OutcomeConfirmed || evs[2].Outcome != access.OutcomeConfirmed {
		t.Fatalf("events = %+v", evs)
	}
}

// TestMachineOffJobRunsOnceAcrossReplicas: a session started by one
// process is switched off by the durable job, worked by two other River
// clients (two replicas after a restart); it runs once.
func TestMachineOffJobRunsOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	relay := sims[f.relay.ID]
	ctx := context.Background()
	trained := f.trainedMember(t, "trained")
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	// The first process only inserts jobs: it stops before the slot ends.
	f.setClock(f.at(3, 10, 30))
	s, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Two replicas start. The job's time (in the test's March 2026) has
	// passed for River's real clock, so it is due at once.
	f.setClock(f.at(3, 11, 5))
	for range 2 {
		startJobs(t, f.newJobs(t))
	}
	eventually(t, "the power-off job", func() bool {
		_, err := f.gate.CurrentSession(ctx, f.laser.ID)
		return problemCode(err) == "no_session"
	})
	if relay.State().On {
		t.Fatal("the relay is still on after the power-off job")
	}
	var done int
	eventually(t, "the job completes", func() bool {
		n, err := f.db.NewSelect().Table("river_job").Where("kind = 'access.machine_off' AND state = 'completed'").Count(ctx)
		done = n
		return err == nil && n == 1
	})
	offs := 0
	for _, e := range f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: trained.UserID}) {
		if e.Kind == access.EventMachineOff {
			offs++
			if e.Reason != access.StopSlotEnd || e.SessionID == nil || *e.SessionID != s.ID {
				t.Fatalf("off event = %+v", e)
			}
		}
	}
	if offs != 1 || done != 1 || len(actions(relay, devices.ActionPowerOff)) != 1 {
		t.Fatalf("%d off events, %d completed jobs, %d power-offs; want one each", offs, done, len(actions(relay, devices.ActionPowerOff)))
	}
}

// TestReconcileAtStart: after a crash, a relay left on with no running
// session is switched off; one whose session still holds a current
// reservation stays on, its auto-off renewed.
func TestReconcileAtStart(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	relay := sims[f.relay.ID]
	ctx := context.Background()
	trained := f.trainedMember(t, "trained")
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	f.setClock(f.at(3, 10, 10))
	if _, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID); err != nil {
		t.Fatal(err)
	}

	// Relais restarts while the session runs: the relay stays on.
	if err := f.gate.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if !relay.State().On || len(actions(relay, devices.ActionPowerOff)) != 0 {
		t.Fatalf("reconcile switched off a running session's relay: %+v", relay.Actions())
	}
	if on := actions(relay, devices.ActionPowerOn); len(on) != 2 {
		t.Fatalf("reconcile did not renew the auto-off: %+v", on)
	}

	// The session's row says stopped, but the power-off never reached the
	// relay (a crash in between): reconcile switches it off.
	if _, err := f.db.ExecContext(ctx, "UPDATE machine_sessions SET stopped_at = ?, stop_reason = 'member'", f.at(3, 10, 20).UTC()); err != nil {
		t.Fatal(err)
	}
	if err := f.gate.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if relay.State().On || len(actions(relay, devices.ActionPowerOff)) != 1 {
		t.Fatalf("after reconcile the relay is %+v", relay.State())
	}
}

// TestCancellingStopsTheMachine: a member cancels the reservation their
// machine runs on; the power-off job enqueued by the cancellation switches
// it off at once, without waiting for the refresh.
func TestCancellingStopsTheMachine(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	relay := sims[f.relay.ID]
	ctx := context.Background()
	trained := f.trainedMember(t, "trained")
	r := f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	jc := f.newJobs(t)
	f.setClock(f.at(3, 10, 10))
	s, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: trained.UserID}}); err != nil {
		t.Fatal(err)
	}
	var stopJobs int
	if err := f.db.NewSelect().Table("river_job").ColumnExpr("count(*)").
		Where("kind = 'access.machine_off' AND state = 'available'").Scan(ctx, &stopJobs); err != nil {
		t.Fatal(err)
	}
	if stopJobs != 1 {
		t.Fatalf("%d power-off jobs due now after the cancellation, want 1", stopJobs)
	}
	// The slot's own power-off and warning are dated in the test's March
	// 2026, long past for River's real clock: drop them, so that only the
	// cancellation's job can stop the session.
	if _, err := f.db.ExecContext(ctx, "DELETE FROM river_job WHERE state = 'scheduled'"); err != nil {
		t.Fatal(err)
	}
	startJobs(t, jc)
	eventually(t, "the machine stops", func() bool {
		_, err := f.gate.CurrentSession(ctx, f.laser.ID)
		return problemCode(err) == "no_session"
	})
	if relay.State().On {
		t.Fatal("the relay is still on after the cancellation")
	}
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: trained.UserID, Limit: 1})
	if evs[0].Kind != access.EventMachineOff || evs[0].Reason != access.StopCancelled || *evs[0].SessionID != s.ID {
		t.Fatalf("off event = %+v", evs[0])
	}
}
