package notify_test

import (
	"context"
	stdmail "net/mail"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/notify"
)

var waitlistKind = notify.WaitlistMailArgs{}.Kind()

// freeSlotFor books 10:00–11:00 on 3 March for a first member, queues
// waiter for it, then cancels the booking: the slot is offered (or, with
// autoBook, booked) to waiter. It returns the entry.
func (f *fixture) freeSlotFor(t *testing.T, waiter string, autoBook bool) *calendar.WaitlistEntry {
	t.Helper()
	ctx := context.Background()
	off := false
	first := f.member(t, "first-"+waiter+"@example.fr", "First", identity.NotificationsPatch{Bookings: &off, Reminders: &off})
	r, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: first}, Start: f.at(3, 10, 0), End: f.at(3, 11, 0)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := f.cal.JoinWaitlist(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: waiter}, Start: f.at(3, 10, 0), End: f.at(3, 11, 0)}, autoBook)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: first}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// A freed slot mails its offer: the resource, the site, the slot in the
// site's zone, the accept link and the deadline, with Reply-To and
// List-Unsubscribe; the hold and its release mail nothing more. The lapse
// mails once.
func TestWaitlistOfferAndLapse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bob := f.member(t, "bob@example.fr", "Bob", identity.NotificationsPatch{})
	e := f.freeSlotFor(t, bob, false)

	jobstest.WaitCompleted(t, f.jc.River(), waitlistKind, 1)
	m := parse(t, f.smtp.To(t, "bob@example.fr"))
	if want := "Une place s’est libérée\u00a0: Salle Jaune, mardi 3 mars 2026"; m.subject != want {
		t.Errorf("subject %q, want %q", m.subject, want)
	}
	accept := publicURL + "/waitlist/" + e.ID
	for _, want := range []string{"«\u00a0Salle Jaune\u00a0» le mardi 3 mars 2026 de 10\u00a0h\u00a000 à 11\u00a0h\u00a000, à La Fabrique du Bourg",
		"jusqu’au lundi 2 mars 2026 à 9\u00a0h\u00a000", accept + "\r\n"} {
		if !strings.Contains(m.text, want) {
			t.Errorf("offer text lacks %q:\n%s", want, m.text)
		}
	}
	if !strings.Contains(m.html, `<a href="`+accept+`">`) || !strings.Contains(m.html, `lang="fr"`) {
		t.Errorf("offer HTML lacks the accept link:\n%s", m.html)
	}
	f.checkHeaders(t, m, bob, identity.CategoryWaitingList)

	// Lapsed: the entry expires, its hold is released.
	f.clock.add(2*time.Hour + time.Minute)
	if err := f.cal.ExpireOffer(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), waitlistKind, 2)
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 3) // Anne's cancellation, the hold, its release
	all := f.smtp.All("bob@example.fr")
	if len(all) != 2 {
		t.Fatalf("%d mails to Bob, want the offer and its lapse", len(all))
	}
	m = parse(t, all[1])
	if want := "Offre expirée\u00a0: Salle Jaune, mardi 3 mars 2026"; m.subject != want || !strings.Contains(m.text, "jusqu’au lundi 2 mars 2026 à 9\u00a0h\u00a000") {
		t.Errorf("lapse %q:\n%s", m.subject, m.text)
	}
	f.checkHeaders(t, m, bob, identity.CategoryWaitingList)
}

// checkHeaders checks m's Reply-To (the site's contact address) and its
// one-click unsubscribe headers, and that the link's token turns off
// category, and only it, for userID.
func (f *fixture) checkHeaders(t *testing.T, m parsed, userID, category string) {
	t.Helper()
	checkHeaders(t, f.accounts, m.header, userID, category)
}

