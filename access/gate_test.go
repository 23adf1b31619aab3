package access_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/mqtttest"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// gateFixture is a site in Paris with a Nomade plan (doors in opening hours),
// a Résident plan (doors 24/7), an entrance lock, a room with its lock and a
// laser cutter with its relay and training.
type gateFixture struct {
	db       *bun.DB
	cal      *calendar.Service
	bill     *billing.Service
	dev      *devices.Service
	gate     *access.Gate
	jobs     *jobs.Queue
	site     *calendar.Site
	paris    *time.Location
	room     *calendar.Resource
	laser    *calendar.Resource
	qual     *calendar.Qualification
	entrance *devices.Device
	roomLock *devices.Device
	relay    *devices.Device
	secrets  map[string]string // device id → MQTT password
	nomade   *billing.Plan
	resident *billing.Plan

	// accounts names the managers in the audit.
	accounts *identity.Service
	// published records what the gate tells integrators.
	published *events.Recorder

	mu  sync.Mutex
	now time.Time
}

func (f *gateFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *gateFixture) setClock(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

func newGateFixture(t testing.TB) *gateFixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	f := &gateFixture{db: d, paris: paris, now: time.Date(2026, 3, 2, 7, 0, 0, 0, paris), secrets: map[string]string{}}
	f.jobs = jobstest.Queue(t, d)
	accounts, err := identity.New(d, identity.Config{JWTSecret: []byte("gate-test-secret-of-at-least-32-bytes"), Jobs: f.jobs})
	if err != nil {
		t.Fatal(err)
	}
	f.accounts = accounts
	credits := ledger.New(d, ledger.Config{Now: f.clock, Jobs: f.jobs, Accounts: accounts, Sites: calendar.DevicePlaces{}})
	f.bill = billing.New(d, billing.Config{Events: events.Discard, Now: f.clock, Invoicer: invoicing.NewInvoicer(d, f.clock), Accounts: accounts, Ledger: credits})
	// The calendar asks billing, through the gate's guard, as in serve.
	f.cal = calendar.New(d, calendar.Config{Events: events.Discard, Now: f.clock, Jobs: f.jobs, Accounts: accounts, Guard: access.SessionGuard(f.bill, f.jobs)})
	// Devices keep the wall clock: a device checks a command's expiry
	// against its own.
	// The gate records the devices' presence: its events exist first.
	f.published = &events.Recorder{}
	gateCfg := access.GateConfig{Publisher: f.published, Now: f.clock, Jobs: f.jobs, Accounts: accounts}
	gateCfg.Events = access.NewEvents(d, gateCfg)
	f.dev = devices.New(d, devices.Config{Places: calendar.DevicePlaces{}, CommandTimeout: 2 * time.Second, Logger: mqtttest.Quiet(), OnPresence: gateCfg.Events.OnPresence})
	f.gate = access.NewGate(d, f.cal, f.bill, f.dev, gateCfg)
	hours := calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		hours[day] = [][2]string{{"08:00", "20:00"}}
	}
	f.site, err = f.cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address:      calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		OpeningHours: hours,
		Legal:        calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	if f.qual, err = f.cal.CreateQualification(ctx, identity.System(), f.site.ID, "Laser", ""); err != nil {
		t.Fatal(err)
	}
	if f.room, err = f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 8}); err != nil {
		t.Fatal(err)
	}
	if f.laser, err = f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser",
		Capacity: 1, QualificationID: &f.qual.ID, PricePerHourCents: 1200}); err != nil {
		t.Fatal(err)
	}
	f.nomade, err = f.bill.CreatePlan(ctx, billing.NewPlan{SiteID: &f.site.ID, Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{DoorAccess: billing.DoorOpeningHours, ResourceKinds: []string{calendar.KindRoom, calendar.KindMachine},
			Allowances: []billing.Allowance{{ResourceKind: calendar.KindMachine, MinutesPerPeriod: 120}}, PayPerUse: true}})
	if err != nil {
		t.Fatal(err)
	}
	f.resident, err = f.bill.CreatePlan(ctx, billing.NewPlan{SiteID: &f.site.ID, Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{DoorAccess: billing.DoorAlways, ResourceKinds: []string{calendar.KindRoom}}})
	if err != nil {
		t.Fatal(err)
	}
	f.entrance = f.device(t, devices.NewDevice{Kind: devices.KindLock, Name: "Entrée", Protocol: devices.ProtocolRelais, Address: "entree"})
	f.roomLock = f.device(t, devices.NewDevice{Kind: devices.KindLock, Name: "Porte salle", ResourceID: &f.room.ID, Protocol: devices.ProtocolRelais, Address: "salle"})
	f.relay = f.device(t, devices.NewDevice{Kind: devices.KindRelay, Name: "Prise laser", ResourceID: &f.laser.ID, Protocol: devices.ProtocolRelais, Address: "laser"})
	return f
}

