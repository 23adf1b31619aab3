package notify_test

import (
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	stdmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
	"github.com/relais-tierslieux/relais/notify"
)

// clock is the fake time calendar and notify share, moved by the test so
// that each change has a later updated_at, hence a higher SEQUENCE.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	d        *bun.DB
	cal      *calendar.Service
	accounts *identity.Service
	queue    *jobs.Queue
	jc       *jobs.Client
	notify   *notify.Service
	smtp     *mailtest.Server
	site     *calendar.Site
	res      *calendar.Resource
	clock    *clock
	paris    *time.Location
}

// newFixture builds calendar, identity and notify over one test database,
// publishing the calendar's events to notify and a webhook-like recorder
// through events.Fanout as serve does, and starts a job client with their
// workers.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	paris, _ := time.LoadLocation("Europe/Paris")
	// Monday 2 March 2026, 07:00 in Paris.
	clk := &clock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}
	d := dbtest.New(t)
	queue := jobstest.Queue(t, d)
	// The public URL is https, as in production, so that mails carry
	// List-Unsubscribe (see identity.Service.UnsubscribeURL).
	accounts, err := identity.New(d, identity.Config{JWTSecret: []byte("notify-test-secret-of-at-least-32-bytes"), Jobs: queue,
		PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(d, calendar.Config{Now: clk.now, Jobs: queue, Accounts: accounts,
		Events: events.Fanout(&events.Recorder{}, notify.NewPublisher(queue))})
	srv := mailtest.Start(t)
	sender, err := mail.NewSMTP(srv.URL, "Relais <relais@example.fr>")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := notify.New(d, notify.Config{Calendar: cal, Accounts: accounts, Mailer: sender, Jobs: queue,
		Organizer: "no-reply@example.fr", PublicURL: publicURL, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	for _, add := range []func(*river.Workers) error{svc.AddWorkers, cal.AddWorkers, accounts.AddWorkers} {
		if err := add(workers); err != nil {
			t.Fatal(err)
		}
	}
	jc, err := jobs.New(d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(stop)
	})

	in := calendar.NewSite{Name: "La Fabrique du Bourg", Timezone: "Europe/Paris",
		Address:      calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		OpeningHours: calendar.OpeningHours{},
		// 732829320 is the classic valid SIREN example; its VAT key is 44.
		Legal:        calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIREN: "732 829 320", SIRET: "73282932000074", VATNumber: "FR44732829320"},
		ContactEmail: siteContact}
	for _, day := range calendar.Weekdays {
		in.OpeningHours[day] = [][2]string{{"08:00", "20:00"}}
	}
	site, err := cal.CreateSite(ctx, identity.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cal.CreateResource(ctx, identity.System(), site.ID, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle Jaune", Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{d: d, cal: cal, accounts: accounts, queue: queue, jc: jc, notify: svc, smtp: srv, site: site, res: res, clock: clk, paris: paris}
}

// publicURL is where the fixture's members reach Relais; siteContact is
// its site's contact address, the Reply-To of its mails.
const (
	publicURL   = "https://relais.example"
	siteContact = "accueil@fabrique.example"
)

// member adds an account with these notification choices.
func (f *fixture) member(t testing.TB, email, name string, n identity.NotificationsPatch) string {
	t.Helper()
	userID := dbtest.User(t, f.d, email, name)
	if _, err := f.accounts.UpdateMe(context.Background(), &identity.Principal{UserID: userID}, identity.MeUpdate{Notifications: &n}, identity.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	return userID
}

// at is day of March 2026, hour:minute in Paris, as the API takes it.
func (f *fixture) at(day, hour, minute int) string {
	return time.Date(2026, 3, day, hour, minute, 0, 0, f.paris).Format(time.RFC3339)
}

// parsed is a received mail, read back with the standard library alone.
type parsed struct {
	header              stdmail.Header
	subject, text, html string
	calType             string // the text/calendar part's Content-Type
	calDisposition      string // and its Content-Disposition
	cal                 *ical.Calendar
}

func parse(t *testing.T, r mailtest.Received) parsed {
	t.Helper()
	m, err := stdmail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	out := parsed{header: m.Header}
	if out.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	var walk func(ctype, cte, disposition string, body io.Reader)
	walk = func(ctype, cte, disposition string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p)
			}
		}
		if strings.EqualFold(cte, "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch mt {
		case "text/plain":
			out.text = string(b)
		case "text/html":
			out.html = string(b)
		case "text/calendar":
			out.calType, out.calDisposition = ctype, disposition
			if out.cal, err = ical.NewDecoder(strings.NewReader(string(b))).Decode(); err != nil {
				t.Fatalf("calendar part: %v\n%s", err, b)
			}
		}
	}
	walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
	return out
}

// feedEvent is the member's feed's event for reservationID.
func (f *fixture) feedEvent(t *testing.T, userID, reservationID string) *ical.Component {
	t.Helper()
	feed, err := f.cal.UserFeed(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ical.NewDecoder(strings.NewReader(string(feed.Body))).Decode()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range c.Events() {
		if uid, _ := ev.Props.Text(ical.PropUID); strings.HasPrefix(uid, reservationID) {
			return ev.Component
		}
	}
	t.Fatalf("reservation %s not in its member's feed", reservationID)
	return nil
}

func propValue(t *testing.T, c *ical.Component, name string) string {
	t.Helper()
	p := c.Props.Get(name)
	if p == nil {
		t.Fatalf("%s has no %s", c.Name, name)
	}
	return p.Value
}

// A booking confirmed, moved, then cancelled by a manager mails its member
// three times, each with the event as an invitation: REQUEST, REQUEST,
// CANCEL, with the feed's UID and SEQUENCE, in the site's time zone.
func TestBookingMailsCarryInvitations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	off := false
	anne := f.member(t, "anne@example.fr", "Anne Martin", identity.NotificationsPatch{Reminders: &off})
	manager := identitytest.Manager(f.site.ID)
	manager.UserID = dbtest.User(t, f.d, "claire@example.fr", "Claire")
	kind := notify.BookingMailArgs{}.Kind()

	// Tuesday 3 March 2026, 14:30–16:00 in Paris.
	r, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: anne}, Start: f.at(3, 14, 30), End: f.at(3, 16, 0)})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		change                         func()
		method, subject, text, dtstart string
	}{
		{func() {}, "REQUEST", "Réservation confirmée\u00a0: Salle Jaune, mardi 3 mars 2026",
			"est confirmée le mardi 3 mars 2026 de 14\u00a0h\u00a030 à 16\u00a0h\u00a000", "20260303T143000"},
		{func() {
			if _, err := f.cal.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: &identity.Principal{UserID: anne}, Start: f.at(4, 9, 0), End: f.at(4, 10, 0)}); err != nil {
				t.Fatal(err)
			}
		}, "REQUEST", "Réservation modifiée\u00a0: Salle Jaune, mercredi 4 mars 2026",
			"elle a lieu désormais le mercredi 4 mars 2026 de 9\u00a0h\u00a000 à 10\u00a0h\u00a000", "20260304T090000"},
		{func() {
			if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: manager, Reason: "Dégât des eaux"}); err != nil {
				t.Fatal(err)
			}
		}, "CANCEL", "Réservation annulée\u00a0: Salle Jaune, mercredi 4 mars 2026",
			"L’équipe de La Fabrique du Bourg a annulé votre réservation de «\u00a0Salle Jaune\u00a0» le mercredi 4 mars 2026", "20260304T090000"},
	}
	lastSeq := int64(-1)
	for i, st := range steps {
		f.clock.add(time.Minute)
		st.change()
		jobstest.WaitCompleted(t, f.jc.River(), kind, i+1)
		all := f.smtp.All("anne@example.fr")
		if len(all) != i+1 {
			t.Fatalf("step %d: %d mails, want %d", i, len(all), i+1)
		}
		m := parse(t, all[i])
		if m.subject != st.subject {
			t.Errorf("step %d: subject %q, want %q", i, m.subject, st.subject)
		}
		if !strings.Contains(m.text, st.text) {
			t.Errorf("step %d: text lacks %q:\n%s", i, st.text, m.text)
		}
		if m.html == "" || m.cal == nil {
			t.Fatalf("step %d: html %t, calendar %t", i, m.html != "", m.cal != nil)
		}
		if mt, params, _ := mime.ParseMediaType(m.calType); mt != "text/calendar" || params["method"] != st.method {
			t.Errorf("step %d: calendar part %q, want method %s", i, m.calType, st.method)
		}
		if !strings.HasPrefix(m.calDisposition, "inline") {
			t.Errorf("step %d: calendar part is %q, want inline", i, m.calDisposition)
		}
		if got, _ := m.cal.Props.Text(ical.PropMethod); got != st.method {
			t.Errorf("step %d: METHOD %q, want %s", i, got, st.method)
		}
		var zones []string
		for _, c := range m.cal.Children {
			if c.Name == ical.CompTimezone {
				zones = append(zones, propValue(t, c, ical.PropTimezoneID))
			}
		}
		if len(zones) != 1 || zones[0] != "Europe/Paris" {
			t.Errorf("step %d: VTIMEZONEs %v, want Europe/Paris", i, zones)
		}
		evs := m.cal.Events()
		if len(evs) != 1 {
			t.Fatalf("step %d: %d events", i, len(evs))
		}
		ev := evs[0].Component
		feed := f.feedEvent(t, anne, r.ID)
		if uid, want := propValue(t, ev, ical.PropUID), propValue(t, feed, ical.PropUID); uid != want {
			t.Errorf("step %d: UID %q, the feed's %q", i, uid, want)
		}
		seq, _ := evs[0].Props.Get(ical.PropSequence).Int()
		if want := propValue(t, feed, ical.PropSequence); propValue(t, ev, ical.PropSequence) != want || int64(seq) <= lastSeq {
			t.Errorf("step %d: SEQUENCE %d, the feed's %s, previous %d", i, seq, want, lastSeq)
		}
		lastSeq = int64(seq)
		start := ev.Props.Get(ical.PropDateTimeStart)
		if start.Value != st.dtstart || start.Params.Get(ical.ParamTimezoneID) != "Europe/Paris" {
			t.Errorf("step %d: DTSTART %q TZID %q, want %s in Europe/Paris", i, start.Value, start.Params.Get(ical.ParamTimezoneID), st.dtstart)
		}
		if org := propValue(t, ev, ical.PropOrganizer); org != "mailto:no-reply@example.fr" {
			t.Errorf("step %d: ORGANIZER %q", i, org)
		}
		if att := propValue(t, ev, ical.PropAttendee); att != "mailto:anne@example.fr" {
			t.Errorf("step %d: ATTENDEE %q", i, att)
		}
	}
	if m := parse(t, f.smtp.All("anne@example.fr")[2]); !strings.Contains(m.text, "Motif\u00a0: Dégât des eaux") {
		t.Errorf("cancellation without its reason:\n%s", m.text)
	}
}

