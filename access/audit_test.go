package access_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/id"
)

// refuseAudit makes the database refuse every new access event (of kind,
// when not empty), as a full disk or a lost connection would, until the
// returned func is called.
func refuseAudit(t testing.TB, bdb *bun.DB, kind string) (restore func()) {
	t.Helper()
	ctx := context.Background()
	when, pgWhen := "", ""
	if kind != "" {
		when, pgWhen = "WHEN NEW.kind = '"+kind+"'", "WHEN (NEW.kind = '"+kind+"')"
	}
	install := []string{`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON access_events ` + when + `
		BEGIN SELECT RAISE(ABORT, 'the test refuses access events'); END`}
	remove := []string{`DROP TRIGGER test_refuse_audit`}
	if dbtest.Postgres() {
		install = []string{
			`CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN RAISE EXCEPTION 'the test refuses access events'; END $$`,
			`CREATE TRIGGER test_refuse_audit BEFORE INSERT ON access_events FOR EACH ROW ` + pgWhen + ` EXECUTE FUNCTION test_refuse_audit()`,
		}
		remove = []string{`DROP TRIGGER test_refuse_audit ON access_events`, `DROP FUNCTION test_refuse_audit()`}
	}
	for _, q := range install {
		if _, err := bdb.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		for _, q := range remove {
			if _, err := bdb.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// internalError: the caller gets a 500 (no Problem, no sentinel the api
// maps to a status), not a refusal that would blame them.
func internalError(err error) bool {
	var p *errs.Problem
	return err != nil && !errors.As(err, &p) && !errors.Is(err, errs.ErrForbidden) && !errors.Is(err, errs.ErrUnavailable)
}

// TestAuditFailureSendsNothing: when a decision cannot be recorded, no
// command that gives access goes out — the door stays shut, the machine
// off, no session is claimed — and the caller gets a 500. A power-off, which
// takes access away, still goes out and ends the session, and the caller
// gets the 500 too. Once the audit works again, everything does.
func TestAuditFailureSendsNothing(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	lock, relay := sims[f.entrance.ID], sims[f.relay.ID]
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	trained := f.trainedMember(t, "trained")
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	f.setClock(f.at(3, 10, 5))

	restore := refuseAudit(t, f.db, "")
	if dec, err := f.gate.Unlock(ctx, resident, f.entrance.ID, ""); !internalError(err) {
		t.Fatalf("Unlock with the audit refused = %+v, %v; want an internal error", dec, err)
	}
	if s, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID); !internalError(err) {
		t.Fatalf("StartSession with the audit refused = %+v, %v; want an internal error", s, err)
	}
	if _, err := f.gate.CurrentSession(ctx, f.laser.ID); problemCode(err) != "no_session" {
		t.Fatalf("a start that could not be recorded claimed the machine: %v", err)
	}
	var jobs int
	if err := f.db.NewSelect().Table("river_job").ColumnExpr("count(*)").Scan(ctx, &jobs); err != nil {
		t.Fatal(err)
	}
	if jobs != 0 {
		t.Fatalf("a start that could not be recorded scheduled %d jobs", jobs)
	}
	restore()

	// MQTT keeps order: had the failed attempts sent anything, it would
	// have arrived before these.
	dec, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lock's command", func() bool { return len(lock.Received()) >= 1 })
	eventually(t, "the relay's command", func() bool { return len(relay.Received()) >= 1 })
	if got := lock.Received(); len(got) != 1 || !strings.Contains(got[0].Payload, *dec.Event.CommandID) {
		t.Fatalf("the lock received %+v; want only the unlock made once the audit worked", got)
	}
	if got := relay.Received(); len(got) != 1 || !strings.Contains(got[0].Payload, `"power_on"`) {
		t.Fatalf("the relay received %+v; want only the power-on made once the audit worked", got)
	}

	// A stop that cannot be recorded switches the machine off all the same,
	// and ends the session, so that no refresh powers it again.
	restore = refuseAudit(t, f.db, "")
	if _, err := f.gate.StopSession(ctx, s, trained.UserID); !internalError(err) {
		t.Fatalf("StopSession with the audit refused = %v; want an internal error", err)
	}
	if _, err := f.gate.CurrentSession(ctx, f.laser.ID); problemCode(err) != "no_session" || relay.State().On {
		t.Fatalf("after a stop that could not be recorded: session %v; relay %+v", err, relay.State())
	}
	restore()
	eventually(t, "the relay's power-off", func() bool { return len(relay.Received()) >= 2 })
	if got := relay.Received(); len(got) != 2 || !strings.Contains(got[1].Payload, `"power_off"`) {
		t.Fatalf("the relay received %+v; want the power-on, then one power-off", got)
	}
	// Each decision that went out with its record is one settled row; the
	// refused attempts left none.
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID})
	var kinds []string
	for _, e := range evs {
		if e.Kind == access.EventDeviceOnline || e.Kind == access.EventDeviceOffline {
			continue
		}
		kinds = append(kinds, e.Kind+"/"+e.Outcome)
	}
	if strings.Join(kinds, " ") != "machine_on/confirmed door_unlock/confirmed" {
		t.Fatalf("events: %v", kinds)
	}
}