func (f *gateFixture) device(t testing.TB, in devices.NewDevice) *devices.Device {
	t.Helper()
	in.SiteID = f.site.ID
	// Addresses are unique per test so that runs sharing one external
	// broker never see each other's retained presence.
	in.Address = fmt.Sprintf("%s-%d", in.Address, time.Now().UnixNano()%1e9)
	d, secret, err := f.dev.Create(context.Background(), operator, in)
	if err != nil {
		t.Fatal(err)
	}
	f.secrets[d.ID] = secret
	return d
}

func (f *gateFixture) member(t testing.TB, name string, p *billing.Plan) *identity.Principal {
	t.Helper()
	u := dbtest.User(t, f.db, fmt.Sprintf("%s-%d@example.fr", name, time.Now().UnixNano()), name)
	if p != nil {
		if _, err := f.bill.RecordOnSitePayment(context.Background(), billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID,
			Method: billing.MethodCash, AmountCents: p.PriceCents, RecordedBy: u,
			Buyer: &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return &identity.Principal{UserID: u, Role: identity.RoleMember}
}

func (f *gateFixture) manager(t testing.TB) *identity.Principal {
	u := dbtest.User(t, f.db, fmt.Sprintf("anim-%d@example.fr", time.Now().UnixNano()), "Animatrice")
	return &identity.Principal{UserID: u, Role: identity.RoleMember, ManagedSites: []string{f.site.ID}}
}

func (f *gateFixture) at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, f.paris)
}

func (f *gateFixture) book(t testing.TB, user string, res *calendar.Resource, from, to time.Time) *calendar.Reservation {
	t.Helper()
	r, err := f.cal.Book(context.Background(), calendar.Booking{ResourceID: res.ID, UserID: user, By: &identity.Principal{UserID: user},
		Start: from.Format(time.RFC3339), End: to.Format(time.RFC3339)})
	if err != nil {
		t.Fatalf("book: %v", err)
	}
	return r
}

func (f *gateFixture) events(t testing.TB, filter access.EventFilter) []access.Event {
	t.Helper()
	evs, _, err := f.gate.ListEvents(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func problemCode(err error) string {
	var p *errs.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return fmt.Sprint(err)
}

// TestUnlockRefusals checks each reason a door stays shut, that it is named
// to the member, and that the refusal is recorded. No command is sent.
func TestUnlockRefusals(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	nobody := f.member(t, "nobody", nil)
	nomade := f.member(t, "nomade", f.nomade)
	resident := f.member(t, "resident", f.resident)
	tests := []struct {
		name   string
		who    *identity.Principal
		device *devices.Device
		at     time.Time
		code   string
	}{
		{"no membership", nobody, f.entrance, f.at(3, 10, 0), "no_membership"},
		{"nomade at night", nomade, f.entrance, f.at(3, 22, 0), "outside_door_window"},
		{"room lock without a reservation", resident, f.roomLock, f.at(3, 10, 0), "no_reservation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.setClock(tt.at)
			_, err := f.gate.Unlock(ctx, tt.who, tt.device.ID, "")
			var p *errs.Problem
			if !errors.As(err, &p) || !errors.Is(p.Kind, errs.ErrForbidden) || p.Code != tt.code {
				t.Fatalf("Unlock = %v, want 403 %s", err, tt.code)
			}
			evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: tt.who.UserID, From: tt.at, To: tt.at.Add(time.Second)})
			if len(evs) != 1 || evs[0].Decision != access.Denied || evs[0].Reason != tt.code || evs[0].Outcome != "" ||
				evs[0].Kind != access.EventDoorUnlock || *evs[0].DeviceID != tt.device.ID {
				t.Fatalf("recorded %+v, want one denied %s", evs, tt.code)
			}
		})
	}
	t.Run("an API key opens nothing", func(t *testing.T) {
		if _, err := f.gate.Unlock(ctx, &identity.Principal{APIKeyID: "k", AllSites: true}, f.entrance.ID, ""); !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("Unlock by API key = %v", err)
		}
	})
	t.Run("a retired lock opens for no one", func(t *testing.T) {
		old := f.device(t, devices.NewDevice{Kind: devices.KindLock, Name: "Ancienne porte", Protocol: devices.ProtocolRelais, Address: "ancienne"})
		if err := f.dev.Retire(ctx, operator, old.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.gate.Unlock(ctx, f.manager(t), old.ID, ""); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Unlock of a retired lock = %v", err)
		}
	})
	t.Run("a relay is not a door", func(t *testing.T) {
		if _, err := f.gate.Unlock(ctx, resident, f.relay.ID, ""); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Unlock of a relay = %v", err)
		}
	})
}