// A member who turned booking mail off gets none, but still their
// reminder; a reminder that was scheduled for a start the booking has
// left, or for a booking cancelled since, sends nothing.
func TestRemindersFollowTheBooking(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	off := false
	bob := f.member(t, "bob@example.fr", "Bob", identity.NotificationsPatch{Bookings: &off})
	reminders := notify.ReminderArgs{}.Kind()

	r, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: bob}, Start: f.at(3, 10, 0), End: f.at(3, 11, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// The reminder is due at 09:00 on 3 March (fake time), long past for
	// River: it runs at once.
	jobstest.WaitCompleted(t, f.jc.River(), reminders, 1)
	all := f.smtp.All("bob@example.fr")
	if len(all) != 1 {
		t.Fatalf("%d mails, want the reminder alone", len(all))
	}
	if m := parse(t, all[0]); m.subject != "Rappel\u00a0: Salle Jaune à 10\u00a0h\u00a000" || m.cal != nil {
		t.Errorf("reminder %q, with a calendar: %t", m.subject, m.cal != nil)
	}

	// A change that does not move the booking queues no second reminder.
	f.clock.add(time.Minute)
	note := "avec vidéoprojecteur"
	if _, err := f.cal.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: &identity.Principal{UserID: bob}, Note: &note}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 2)
	if n := f.reminderJobs(t); n != 1 {
		t.Fatalf("%d reminder jobs after a change of note, want 1", n)
	}

	// Moved: the new start has its own reminder; the old one, run after the
	// move, sends nothing.
	f.clock.add(time.Minute)
	if _, err := f.cal.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: &identity.Principal{UserID: bob}, Start: f.at(3, 12, 0), End: f.at(3, 13, 0)}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), reminders, 2)
	if _, err := f.queue.Insert(ctx, notify.ReminderArgs{ReservationID: r.ID, StartsAt: r.StartsAt}, nil); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), reminders, 3)
	if n := f.smtp.Count("bob@example.fr"); n != 2 {
		t.Fatalf("%d mails after the move, want 2 reminders", n)
	}
	if m := parse(t, f.smtp.All("bob@example.fr")[1]); !strings.Contains(m.text, "12\u00a0h\u00a000") {
		t.Errorf("second reminder is not for the new start:\n%s", m.text)
	}

	// Cancelled: its reminder sends nothing.
	f.clock.add(time.Minute)
	if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: bob}}); err != nil {
		t.Fatal(err)
	}
	newStart := time.Date(2026, 3, 3, 12, 0, 0, 0, f.paris).UTC()
	if _, err := f.queue.Insert(ctx, notify.ReminderArgs{ReservationID: r.ID, StartsAt: newStart}, nil); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), reminders, 4)
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 4)
	if n := f.smtp.Count("bob@example.fr"); n != 2 {
		t.Fatalf("%d mails after the cancellation, want still 2", n)
	}
}

