package api_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
	"github.com/relais-tierslieux/relais/notify"
)

// --- services-mail ---

// A partner in video_mode generated gives each appointment a room of its
// own: its https base and 26 random characters (128 bits), different for
// two appointments, kept when the appointment moves, read by the
// resident, the partner's agents and the site's managers only. The base
// must be https, without user, query or fragment: else 422 naming
// video_base_url, and the partner is unchanged.
func TestAppointmentGeneratedVideoRooms(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	for _, bad := range []map[string]any{
		{"video_mode": "generated"},
		{"video_mode": "generated", "video_base_url": "http://visio.example.fr/"},
		{"video_mode": "generated", "video_base_url": "https://user:pw@visio.example.fr/"},
		{"video_mode": "generated", "video_base_url": "https://visio.example.fr/?room="},
		{"video_mode": "generated", "video_base_url": "javascript:alert(1)"},
		{"video_base_url": "https://visio.example.fr/#x"},
	} {
		p := h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.admin, body: bad}).expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField("video_base_url") {
			t.Fatalf("%v: %+v", bad, p)
		}
	}
	var pt struct {
		VideoMode    string  `json:"video_mode"`
		VideoBaseURL *string `json:"video_base_url"`
	}
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf, token: anne}).expect(t, http.StatusOK).decode(t, &pt)
	if pt.VideoMode != "agent_room" || pt.VideoBaseURL != nil {
		t.Fatalf("partner after bad patches = %+v", pt)
	}
	h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.admin,
		body: map[string]any{"video_mode": "generated", "video_base_url": "https://visio.example.fr/caf"}}).expect(t, http.StatusOK).decode(t, &pt)
	if pt.VideoMode != "generated" || pt.VideoBaseURL == nil || *pt.VideoBaseURL != "https://visio.example.fr/caf" {
		t.Fatalf("partner = %+v", pt)
	}
	room := regexp.MustCompile(`^https://visio\.example\.fr/caf/[a-z2-7]{26}$`)
	a := f.book(t, anne, map[string]any{"start": "2026-03-03T09:30"}, http.StatusCreated)
	b := f.book(t, bob, map[string]any{"start": "2026-03-03T10:00"}, http.StatusCreated)
	if a.VideoURL == nil || b.VideoURL == nil || !room.MatchString(*a.VideoURL) || !room.MatchString(*b.VideoURL) || *a.VideoURL == *b.VideoURL {
		t.Fatalf("rooms = %v, %v", a.VideoURL, b.VideoURL)
	}
	var moved appointmentOut
	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/reschedule", token: anne, body: map[string]any{"start": "2026-03-03T11:00"}}).
		expect(t, http.StatusOK).decode(t, &moved)
	if moved.VideoURL == nil || *moved.VideoURL != *a.VideoURL {
		t.Fatalf("moved room = %v, was %v", moved.VideoURL, *a.VideoURL)
	}
	for _, tok := range []string{anne, f.agent, f.manager} {
		var seen appointmentOut
		h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: tok}).expect(t, http.StatusOK).decode(t, &seen)
		if seen.VideoURL == nil || *seen.VideoURL != *a.VideoURL {
			t.Fatalf("room seen = %v", seen.VideoURL)
		}
	}
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: bob}).expect(t, http.StatusNotFound)
	var day struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-03", token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/me/appointments", token: bob}).expect(t, http.StatusOK).decode(t, &day)
	for _, it := range day.Items {
		if it.VideoURL != nil && strings.Contains(*it.VideoURL, *a.VideoURL) {
			t.Fatal("bob sees anne's room")
		}
	}
	// Anne's erasure removes her room from the appointment kept for the counts.
	h.do(req{method: "DELETE", path: "/v1/me", token: anne, body: map[string]any{"password": password}}).expect(t, http.StatusNoContent)
	var kept appointmentOut
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &kept)
	if kept.VideoURL != nil || kept.Status != "cancelled" {
		t.Fatalf("after the erasure = %+v", kept)
	}
}