// checkHeaders is fixture.checkHeaders for any set of services.
func checkHeaders(t *testing.T, accounts *identity.Service, header stdmail.Header, userID, category string) {
	t.Helper()
	if got := header.Get("Reply-To"); got != siteContact {
		t.Errorf("Reply-To %q, want %q", got, siteContact)
	}
	if got := header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", got)
	}
	raw := header.Get("List-Unsubscribe")
	link, err := url.Parse(strings.TrimSuffix(strings.TrimPrefix(raw, "<"), ">"))
	if err != nil || !strings.HasPrefix(raw, "<"+publicURL+"/v1/unsubscribe?token=") {
		t.Fatalf("List-Unsubscribe %q", raw)
	}
	got, err := accounts.UnsubscribeCategory(link.Query().Get("token"))
	if err != nil || got != category {
		t.Errorf("the link turns off %q (%v), want %q", got, err, category)
	}
	if want := accounts.UnsubscribeToken(userID, category); link.Query().Get("token") != want {
		t.Errorf("token %q is not %s's", link.Query().Get("token"), userID)
	}
}

// An auto-book entry gets its booking confirmation, no offer; a member who
// turned waiting-list mail off gets no offer either.
func TestWaitlistMailOnlyForOffersAndWhenChosen(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		autoBook, mail bool
	}{{"auto-book", true, true}, {"waiting_list off", false, false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			chosen := tt.mail
			cleo := f.member(t, "cleo@example.fr", "Cléo", identity.NotificationsPatch{WaitingList: &chosen})
			f.freeSlotFor(t, cleo, tt.autoBook)
			// The first member's booking and cancellation, and Cléo's booking
			// (auto-book) or hold.
			jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 3)
			if tt.autoBook {
				if n := f.jobs(t, waitlistKind); n != 0 {
					t.Errorf("%d waiting-list jobs for an auto-book entry", n)
				}
				// Her reminder may come before or after: look for the confirmation.
				var subjects []string
				for _, r := range f.smtp.All("cleo@example.fr") {
					subjects = append(subjects, parse(t, r).subject)
				}
				if !slices.ContainsFunc(subjects, func(s string) bool { return strings.HasPrefix(s, "Réservation confirmée") }) {
					t.Errorf("auto-book mails %q, want the booking confirmation", subjects)
				}
				return
			}
			jobstest.WaitCompleted(t, f.jc.River(), waitlistKind, 1)
			if n := f.smtp.Count("cleo@example.fr"); n != 0 {
				t.Errorf("%d mails to a member who turned waiting-list mail off", n)
			}
		})
	}
}

// One event queues one mail job, however often it is published, in a
// transaction or not (a retried publisher, two replicas); another event
// queues its own.
func TestNotifyJobsAreUniqueByEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	p := notify.NewPublisher(f.queue)
	ghost := "01937c2e-4a00-7000-8000-0000000000ff" // no account: the job sends nothing
	data := calendar.WaitlistEvent{EntryID: ghost, UserID: ghost, SiteID: f.site.ID, ResourceID: f.res.ID,
		Start: f.clock.now().Add(24 * time.Hour), End: f.clock.now().Add(25 * time.Hour), ExpiresAt: f.clock.now().Add(time.Hour)}
	e := events.New(calendar.EventWaitlistOffered, f.site.ID, f.clock.now(), data)
	publishTwice := func(e events.Event) {
		for i := 0; i < 2; i++ {
			if err := p.Publish(ctx, f.d, e); err != nil {
				t.Fatal(err)
			}
			if err := db.Tx(ctx, f.d, func(ctx context.Context, tx bun.Tx) error { return p.Publish(ctx, tx, e) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	publishTwice(e)
	if n := f.jobs(t, waitlistKind); n != 1 {
		t.Fatalf("%d jobs for one event published four times, want 1", n)
	}
	publishTwice(events.New(calendar.EventWaitlistLapsed, f.site.ID, f.clock.now(), data))
	if n := f.jobs(t, waitlistKind); n != 2 {
		t.Fatalf("%d jobs for two events, want 2", n)
	}
	booking := events.New(calendar.EventReservationCancelled, f.site.ID, f.clock.now(), calendar.ReservationEvent{
		ReservationID: ghost, UserID: &ghost, Kind: calendar.ReservationBooking})
	publishTwice(booking)
	if n := f.jobs(t, notify.BookingMailArgs{}.Kind()); n != 1 {
		t.Fatalf("%d booking jobs for one event, want 1", n)
	}
}

// Booking mails and reminders carry Reply-To and their own category's
// unsubscribe link; a site without a contact address sends no Reply-To.
func TestBookingMailHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	dana := f.member(t, "dana@example.fr", "Dana", identity.NotificationsPatch{})
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: dana}, Start: f.at(3, 10, 0), End: f.at(3, 11, 0)}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 1)
	jobstest.WaitCompleted(t, f.jc.River(), notify.ReminderArgs{}.Kind(), 1)
	all := f.smtp.All("dana@example.fr")
	if len(all) != 2 {
		t.Fatalf("%d mails, want the confirmation and the reminder", len(all))
	}
	for _, r := range all {
		m := parse(t, r)
		category := identity.CategoryBookings
		if strings.HasPrefix(m.subject, "Rappel") {
			category = identity.CategoryReminders
		}
		f.checkHeaders(t, m, dana, category)
	}

	empty := ""
	if _, err := f.cal.UpdateSite(ctx, identity.System(), f.site.ID, calendar.SiteUpdate{ContactEmail: &empty}); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Minute)
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: dana}, Start: f.at(4, 10, 0), End: f.at(4, 11, 0)}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 2)
	all = f.smtp.All("dana@example.fr")
	for _, r := range all[2:] {
		if m := parse(t, r); m.header.Get("Reply-To") != "" {
			t.Errorf("Reply-To %q without a contact address", m.header.Get("Reply-To"))
		}
	}
}