// TestRoomDoorWindow: a room's lock opens from RoomMargin (10 min) before
// its member's reservation to RoomMargin after, bounds included at the
// start and excluded at the end, and never for a cancelled reservation or
// for another member's.
func TestRoomDoorWindow(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	anne := f.member(t, "anne", f.resident)
	bob := f.member(t, "bob", f.resident)
	f.setClock(f.at(2, 7, 0))
	f.book(t, anne.UserID, f.room, f.at(4, 14, 0), f.at(4, 15, 0))
	cancelled := f.book(t, anne.UserID, f.room, f.at(5, 14, 0), f.at(5, 15, 0))
	if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: cancelled.ID, By: &identity.Principal{UserID: anne.UserID}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who  *identity.Principal
		at   time.Time
		open bool
	}{
		{anne, f.at(4, 13, 49), false},
		{anne, f.at(4, 13, 50), true},
		{anne, f.at(4, 14, 30), true},
		{anne, f.at(4, 15, 9), true},
		{anne, f.at(4, 15, 10), false},
		{bob, f.at(4, 14, 30), false},
		{anne, f.at(5, 14, 30), false},
	} {
		ev, err := f.gate.CheckDoor(ctx, tt.who, f.roomLock, tt.at.UTC())
		if err != nil {
			t.Fatal(err)
		}
		if got := ev.Decision == access.Granted; got != tt.open {
			t.Errorf("%s at %s: %s %s, want open %v", tt.who.UserID, tt.at.Format("Jan 2 15:04"), ev.Decision, ev.Reason, tt.open)
		}
	}
}

// TestMachineRefusals: no reservation, a reservation not under way, no
// training.
func TestMachineRefusals(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	trained := f.member(t, "trained", f.nomade)
	untrained := f.member(t, "untrained", f.nomade)
	for _, u := range []string{trained.UserID, untrained.UserID} {
		if _, err := f.cal.GrantQualification(ctx, &identity.Principal{UserID: u, Role: identity.RoleAdmin}, f.qual.ID, u, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.book(t, trained.UserID, f.laser, f.at(3, 10, 0), f.at(3, 11, 0))
	f.book(t, untrained.UserID, f.laser, f.at(3, 14, 0), f.at(3, 15, 0))
	// The training is revoked after the booking: the session is refused.
	if err := f.cal.RevokeQualification(ctx, identity.System(), f.qual.ID, untrained.UserID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		who  *identity.Principal
		at   time.Time
		code string
	}{
		{"before the slot", trained, f.at(3, 9, 30), "outside_slot"},
		{"after the slot", trained, f.at(3, 11, 0), "outside_slot"},
		{"no reservation at all", trained, f.at(4, 10, 0), "no_reservation"},
		{"untrained, in the slot", untrained, f.at(3, 14, 10), "qualification_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.setClock(tt.at)
			_, err := f.gate.StartSession(ctx, tt.who.UserID, f.laser.ID)
			if code := problemCode(err); code != tt.code {
				t.Fatalf("StartSession = %v, want %s", err, tt.code)
			}
			evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: tt.who.UserID, From: tt.at, To: tt.at.Add(time.Second)})
			if len(evs) != 1 || evs[0].Kind != access.EventMachineOn || evs[0].Decision != access.Denied || evs[0].Reason != tt.code {
				t.Fatalf("recorded %+v", evs)
			}
		})
	}
	if _, err := f.gate.CurrentSession(ctx, f.laser.ID); problemCode(err) != "no_session" {
		t.Fatalf("a refused start left a session: %v", err)
	}
}