func (f *appointmentFixture) guest(t *testing.T, name string) string {
	t.Helper()
	var g guestOut
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
		body: map[string]any{"name": name, "commune": map[string]any{"name": "Guéret"}, "age_band": "70_plus"}}).
		expect(t, http.StatusCreated).decode(t, &g)
	return g.ID
}

// A guest registered to an atelier and booked with the CAF turns out to
// have signed up: the site's manager merges them into the account, whose
// lists then hold the registration and the appointment; the guest points
// to the account and is no longer found at the desk. Merging twice is 409
// naming guest_id, into an erased account 422 naming user_id; a member, a
// manager of another site or an unknown guest get 404; a guest and an
// account registered to one session are 409 and nothing moves.
func TestGuestMerge(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	at := f.newAtelier(t, map[string]any{"seats": 5, "resource_ids": []string{}}, [2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	jeanneGuest := f.guest(t, "Jeanne Martin")
	reg := f.register(t, f.manager, at.ID, map[string]any{"guest_id": jeanneGuest}, http.StatusCreated)
	appt := f.book(t, f.manager, map[string]any{"start": "2026-03-03T09:00", "guest_id": jeanneGuest}, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/users/" + jeanneGuest + "/credits", token: f.manager,
		body: map[string]any{"site_id": f.site, "action": "grant", "unit": "cents", "amount": 1500, "reason": "Bon de la mairie"}}).expect(t, http.StatusCreated)
	jeanneID, jeanne, _ := h.member("jeanne@example.fr")

	_, bob, _ := h.member("bob@example.fr")
	merge := func(token, guestID, userID string) *response {
		return h.do(req{method: "POST", path: "/v1/guests/" + guestID + "/merge", token: token, body: map[string]any{"user_id": userID}})
	}
	merge(bob, jeanneGuest, jeanneID).expect(t, http.StatusNotFound)
	merge(f.manager, "0193a000-0000-7000-8000-000000000000", jeanneID).expect(t, http.StatusNotFound)
	if p := merge(f.manager, jeanneGuest, "0193a000-0000-7000-8000-000000000000").expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("user_id") {
		t.Fatalf("unknown account: %+v", p)
	}
	if p := merge(f.manager, jeanneGuest, jeanneGuest).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("user_id") {
		t.Fatalf("into itself: %+v", p)
	}

	var out struct {
		GuestID string `json:"guest_id"`
		UserID  string `json:"user_id"`
	}
	merge(f.manager, jeanneGuest, jeanneID).expect(t, http.StatusOK).decode(t, &out)
	if out.GuestID != jeanneGuest || out.UserID != jeanneID {
		t.Fatalf("merged = %+v", out)
	}
	var regs registrationsOut
	h.do(req{method: "GET", path: "/v1/me/atelier-registrations", token: jeanne}).expect(t, http.StatusOK).decode(t, &regs)
	if len(regs.Items) != 1 || regs.Items[0].ID != reg.Items[0].ID || regs.Items[0].UserID != jeanneID {
		t.Fatalf("jeanne's registrations = %+v", regs)
	}
	var mine struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/me/appointments", token: jeanne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != appt.ID || mine.Items[0].UserID != jeanneID {
		t.Fatalf("jeanne's appointments = %+v", mine)
	}
	var credits struct {
		Totals []struct {
			Unit      string
			Available int64
		}
	}
	h.do(req{method: "GET", path: "/v1/me/credits", token: jeanne}).expect(t, http.StatusOK).decode(t, &credits)
	if len(credits.Totals) != 1 || credits.Totals[0].Unit != "cents" || credits.Totals[0].Available != 1500 {
		t.Fatalf("jeanne's credit = %+v", credits)
	}
	if rep, err := h.privacyCfg.Ledger.VerifyLedger(context.Background()); err != nil || len(rep.Unbalanced) > 0 || rep.NegativeBalances > 0 {
		t.Fatalf("ledger after the merge: %+v, %v", rep, err)
	}
	var g struct {
		MergedInto *string `json:"merged_into"`
	}
	h.do(req{method: "GET", path: "/v1/guests/" + jeanneGuest, token: f.manager}).expect(t, http.StatusOK).decode(t, &g)
	if g.MergedInto == nil || *g.MergedInto != jeanneID {
		t.Fatalf("guest after the merge = %+v", g)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/people/" + jeanneGuest, token: f.manager}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/people/" + jeanneID, token: f.manager}).expect(t, http.StatusOK)
	if p := merge(f.manager, jeanneGuest, jeanneID).expect(t, http.StatusConflict).problem(t); p.Code != "guest_merged" || !p.hasField("guest_id") {
		t.Fatalf("merged twice: %+v", p)
	}

	// Into an erased account: 422, nothing moves.
	paulGuest := f.guest(t, "Paul Durand")
	paulID, paul, _ := h.member("paul@example.fr")
	h.do(req{method: "DELETE", path: "/v1/me", token: paul, body: map[string]any{"password": password}}).expect(t, http.StatusNoContent)
	if p := merge(f.manager, paulGuest, paulID).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("user_id") {
		t.Fatalf("into an erased account: %+v", p)
	}

	// Both registered to one session: 409, the guest keeps theirs.
	lucieGuest := f.guest(t, "Lucie Bernard")
	f.register(t, f.manager, at.ID, map[string]any{"guest_id": lucieGuest}, http.StatusCreated)
	lucieID, lucie, _ := h.member("lucie@example.fr")
	f.register(t, lucie, at.ID, map[string]any{}, http.StatusCreated)
	if p := merge(f.manager, lucieGuest, lucieID).expect(t, http.StatusConflict).problem(t); p.Code != "merge_registration_conflict" {
		t.Fatalf("double registration: %+v", p)
	}
	h.do(req{method: "GET", path: "/v1/guests/" + lucieGuest, token: f.manager}).expect(t, http.StatusOK).decode(t, &g)
	if g.MergedInto != nil {
		t.Fatalf("a refused merge marked the guest: %+v", g)
	}
}