// reminderJobs counts the reminder jobs queued so far, in any state.
func (f *fixture) reminderJobs(t *testing.T) int {
	t.Helper()
	return f.jobs(t, notify.ReminderArgs{}.Kind())
}

// jobs counts the jobs of kind queued so far, in any state.
func (f *fixture) jobs(t *testing.T, kind string) int {
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
	return len(res.Jobs)
}

// A member who writes in English gets English mail, times as 24-hour
// clock; a booking made within the reminder's lead time gets no reminder;
// a block mails nobody.
func TestEnglishMailNoLateReminderNoBlockMail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	en := identity.LanguageEnglish
	userID := dbtest.User(t, f.d, "emma@example.fr", "Emma")
	if _, err := f.accounts.UpdateMe(ctx, &identity.Principal{UserID: userID}, identity.MeUpdate{Language: &en}, identity.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	// 07:00 now: a booking at 08:00 starts within the default 60 minutes.
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: userID}, Start: f.at(2, 8, 0), End: f.at(2, 9, 0)}); err != nil {
		t.Fatal(err)
	}
	admin := identitytest.Admin()
	admin.UserID = dbtest.User(t, f.d, "admin@example.fr", "Admin")
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: admin, Kind: calendar.ReservationBlock, Start: f.at(2, 10, 0), End: f.at(2, 11, 0)}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 1)
	m := parse(t, f.smtp.To(t, "emma@example.fr"))
	if m.subject != "Booking confirmed: Salle Jaune, Monday 2 March 2026" || !strings.Contains(m.text, "from 08:00 to 09:00") {
		t.Errorf("English mail %q:\n%s", m.subject, m.text)
	}
	if n := f.reminderJobs(t); n != 0 {
		t.Errorf("%d reminder jobs for a booking within the hour", n)
	}
	if n := f.smtp.Count("admin@example.fr"); n != 0 {
		t.Errorf("%d mails for a block", n)
	}
	if n := f.jobs(t, notify.BookingMailArgs{}.Kind()); n != 1 {
		t.Errorf("%d booking jobs, want Emma's alone: a block queued one", n)
	}
}