// TestOfflineDeviceSendsNothing: with no broker connection the decision is
// made and recorded, nothing is sent, and the caller gets 503.
func TestOfflineDeviceSendsNothing(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	resident := f.member(t, "resident", f.resident)
	f.setClock(f.at(3, 22, 0))
	_, err := f.gate.Unlock(ctx, resident, f.entrance.ID, "")
	var p *errs.Problem
	if !errors.As(err, &p) || !errors.Is(p.Kind, errs.ErrUnavailable) || p.Code != "device_offline" {
		t.Fatalf("Unlock with no broker = %v, want 503 device_offline", err)
	}
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: resident.UserID})
	if len(evs) != 1 || evs[0].Decision != access.Granted || evs[0].Outcome != access.OutcomeOffline {
		t.Fatalf("recorded %+v, want granted/offline", evs)
	}

	// A manager opens any door of the site, with a reason the audit keeps
	// (and the CSV export writes as text, never as a formula).
	m := f.manager(t)
	if _, err := f.gate.Unlock(ctx, m, f.roomLock.ID, "=HYPERLINK(\"http://x\")"); problemCode(err) != "device_offline" {
		t.Fatalf("manager's unlock = %v", err)
	}
	evs = f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: m.UserID})
	if len(evs) != 1 || evs[0].Decision != access.Granted || evs[0].Reason != "manager" || evs[0].ActorID == nil || *evs[0].ActorID != m.UserID ||
		evs[0].ActorName != "Animatrice" {
		t.Fatalf("manager's unlock recorded %+v", evs)
	}
	var buf bytes.Buffer
	if err := f.gate.WriteEventsCSV(ctx, &buf, access.EventFilter{SiteID: f.site.ID, UserID: m.UserID}); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if len(rows) != 2 || rows[1][7] != "Animatrice" || rows[1][14] != "'=HYPERLINK(\"http://x\")" {
		t.Fatalf("CSV = %q", rows)
	}
}

// TestAccessEventsAppendOnly: the database itself refuses to rewrite or
// erase the audit.
func TestAccessEventsAppendOnly(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	nobody := f.member(t, "nobody", nil)
	f.setClock(f.at(3, 10, 0))
	f.gate.Unlock(ctx, nobody, f.entrance.ID, "")
	evs := f.events(t, access.EventFilter{SiteID: f.site.ID})
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	if _, err := f.db.ExecContext(ctx, "UPDATE access_events SET decision = 'granted' WHERE id = ?", evs[0].ID); err == nil {
		t.Fatal("an access event was updated")
	}
	if _, err := f.db.ExecContext(ctx, "DELETE FROM access_events WHERE id = ?", evs[0].ID); err == nil {
		t.Fatal("an access event was deleted")
	}
	if again := f.events(t, access.EventFilter{SiteID: f.site.ID}); len(again) != 1 || again[0].Decision != access.Denied {
		t.Fatalf("after the attempts: %+v", again)
	}
}

// watchedDevices is the real devices service, with a look taken at the
// audit at the instant each command is handed to it.
type watchedDevices struct {
	*devices.Service
	onSend func(cmd devices.Command)
}

func (w watchedDevices) Send(ctx context.Context, d *devices.Device, cmd devices.Command) (*devices.Result, error) {
	w.onSend(cmd)
	return w.Service.Send(ctx, d, cmd)
}

// TestDoorDecisionCommits: a door's decision goes in through its own
// statement (on PostgreSQL prepared, committed without waiting for the
// log's flush unless DurableAudit) and is committed, as pending and naming
// its command, before the command goes out; the device's answer is then
// written into it by another such statement. Every field reads back as
// written, and the connection is left as it was found, so the next
// transaction on it still waits for the flush.
func TestDoorDecisionCommits(t *testing.T) {
	t.Parallel()
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprintf("durable=%v", durable), func(t *testing.T) {
			f := newGateFixture(t)
			ctx := context.Background()
			// One connection: the checks below read the one the event used.
			f.db.DB.SetMaxOpenConns(1)
			var atSend []access.Event
			var sent devices.Command
			watched := watchedDevices{f.dev, func(cmd devices.Command) {
				sent, atSend = cmd, f.events(t, access.EventFilter{SiteID: f.site.ID})
			}}
			gate := access.NewGate(f.db, f.cal, f.bill, watched, access.GateConfig{Publisher: events.Discard, Now: f.clock, DurableAudit: durable, Jobs: f.jobs, Accounts: f.accounts})
			m := f.manager(t)
			f.setClock(f.at(3, 23, 30))
			if _, err := gate.Unlock(ctx, m, f.roomLock.ID, "livraison"); problemCode(err) != "device_offline" {
				t.Fatalf("unlock = %v", err)
			}
			if len(atSend) != 1 || atSend[0].Outcome != access.OutcomePending || atSend[0].CommandID == nil || *atSend[0].CommandID != sent.ID ||
				sent.Action != devices.ActionUnlock {
				t.Fatalf("when the command %+v went out, the audit held %+v; want its decision, pending", sent, atSend)
			}
			evs := f.events(t, access.EventFilter{SiteID: f.site.ID})
			want := access.Event{SiteID: f.site.ID, OccurredAt: f.at(3, 23, 30).UTC(), Kind: access.EventDoorUnlock, Decision: access.Granted,
				Reason: "manager", Detail: "livraison", Outcome: access.OutcomeOffline, UserID: &m.UserID, ActorID: &m.UserID,
				ActorName: "Animatrice", DeviceID: &f.roomLock.ID, ResourceID: &f.room.ID, CommandID: &sent.ID}
			if len(evs) != 1 {
				t.Fatalf("%d events", len(evs))
			}
			got := evs[0]
			want.ID = got.ID
			if got.ID == "" || !got.OccurredAt.Equal(want.OccurredAt) || fmt.Sprint(deref(got)) != fmt.Sprint(deref(want)) {
				t.Fatalf("recorded\n %+v\nwant\n %+v", deref(got), deref(want))
			}
			if dbtest.Postgres() {
				var mode string
				if err := f.db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&mode); err != nil {
					t.Fatal(err)
				}
				if mode != "on" {
					t.Fatalf("after a door's decision the connection has synchronous_commit = %s", mode)
				}
			}
		})
	}
}