// Two merges of one guest at once, into two accounts: exactly one
// succeeds, the other is 409 guest_merged; the history is all in the
// winner's account.
func TestGuestMergeRace(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	guest := f.guest(t, "Jeanne Martin")
	appt := f.book(t, f.manager, map[string]any{"start": "2026-03-03T09:00", "guest_id": guest}, http.StatusCreated)
	ids, tokens := make([]string, 2), make([]string, 2)
	ids[0], tokens[0], _ = h.member("jeanne@example.fr")
	ids[1], tokens[1], _ = h.member("jeanne.martin@example.fr")
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]int, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = h.do(req{method: "POST", path: "/v1/guests/" + guest + "/merge", token: f.manager, body: map[string]any{"user_id": ids[i]}}).Status
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, st := range statuses {
		if st == http.StatusOK {
			won = i
		}
	}
	if won < 0 || statuses[1-won] != http.StatusConflict {
		t.Fatalf("statuses = %v", statuses)
	}
	for i, tok := range tokens {
		var mine struct{ Items []appointmentOut }
		h.do(req{method: "GET", path: "/v1/me/appointments", token: tok}).expect(t, http.StatusOK).decode(t, &mine)
		if (len(mine.Items) == 1 && mine.Items[0].ID == appt.ID) != (i == won) {
			t.Fatalf("account %d's appointments = %+v", i, mine)
		}
	}
}