// Names written around the API (a row edited by hand, an import) with
// line breaks neither add a header nor make the mail unsendable.
func TestNamesCannotInjectHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	eve := f.member(t, "eve@example.fr", "Eve", identity.NotificationsPatch{})
	if _, err := f.d.NewUpdate().Table("resources").Set("name = ?", "Salle\r\nBcc: victim@example.fr").Where("id = ?", f.res.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.d.NewUpdate().Table("users").Set("name = ?", "Eve\nX-Evil: 1").Where("id = ?", eve).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: f.res.ID, By: &identity.Principal{UserID: eve}, Start: f.at(3, 10, 0), End: f.at(3, 11, 0)}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 1)
	jobstest.WaitCompleted(t, f.jc.River(), notify.ReminderArgs{}.Kind(), 1)
	// The confirmation and the reminder both carry the names, and arrive
	// in either order: every mail is checked, the confirmation by subject.
	all := f.smtp.All("eve@example.fr")
	if len(all) != 2 || f.smtp.Count("victim@example.fr") != 0 {
		t.Fatalf("%d mails to eve, %d to the victim", len(all), f.smtp.Count("victim@example.fr"))
	}
	want, found := "Réservation confirmée\u00a0: Salle  Bcc: victim@example.fr, mardi 3 mars 2026", false
	for _, r := range all {
		if len(r.To) != 1 {
			t.Fatalf("recipients %v", r.To)
		}
		m := parse(t, r)
		if m.header.Get("Bcc") != "" || m.header.Get("X-Evil") != "" {
			t.Errorf("injected headers: %v", m.header)
		}
		found = found || m.subject == want
	}
	if !found {
		t.Errorf("no mail with the subject %q", want)
	}
}

// An accepted offer is confirmed as a booking, with its invitation, not
// told as a move.
func TestAcceptedOfferIsConfirmed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	bob := f.member(t, "bob@example.fr", "Bob", identity.NotificationsPatch{})
	e := f.freeSlotFor(t, bob, false)
	jobstest.WaitCompleted(t, f.jc.River(), waitlistKind, 1)
	f.clock.add(time.Minute)
	if _, err := f.cal.AcceptOffer(ctx, &identity.Principal{UserID: bob}, e.ID); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, f.jc.River(), notify.BookingMailArgs{}.Kind(), 4) // the first's booking and cancellation, the hold, the acceptance
	// Bob also gets his reminder, in any order: look for the confirmation.
	want, found := "Réservation confirmée\u00a0: Salle Jaune, mardi 3 mars 2026", false
	for _, r := range f.smtp.All("bob@example.fr") {
		m := parse(t, r)
		if strings.HasPrefix(m.subject, "Réservation modifiée") {
			t.Errorf("the acceptance was told as a move: %q", m.subject)
		}
		if m.subject == want && m.cal != nil {
			found = true
		}
	}
	if !found {
		t.Errorf("no %q with its invitation", want)
	}
}