// TestRelockGoesOutWithoutItsRecord: locking a latching lock again takes
// access away; when its record cannot be written, the lock is locked all
// the same (and the job tried again later).
func TestRelockGoesOutWithoutItsRecord(t *testing.T) {
	t.Parallel()
	f, lock, sim := relockFixture(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	defer refuseAudit(t, f.db, access.EventDoorRelock)()
	if _, err := f.gate.Unlock(ctx, resident, lock.ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the lock locked again after its pulse", func() bool { return len(actions(sim, devices.ActionLock)) >= 1 })
	if evs := f.eventsOf(t, access.EventDoorRelock); len(evs) != 0 {
		t.Fatalf("relock events %+v, with their record refused", evs)
	}
}

// TestDecisionsRecordedBeforeCommands: at the instant each command is
// handed to the devices service — a door's unlock, a machine's power-on
// and power-off — the audit already holds its decision, pending and naming
// the command; afterwards that same row holds the device's answer.
func TestDecisionsRecordedBeforeCommands(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	f.connect(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	trained := f.trainedMember(t, "trained")
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	f.setClock(f.at(3, 10, 5))

	atSend := map[string]access.Event{} // command id → its event, as read when it went out
	watched := watchedDevices{f.dev, func(cmd devices.Command) {
		for _, e := range f.events(t, access.EventFilter{SiteID: f.site.ID}) {
			if e.CommandID != nil && *e.CommandID == cmd.ID {
				atSend[cmd.ID] = e
			}
		}
	}}
	gate := access.NewGate(f.db, f.cal, f.bill, watched, access.GateConfig{Publisher: events.Discard, Now: f.clock, Jobs: f.jobs, Accounts: f.accounts})

	dec, err := gate.Unlock(ctx, resident, f.entrance.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := gate.StartSession(ctx, trained.UserID, f.laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gate.StopSession(ctx, s, trained.UserID); err != nil {
		t.Fatal(err)
	}
	settled := map[string]access.Event{}
	for _, e := range f.events(t, access.EventFilter{SiteID: f.site.ID}) {
		if e.Decision == access.Granted {
			settled[*e.CommandID] = e
		}
	}
	if len(atSend) != 3 || len(settled) != 3 {
		t.Fatalf("decisions seen when their command went out: %d; settled afterwards: %d; want 3 and 3", len(atSend), len(settled))
	}
	for cmdID, before := range atSend {
		after := settled[cmdID]
		if before.Outcome != access.OutcomePending || before.Decision != access.Granted || before.LatencyMS != nil {
			t.Errorf("%s when its command went out: %+v, want granted and pending", before.Kind, before)
		}
		if after.ID != before.ID || after.Outcome != access.OutcomeConfirmed || after.LatencyMS == nil ||
			!after.OccurredAt.Equal(before.OccurredAt) || after.Reason != before.Reason {
			t.Errorf("%s afterwards: %+v, want the same row, confirmed, with its round trip", before.Kind, after)
		}
	}
	if ev := settled[*dec.Event.CommandID]; ev.ID != dec.Event.ID || ev.Kind != access.EventDoorUnlock {
		t.Fatalf("the unlock's answer names event %s, the audit %+v", dec.Event.ID, ev)
	}
}

// TestDeviceErrorRecordedClean: whatever a device answers is kept, but the
// bytes the text rule refuses (a NUL, which PostgreSQL cannot store, an
// escape sequence) are replaced and the message bounded, so that the
// answer is recorded on both databases and reads safely.
func TestDeviceErrorRecordedClean(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	sims := f.connect(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	f.setClock(f.at(3, 22, 0))
	sims[f.entrance.ID].SetFaults(devicesim.Faults{Reject: "jammed\x00\x1b[2J" + strings.Repeat("x", 2000)})
	_, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
	var p *errs.Problem
	if !errors.As(err, &p) || p.Code != "device_error" || freetext.Check(p.Detail, freetext.SingleLine) != "" {
		t.Fatalf("Unlock of a jammed lock = %v; want device_error with a clean detail", err)
	}
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: resident.UserID})
	if len(evs) != 1 || evs[0].Outcome != access.OutcomeRejected || !strings.Contains(evs[0].Detail, "jammed\uFFFD\uFFFD[2J") ||
		len(evs[0].Detail) > 500 || freetext.Check(evs[0].Detail, freetext.SingleLine) != "" {
		t.Fatalf("recorded %+v", evs)
	}
}

// TestAccessEventsSettleOnce: the one change the database lets anyone make
// to an access event is settling a pending one, once — its outcome, its
// round trip, and words appended to its detail. Every other column, every
// other row and every second try is refused, on both engines.
func TestAccessEventsSettleOnce(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	m := f.manager(t)
	pending := func() string {
		ev := &access.Event{ID: id.New(), SiteID: f.site.ID, OccurredAt: f.at(3, 9, 0).UTC(), Kind: access.EventDoorUnlock,
			Decision: access.Granted, Reason: "manager", Detail: "livraison", Outcome: access.OutcomePending,
			UserID: &m.UserID, ActorID: &m.UserID, ActorName: "Animatrice", DeviceID: &f.entrance.ID, CommandID: ptr(id.New())}
		if _, err := f.db.NewInsert().Model(ev).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	refused := func(what, q string, args ...any) {
		t.Helper()
		_, err := f.db.ExecContext(ctx, q, args...)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused as append-only", what, err)
		}
	}
	settle := "UPDATE access_events SET outcome = 'confirmed', latency_ms = 12 WHERE id = ?"

	// Settling cannot change anything else of the row.
	allowed := map[string]bool{"outcome": true, "latency_ms": true, "detail": true}
	for _, field := range f.db.Table(reflect.TypeFor[access.Event]()).Fields {
		col := field.Name
		if allowed[col] {
			continue
		}
		var value any = "changed"
		if col == "occurred_at" {
			value = f.at(3, 9, 1).UTC()
		}
		refused("settling and changing "+col, "UPDATE access_events SET outcome = 'confirmed', "+col+" = ? WHERE id = ?", value, pending())
	}
	ev := pending()
	refused("rewriting the detail", "UPDATE access_events SET outcome = 'rejected', detail = 'autre chose' WHERE id = ?", ev)
	refused("an outcome that is not final", "UPDATE access_events SET outcome = 'pending', latency_ms = 3 WHERE id = ?", ev)
	refused("an outcome that does not exist", "UPDATE access_events SET outcome = 'opened' WHERE id = ?", ev)

	// The allowed change, once.
	if _, err := f.db.ExecContext(ctx, "UPDATE access_events SET outcome = 'rejected', latency_ms = 12, detail = detail || '; bourrage' WHERE id = ?", ev); err != nil {
		t.Fatalf("settling a pending event: %v", err)
	}
	refused("settling twice", settle, ev)
	refused("changing the round trip", "UPDATE access_events SET latency_ms = 13 WHERE id = ?", ev)
	refused("deleting a settled event", "DELETE FROM access_events WHERE id = ?", ev)
	refused("deleting a pending event", "DELETE FROM access_events WHERE id = ?", pending())

	// A refusal, recorded final at once, never changes.
	nobody := f.member(t, "nobody", nil)
	f.setClock(f.at(3, 10, 0))
	f.gate.Unlock(ctx, nobody, f.entrance.ID, "")
	denied := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: nobody.UserID})
	if len(denied) != 1 || denied[0].Outcome != "" {
		t.Fatalf("refusal recorded as %+v", denied)
	}
	refused("settling a refusal", settle, denied[0].ID)

	got := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: m.UserID, From: f.at(3, 8, 0), To: f.at(3, 10, 0)})
	for _, e := range got {
		if e.ID == ev {
			if e.Outcome != access.OutcomeRejected || e.Detail != "livraison; bourrage" || *e.LatencyMS != 12 {
				t.Fatalf("the settled event reads %+v", e)
			}
			return
		}
	}
	t.Fatalf("the settled event is gone: %+v", got)
}

func ptr[T any](v T) *T { return &v }