// serviceMails rebuilds ateliers and appointments telling notify, and
// starts a job client with notify's workers reading them, as serve does.
func serviceMails(t *testing.T, h *harness) *river.Client[*sql.Tx] {
	t.Helper()
	h.serviceEvents = notify.NewPublisher(h.jobs)
	h.restart()
	sender, err := mail.NewSMTP(h.mails.URL, "Relais <relais@example.fr>")
	if err != nil {
		t.Fatal(err)
	}
	svc, err := notify.New(h.db, notify.Config{Calendar: h.cal, Accounts: h.access, Mailer: sender, Jobs: h.jobs, Organizer: "no-reply@example.fr",
		Now: h.clock.Now, Ateliers: h.api.Deps.Ateliers, Appointments: h.api.Deps.Appointments})
	if err != nil {
		t.Fatal(err)
	}
	return h.jobClient(svc.AddWorkers)
}

type invitation struct{ method, uid, sequence, status, description string }

// invitationOf parses the mail's text/calendar part with go-ical.
func invitationOf(t *testing.T, m mailtest.Received) invitation {
	t.Helper()
	raw := m.Calendar()
	if raw == "" {
		t.Fatalf("mail %q has no invitation", m.Subject())
	}
	cal, err := ical.NewDecoder(strings.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("invitation of %q: %v\n%s", m.Subject(), err, raw)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	get := func(props ical.Props, name string) string {
		if p := props.Get(name); p != nil {
			if v, err := p.Text(); err == nil {
				return v
			}
			return p.Value
		}
		return ""
	}
	return invitation{method: get(cal.Props, ical.PropMethod), uid: get(evs[0].Props, ical.PropUID), sequence: get(evs[0].Props, ical.PropSequence),
		status: get(evs[0].Props, ical.PropStatus), description: get(evs[0].Props, ical.PropDescription)}
}

// frenchTypography fails on a space before : ; ! ? or inside « » that is
// not the no-break one French asks.
func frenchTypography(t *testing.T, what, text string) {
	t.Helper()
	for _, bad := range []string{" :", " ;", " !", " ?", "« ", " »", "\u00a0;", "\u00a0!", "\u00a0?"} {
		if strings.Contains(text, bad) {
			t.Errorf("%s: %q in\n%s", what, bad, text)
		}
	}
}

// Atelier mails: a guest with an email registered is confirmed with an
// invitation (REQUEST) and reminded the day before; cancelled by the desk,
// they get its withdrawal (CANCEL, same UID) and the first waiting gets
// the seat with an invitation of her own; the session cancelled with a
// reason tells her so (CANCEL). A guest without an email gets nothing; a
// reminder of a cancelled registration sends nothing. French as French is
// written.
func TestAtelierMails(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	jc := serviceMails(t, h)
	services, reminders := notify.ServiceMailArgs{}.Kind(), notify.AtelierReminderArgs{}.Kind()
	at := f.newAtelier(t, map[string]any{"seats": 1, "resource_ids": []string{}}, [2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	var jeanne guestOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
		body: map[string]any{"name": "Jeanne Martin", "email": "jeanne@example.fr", "commune": map[string]any{"name": "Guéret"}}}).
		expect(t, http.StatusCreated).decode(t, &jeanne)
	reg := f.register(t, f.manager, at.ID, map[string]any{"guest_id": jeanne.ID}, http.StatusCreated).Items[0]
	jobstest.WaitCompleted(t, jc, services, 1)
	jobstest.WaitCompleted(t, jc, reminders, 1)
	m := h.mails.About(t, "jeanne@example.fr", "Inscription confirmée")
	inv := invitationOf(t, m)
	if inv.method != "REQUEST" || inv.uid != reg.ID+"@relais" || inv.sequence != "0" || inv.status != "CONFIRMED" ||
		!strings.Contains(m.Text(), "jeudi 5 mars 2026 de 14\u00a0h\u00a000 à 16\u00a0h\u00a000") {
		t.Fatalf("confirmation %+v:\n%s", inv, m.Text())
	}
	frenchTypography(t, "confirmation", m.Subject()+"\n"+m.Text()+m.HTML())
	if r := h.mails.About(t, "jeanne@example.fr", "Rappel"); r.Calendar() != "" || !strings.Contains(r.Text(), "Initiation à la tablette") {
		t.Fatalf("reminder:\n%s", r.Text())
	}

	// Anne waits: no mail for that.
	_, anne, _ := h.member("anne@example.fr")
	if f.register(t, anne, at.ID, map[string]any{}, http.StatusCreated).Items[0].Status != "waitlisted" {
		t.Fatal("anne is not waiting")
	}
	// A guest without an email is mailed nothing (and takes no seat here).
	paul := f.guest(t, "Paul Durand")
	f.register(t, f.manager, at.ID, map[string]any{"guest_id": paul}, http.StatusCreated)

	// The desk cancels Jeanne's: her withdrawal, Anne's seat.
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + reg.ID, token: f.manager}).expect(t, http.StatusOK)
	jobstest.WaitCompleted(t, jc, services, 3)
	m = h.mails.About(t, "jeanne@example.fr", "Inscription annulée")
	if inv := invitationOf(t, m); inv.method != "CANCEL" || inv.uid != reg.ID+"@relais" || inv.sequence != "1" || inv.status != "CANCELLED" {
		t.Fatalf("withdrawal %+v", inv)
	}
	frenchTypography(t, "withdrawal", m.Subject()+"\n"+m.Text()+m.HTML())
	m = h.mails.About(t, "anne@example.fr", "Une place s’est libérée")
	if inv := invitationOf(t, m); inv.method != "REQUEST" {
		t.Fatalf("promotion %+v", inv)
	}
	// Jeanne's reminder, run now, sends nothing.
	if _, err := h.jobs.Insert(context.Background(), notify.AtelierReminderArgs{RegistrationID: reg.ID, StartsAt: time.Date(2026, 3, 5, 13, 0, 0, 0, time.UTC)}, nil); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, jc, reminders, 3) // Anne's and this one
	if n := len(h.mails.All("jeanne@example.fr")); n != 3 {
		t.Fatalf("jeanne got %d mails, want 3", n)
	}

	// The session cancelled, with a reason.
	h.do(req{method: "POST", path: "/v1/ateliers/" + at.ID + "/sessions/" + at.Sessions[0].ID + "/cancel", token: f.manager,
		body: map[string]any{"reason": "Animatrice malade"}}).expect(t, http.StatusOK)
	jobstest.WaitCompleted(t, jc, services, 4)
	m = h.mails.About(t, "anne@example.fr", "Séance annulée")
	if inv := invitationOf(t, m); inv.method != "CANCEL" || !strings.Contains(m.Text(), "Motif\u00a0: Animatrice malade") {
		t.Fatalf("session cancelled %+v:\n%s", inv, m.Text())
	}
	frenchTypography(t, "session cancelled", m.Subject()+"\n"+m.Text()+m.HTML())
}