// deref spells an event's pointers as values, and its time in UTC, for
// comparing two events as text.
func deref(e access.Event) []string {
	s := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	lat := "<nil>"
	if e.LatencyMS != nil {
		lat = fmt.Sprint(*e.LatencyMS)
	}
	return []string{e.ID, e.SiteID, e.OccurredAt.UTC().String(), e.Kind, e.Decision, e.Reason, e.Detail, e.Outcome,
		s(e.UserID), s(e.ActorID), e.ActorName, s(e.DeviceID), s(e.ResourceID), s(e.ReservationID), s(e.SessionID), s(e.CommandID), lat}
}

// TestListAndExportEvents: filters, newest first, pages that neither skip
// nor repeat, and a CSV of the same events oldest first.
func TestListAndExportEvents(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	ctx := context.Background()
	a, b := f.member(t, "a", nil), f.member(t, "b", nil)
	for i := range 7 {
		f.setClock(f.at(3, 10, i))
		who := a
		if i%2 == 1 {
			who = b
		}
		f.gate.Unlock(ctx, who, f.entrance.ID, "")
	}
	var seen []access.Event
	after := ""
	for {
		evs, next, err := f.gate.ListEvents(ctx, access.EventFilter{SiteID: f.site.ID, After: after, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, evs...)
		if next == "" {
			break
		}
		after = next
	}
	if len(seen) != 7 {
		t.Fatalf("paged %d events, want 7", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if !seen[i].OccurredAt.Before(seen[i-1].OccurredAt) {
			t.Fatalf("not newest first at %d: %v then %v", i, seen[i-1].OccurredAt, seen[i].OccurredAt)
		}
	}
	if evs := f.events(t, access.EventFilter{SiteID: f.site.ID, UserID: b.UserID}); len(evs) != 3 {
		t.Fatalf("member filter: %d events, want 3", len(evs))
	}
	if evs := f.events(t, access.EventFilter{SiteID: f.site.ID, From: f.at(3, 10, 2), To: f.at(3, 10, 4)}); len(evs) != 2 {
		t.Fatalf("window filter: %d events, want 2", len(evs))
	}
	if evs := f.events(t, access.EventFilter{SiteID: f.site.ID, DeviceID: f.roomLock.ID}); len(evs) != 0 {
		t.Fatalf("device filter: %d events, want 0", len(evs))
	}
	var buf bytes.Buffer
	if err := f.gate.WriteEventsCSV(ctx, &buf, access.EventFilter{SiteID: f.site.ID, UserID: a.UserID}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "occurred_at" || rows[1][1] != access.EventDoorUnlock || rows[1][2] != access.Denied || rows[1][5] != a.UserID {
		t.Fatalf("CSV = %v", rows)
	}
	if rows[1][0] >= rows[2][0] {
		t.Fatalf("CSV not oldest first: %s then %s", rows[1][0], rows[2][0])
	}
}

// operator is the administrator the tests register devices as.
var operator = &identity.Principal{UserID: "operator", Role: identity.RoleAdmin}
