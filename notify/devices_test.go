package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/notify"
)

// device registers a device of the site.
func (f *domains) device(t *testing.T, in devices.NewDevice) *devices.Device {
	t.Helper()
	in.SiteID, in.Protocol = f.site.ID, devices.ProtocolRelais
	admin := identitytest.Admin()
	admin.UserID = dbtest.User(t, f.d, "admin-"+in.Address+"@example.fr", "Admin")
	d, _, err := f.dev.Create(context.Background(), admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// jobsOf lists the jobs of kind queued so far, in any state.
func (f *domains) jobsOf(t *testing.T, kind string) []*rivertype.JobRow {
	t.Helper()
	// Jobs queued in a transaction wait in the outbox until the client's
	// next look: move them now, so that the count is of every job queued.
	if _, err := f.jc.MoveOutbox(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := f.jc.River().JobList(context.Background(), river.NewJobListParams().Kinds(kind).
		States(rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRunning, rivertype.JobStateCompleted,
			rivertype.JobStateRetryable, rivertype.JobStateCancelled, rivertype.JobStateDiscarded).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// session starts userID's session on a machine (the row the gate writes
// when it powers the machine on): its slot ends now, and the power goes
// off after the five minutes' grace.
func (f *domains) session(t *testing.T, userID string, machine *calendar.Resource, relay *devices.Device) *access.Session {
	t.Helper()
	ctx := context.Background()
	now := f.clock.now()
	// Booked two hours before, when its start was still ahead.
	f.clock.set(now.Add(-2 * time.Hour))
	defer f.clock.set(now)
	r, err := f.cal.Book(ctx, calendar.Booking{ResourceID: machine.ID, By: &identity.Principal{UserID: userID},
		Start: now.Add(-time.Hour).Format(time.RFC3339), End: now.Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	s := &access.Session{ID: id.New(), SiteID: f.site.ID, ResourceID: machine.ID, DeviceID: relay.ID, UserID: userID,
		ReservationID: r.ID, StartedAt: now.Add(-55 * time.Minute), EndsAt: now.Add(5 * time.Minute), CreatedAt: now}
	if _, err := f.d.NewInsert().Model(s).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// The gate's warning before a machine's power goes off mails the member
// whose session it is, once even if the warning runs twice; not a member
// who turned machine mail off.
func TestMachineWarningMail(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	ctx := context.Background()
	off := false
	f.clock.set(time.Date(2026, 3, 3, 15, 0, 0, 0, f.paris))
	anne := f.member(t, "anne@example.fr", "Anne", identity.LanguageFrench, identity.NotificationsPatch{Bookings: &off})
	emma := f.member(t, "emma@example.fr", "Emma", identity.LanguageEnglish, identity.NotificationsPatch{Bookings: &off})
	paul := f.member(t, "paul@example.fr", "Paul", identity.LanguageFrench, identity.NotificationsPatch{Bookings: &off, Machines: &off})
	var sessions []*access.Session
	for i, who := range []string{anne, emma, paul} {
		name := []string{"Découpeuse laser", "Fraiseuse", "Tour"}[i]
		machine, err := f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindMachine, Name: name, Capacity: 1})
		if err != nil {
			t.Fatal(err)
		}
		relay := f.device(t, devices.NewDevice{Kind: devices.KindRelay, Name: "Relais " + name, ResourceID: &machine.ID, Address: []string{"laser", "fraiseuse", "tour"}[i]})
		sessions = append(sessions, f.session(t, who, machine, relay))
	}
	for _, s := range sessions {
		for range 2 { // a retried warning
			if err := f.gate.WarnSession(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	kind := notify.MachineMailArgs{}.Kind()
	if n := len(f.jobsOf(t, kind)); n != 3 {
		t.Fatalf("%d machine mail jobs for three sessions warned twice, want 3", n)
	}
	f.wait(t, kind, 3)
	for _, tc := range []struct{ to, subject, text string }{
		{"anne@example.fr", "Découpeuse laser\u00a0: arrêt dans 5\u00a0min", "«\u00a0Découpeuse laser\u00a0» sera mis hors tension à 15\u00a0h\u00a005, dans 5\u00a0min"},
		{"emma@example.fr", "Fraiseuse: power off in 5 min", "“Fraiseuse” will be switched off at 15:05, in 5 min.\n\nTo keep working, book the next slot in the app"},
	} {
		m := f.only(t, tc.to, "")
		if m.subject != tc.subject || !strings.Contains(strings.ReplaceAll(m.text, "\r\n", "\n"), tc.text) || !m.alternative {
			t.Errorf("%s: %q, want %q with %q:\n%s", tc.to, m.subject, tc.subject, tc.text, m.text)
		}
	}
	if n := f.smtp.Count("paul@example.fr"); n != 0 {
		t.Errorf("%d mails to a member who turned machine mail off", n)
	}
}

// A device that goes offline mails its site's managers once it has been
// offline for the alert's delay (its job is scheduled then), and not if it
// came back in between; a manager who turned device mail off, and members,
// get nothing.
func TestDeviceOfflineMail(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	ctx := context.Background()
	off := false
	// River schedules by the wall clock: the fake one is set to it.
	f.clock.set(time.Now().UTC().Truncate(time.Second))
	admin := identitytest.Admin()
	for _, m := range []struct {
		email, lang string
		n           identity.NotificationsPatch
	}{{"claire@example.fr", identity.LanguageFrench, identity.NotificationsPatch{}},
		{"dora@example.fr", identity.LanguageFrench, identity.NotificationsPatch{Devices: &off}}} {
		if err := f.accounts.AddManager(ctx, admin, f.site.ID, f.member(t, m.email, "Manager", m.lang, m.n)); err != nil {
			t.Fatal(err)
		}
	}
	f.member(t, "anne@example.fr", "Anne", identity.LanguageFrench, identity.NotificationsPatch{})
	entrance := f.device(t, devices.NewDevice{Kind: devices.KindLock, Name: "Porte d’entrée", Address: "entree"})
	back := f.device(t, devices.NewDevice{Kind: devices.KindLock, Name: "Porte du jardin", Address: "jardin"})

	offAt := f.clock.now()
	f.presence.OnPresence(ctx, *entrance, false, offAt)
	f.presence.OnPresence(ctx, *back, false, offAt)
	// The garden door comes back a minute later, as devices records it.
	f.clock.add(time.Minute)
	if _, err := f.d.NewUpdate().Model((*devices.Device)(nil)).Set("online = TRUE, last_seen_at = ?, presence_at = ?", f.clock.now(), f.clock.now()).
		Where("id = ?", back.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	f.presence.OnPresence(ctx, *back, true, f.clock.now())

	kind := notify.DeviceOfflineArgs{}.Kind()
	jobs := f.jobsOf(t, kind)
	if len(jobs) != 2 {
		t.Fatalf("%d device jobs, want one per device gone offline", len(jobs))
	}
	for _, j := range jobs {
		if j.State != rivertype.JobStateScheduled || !j.ScheduledAt.Equal(offAt.Add(10*time.Minute)) {
			t.Fatalf("device job %s at %s, want scheduled at %s", j.State, j.ScheduledAt, offAt.Add(10*time.Minute))
		}
	}
	if n := f.smtp.Count("claire@example.fr"); n != 0 {
		t.Fatalf("%d mails before the delay", n)
	}
	// Ten minutes pass: the jobs run.
	f.clock.set(offAt.Add(10 * time.Minute))
	for _, j := range jobs {
		if _, err := f.jc.River().JobRetry(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.wait(t, kind, 2)
	m := f.only(t, "claire@example.fr", "")
	if m.subject != "Équipement hors ligne\u00a0: Porte d’entrée" || !strings.Contains(m.text, "de La Fabrique du Bourg est hors ligne depuis le") ||
		!strings.Contains(m.text, "(10\u00a0min)") {
		t.Errorf("device mail %q:\n%s", m.subject, m.text)
	}
	for _, addr := range []string{"dora@example.fr", "anne@example.fr"} {
		if n := f.smtp.Count(addr); n != 0 {
			t.Errorf("%d device mails to %s", n, addr)
		}
	}
}