// Appointment mails: booked, the resident and the CAF's agent each get an
// invitation (REQUEST) whose description holds the video link and the
// documents to bring, and the resident a reminder the day before; moved,
// the same UID with SEQUENCE 1; cancelled by the agent, CANCEL with
// SEQUENCE 2 and the reason.
func TestAppointmentMails(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	jc := serviceMails(t, h)
	services, reminders := notify.ServiceMailArgs{}.Kind(), notify.AppointmentReminderArgs{}.Kind()
	_, anne, _ := h.member("anne@example.fr")
	a := f.book(t, anne, map[string]any{"start": "2026-03-03T09:30"}, http.StatusCreated)
	jobstest.WaitCompleted(t, jc, services, 1)
	jobstest.WaitCompleted(t, jc, reminders, 1)
	for _, addr := range []string{"anne@example.fr", "claire@caf.example.fr"} {
		m := h.mails.About(t, addr, "Rendez-vous confirmé")
		inv := invitationOf(t, m)
		if inv.method != "REQUEST" || inv.uid != a.ID+"@relais" || inv.sequence != "0" || !strings.Contains(inv.description, cafRoom) ||
			!strings.Contains(inv.description, "Pièce d’identité") || !strings.Contains(inv.description, "Dernier avis d’imposition") {
			t.Fatalf("%s: invitation %+v", addr, inv)
		}
		if !strings.Contains(m.Text(), cafRoom) || !strings.Contains(m.Text(), "- Pièce d’identité") {
			t.Fatalf("%s:\n%s", addr, m.Text())
		}
		frenchTypography(t, addr, m.Subject()+"\n"+m.Text()+m.HTML())
	}
	if !strings.Contains(h.mails.About(t, "claire@caf.example.fr", "Rendez-vous confirmé").Text(), "anne a rendez-vous") {
		t.Fatal("the agent's mail does not name the resident")
	}
	if r := h.mails.About(t, "anne@example.fr", "Rappel"); r.Calendar() != "" || !strings.Contains(r.Text(), "Prime d’activité") {
		t.Fatalf("reminder:\n%s", r.Text())
	}
	if n := len(h.mails.All("claire@caf.example.fr")); n != 1 {
		t.Fatalf("the agent got %d mails, want 1 (no reminder)", n)
	}

	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/reschedule", token: anne, body: map[string]any{"start": "2026-03-03T11:00"}}).
		expect(t, http.StatusOK)
	jobstest.WaitCompleted(t, jc, services, 2)
	for _, addr := range []string{"anne@example.fr", "claire@caf.example.fr"} {
		m := h.mails.About(t, addr, "Rendez-vous déplacé")
		if inv := invitationOf(t, m); inv.method != "REQUEST" || inv.uid != a.ID+"@relais" || inv.sequence != "1" || !strings.Contains(m.Text(), "11\u00a0h\u00a000") {
			t.Fatalf("%s: move %+v\n%s", addr, inv, m.Text())
		}
	}
	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/cancel", token: f.agent, body: map[string]any{"reason": "Agent absent"}}).
		expect(t, http.StatusOK)
	jobstest.WaitCompleted(t, jc, services, 3)
	for _, addr := range []string{"anne@example.fr", "claire@caf.example.fr"} {
		m := h.mails.About(t, addr, "Rendez-vous annulé")
		if inv := invitationOf(t, m); inv.method != "CANCEL" || inv.uid != a.ID+"@relais" || inv.sequence != "2" || inv.status != "CANCELLED" ||
			!strings.Contains(m.Text(), "Motif\u00a0: Agent absent") {
			t.Fatalf("%s: cancellation %+v\n%s", addr, inv, m.Text())
		}
		frenchTypography(t, addr, m.Subject()+"\n"+m.Text()+m.HTML())
	}
}

// The services report counts appointments by month, site, partner,
// purpose and outcome, masking counts of 1 to 4, in JSON and CSV; people
// served counts the residents received (held) with those present at an
// atelier, each once. The expected figures are recomputed here from what
// the test booked and marked.
func TestServicesReportAppointments(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	guests := make([]string, 8)
	for i := range guests {
		guests[i] = f.guest(t, fmt.Sprintf("Résident %d", i))
	}
	// Six on 3 March (9:00 to 11:30), one on 10 March.
	type booked struct {
		id, guest, outcome string
	}
	var appts []booked
	for i, hm := range []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"} {
		a := f.book(t, f.manager, map[string]any{"start": "2026-03-03T" + hm, "guest_id": guests[i]}, http.StatusCreated)
		outcome := "held"
		if i == 5 {
			outcome = "no_show"
		}
		appts = append(appts, booked{a.ID, guests[i], outcome})
	}
	late := f.book(t, f.manager, map[string]any{"start": "2026-03-10T09:00", "guest_id": guests[6]}, http.StatusCreated)
	appts = append(appts, booked{late.ID, guests[6], ""})
	// A cancelled one counts nowhere.
	gone := f.book(t, f.manager, map[string]any{"start": "2026-03-10T09:30", "guest_id": guests[7]}, http.StatusCreated)
	h.do(req{method: "POST", path: "/v1/appointments/" + gone.ID + "/cancel", token: f.manager}).expect(t, http.StatusOK)
	// An atelier: resident 0 (also received) and resident 7 present.
	at := f.newAtelier(t, map[string]any{"seats": 5, "resource_ids": []string{}}, [2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	var regs []string
	for _, g := range []string{guests[0], guests[7]} {
		regs = append(regs, f.register(t, f.manager, at.ID, map[string]any{"guest_id": g}, http.StatusCreated).Items[0].ID)
	}

	h.clock.Advance(9*24*time.Hour + 6*time.Hour) // 11 March, 13:00 in Paris
	manager, _ := h.login("manon@example.fr", password)
	agent, _ := h.login("claire@caf.example.fr", password)
	for _, a := range appts {
		if a.outcome != "" {
			h.do(req{method: "PATCH", path: "/v1/appointments/" + a.id, token: agent, body: map[string]any{"outcome": a.outcome}}).expect(t, http.StatusOK)
		}
	}
	for _, r := range regs {
		h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + r, token: manager, body: map[string]any{"attendance": "present"}}).expect(t, http.StatusOK)
	}

	// What the report should say, from what was done.
	count, people := map[string]int{}, map[string]map[string]bool{}
	served := map[string]bool{guests[0]: true, guests[7]: true}
	for _, a := range appts {
		o := a.outcome
		if o == "" {
			o = "not_recorded"
		}
		count[o]++
		if people[o] == nil {
			people[o] = map[string]bool{}
		}
		people[o][a.guest] = true
		if o == "held" || o == "follow_up" {
			served[a.guest] = true
		}
	}
	masked := func(n int) *int {
		if n > 0 && n < 5 {
			return nil
		}
		return &n
	}
	same := func(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

	var rep struct {
		Appointments []struct {
			Month, Partner, Purpose, Outcome string
			SiteID                           string `json:"site_id"`
			Appointments, People             *int
		}
		People *int
	}
	h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03", token: manager}).expect(t, http.StatusOK).decode(t, &rep)
	if len(rep.Appointments) != len(count) {
		t.Fatalf("lines = %+v, want %d", rep.Appointments, len(count))
	}
	for _, l := range rep.Appointments {
		if l.Month != "2026-03" || l.SiteID != f.site || l.Partner != "CAF de la Creuse" || l.Purpose != "Prime d’activité" ||
			!same(l.Appointments, masked(count[l.Outcome])) || !same(l.People, masked(len(people[l.Outcome]))) {
			t.Errorf("line %+v, want %d appointments of %d people", l, count[l.Outcome], len(people[l.Outcome]))
		}
	}
	if !same(rep.People, masked(len(served))) || rep.People == nil {
		t.Fatalf("people served = %v, want %d", rep.People, len(served))
	}

	r := h.do(req{method: "GET", path: "/v1/reports/services?period=2026-03&format=csv", token: manager}).expect(t, http.StatusOK)
	cr := csv.NewReader(strings.NewReader(string(r.Body)))
	cr.Comma = ';'
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, r.Body)
	}
	values := map[string]string{}
	for _, row := range rows[1:] {
		values[row[0]+"/"+row[7]+"/"+row[11]] = row[8]
	}
	if values["appointments/appointments/held"] != fmt.Sprint(count["held"]) || values["appointments/appointments/no_show"] != "<5" ||
		values["appointments/people/not_recorded"] != "<5" || values["people/people/"] != fmt.Sprint(len(served)) {
		t.Fatalf("csv values: %v", values)
	}
}
