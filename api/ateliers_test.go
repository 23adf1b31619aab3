package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-ical"
)

type atelierOut struct {
	ID       string
	Audience string
	Sessions []struct {
		ID         string
		Start      time.Time
		Status     string
		SeatsLeft  int `json:"seats_left"`
		Waitlisted int
	}
}

type registrationOut struct {
	ID         string
	SessionID  string `json:"session_id"`
	UserID     string `json:"user_id"`
	Name       *string
	Status     string
	Attendance *string
	PromotedAt *time.Time `json:"promoted_at"`
}

type registrationsOut struct{ Items []registrationOut }

const initiation = "0193a000-0000-7000-8000-00000000ca01" // a seeded category

// newAtelier has the site's manager create an atelier of the room over
// sessions, and returns it.
func (f *calendarFixture) newAtelier(t *testing.T, extra map[string]any, sessions ...[2]string) atelierOut {
	t.Helper()
	body := map[string]any{"title": "Initiation à la tablette", "description": "Allumer, toucher, installer une application.",
		"category_id": initiation, "seats": 2, "resource_ids": []string{f.room}}
	for k, v := range extra {
		body[k] = v
	}
	var ss []map[string]string
	for _, s := range sessions {
		ss = append(ss, map[string]string{"start": s[0], "end": s[1]})
	}
	body["sessions"] = ss
	var a atelierOut
	f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/ateliers", token: f.manager, body: body}).expect(t, http.StatusCreated).decode(t, &a)
	return a
}

func (f *calendarFixture) register(t *testing.T, token, atelierID string, body map[string]any, want int) registrationsOut {
	t.Helper()
	var out registrationsOut
	r := f.h.do(req{method: "POST", path: "/v1/ateliers/" + atelierID + "/registrations", token: token, body: body}).expect(t, want)
	if want == http.StatusCreated {
		r.decode(t, &out)
	}
	return out
}

// An atelier's sessions hold the room as blocks: a booking over one is
// refused, an atelier over a booking is refused whole; the agenda is public
// but for ateliers by invitation; seats fill, then the waiting list, which
// a cancellation promotes; attendance is taken once the session started; a
// cancelled session frees the room.
func TestAteliersOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	a := f.newAtelier(t, nil, [2]string{"2026-03-03T14:00", "2026-03-03T16:00"}, [2]string{"2026-03-10T14:00", "2026-03-10T16:00"})
	if len(a.Sessions) != 2 || a.Sessions[0].SeatsLeft != 2 || a.Audience != "public" ||
		!a.Sessions[0].Start.Equal(time.Date(2026, 3, 3, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("atelier = %+v", a)
	}
	// The room is the atelier's then, both ways.
	anneID, anne, _ := h.member("anne@example.fr")
	if p := f.book(anne, f.room, f.at(3, 15, 0), f.at(3, 16, 0)).expect(t, http.StatusConflict).problem(t); p.Code != "slot_taken" {
		t.Fatalf("booking over the atelier: %+v", p)
	}
	f.book(anne, f.room, f.at(4, 10, 0), f.at(4, 11, 0)).expect(t, http.StatusCreated)
	var clash struct {
		Code       string
		Session    int    `json:"session"`
		ResourceID string `json:"resource_id"`
	}
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/ateliers", token: f.manager, body: map[string]any{"title": "Démarches CAF",
		"category_id": initiation, "seats": 4, "resource_ids": []string{f.room},
		"sessions": []map[string]string{{"start": f.at(5, 10, 0), "end": f.at(5, 11, 0)}, {"start": f.at(4, 10, 30), "end": f.at(4, 11, 30)}}}}).
		expect(t, http.StatusConflict).decode(t, &clash)
	if clash.Code != "slot_taken" || clash.Session != 0 || clash.ResourceID != f.room {
		// sessions are sorted by start: the 4 March one is sessions[0]
		t.Fatalf("atelier over a booking: %+v", clash)
	}
	// Nothing of it was created: 5 March 10:00 is free.
	f.book(anne, f.room, f.at(5, 10, 0), f.at(5, 11, 0)).expect(t, http.StatusCreated)

	// The agenda without sign-in; an atelier by invitation only for the
	// managers.
	secret := f.newAtelier(t, map[string]any{"audience": "invitation", "resource_ids": []string{}}, [2]string{"2026-03-06T10:00", "2026-03-06T12:00"})
	var agenda struct{ Items []atelierOut }
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/ateliers?from=2026-03-01&to=2026-03-31"}).expect(t, http.StatusOK).decode(t, &agenda)
	if len(agenda.Items) != 1 || agenda.Items[0].ID != a.ID {
		t.Fatalf("public agenda = %+v", agenda)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/ateliers?from=2026-03-01&to=2026-03-31", token: f.manager}).expect(t, http.StatusOK).decode(t, &agenda)
	if len(agenda.Items) != 2 {
		t.Fatalf("managers' agenda = %+v", agenda)
	}
	h.do(req{method: "GET", path: "/v1/ateliers/" + secret.ID}).expect(t, http.StatusNotFound)
	f.register(t, anne, secret.ID, map[string]any{}, http.StatusNotFound) // as if there were none

	// Two seats: Anne and Bob confirmed for the first session, Carol and a
	// guest the manager registers wait, in order.
	s1 := a.Sessions[0].ID
	_, bob, _ := h.member("bob@example.fr")
	carolID, carol, _ := h.member("carol@example.fr")
	var jeanne guestOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
		body: map[string]any{"name": "Jeanne Martin", "commune": map[string]any{"name": "Guéret"}, "age_band": "70_plus"}}).
		expect(t, http.StatusCreated).decode(t, &jeanne)
	annes := f.register(t, anne, a.ID, map[string]any{"session_ids": []string{s1}}, http.StatusCreated)
	if len(annes.Items) != 1 || annes.Items[0].Status != "confirmed" || annes.Items[0].UserID != anneID {
		t.Fatalf("anne = %+v", annes)
	}
	f.register(t, bob, a.ID, map[string]any{"session_ids": []string{s1}}, http.StatusCreated)
	carols := f.register(t, carol, a.ID, map[string]any{}, http.StatusCreated) // both sessions
	if len(carols.Items) != 2 || carols.Items[0].Status != "waitlisted" || carols.Items[1].Status != "confirmed" {
		t.Fatalf("carol = %+v", carols)
	}
	guest := f.register(t, f.manager, a.ID, map[string]any{"session_ids": []string{s1}, "guest_id": jeanne.ID}, http.StatusCreated)
	if guest.Items[0].Status != "waitlisted" {
		t.Fatalf("guest = %+v", guest)
	}
	if p := h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/registrations", token: anne, body: map[string]any{"session_ids": []string{s1}}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "already_registered" {
		t.Fatalf("twice: %+v", p)
	}
	// Members register only themselves.
	f.register(t, anne, a.ID, map[string]any{"user_id": carolID}, http.StatusForbidden)

	// Anne cancels: Carol, first waiting, takes her seat; the guest waits.
	h.do(req{method: "DELETE", path: "/v1/atelier-registrations/" + annes.Items[0].ID, token: anne}).expect(t, http.StatusOK)
	var sheet registrationsOut
	h.do(req{method: "GET", path: "/v1/ateliers/" + a.ID + "/registrations?session_id=" + s1, token: f.manager}).expect(t, http.StatusOK).decode(t, &sheet)
	status := map[string]string{}
	for _, r := range sheet.Items {
		status[*r.Name] = r.Status
		if *r.Name == "carol" && r.PromotedAt == nil {
			t.Errorf("carol promoted without promoted_at")
		}
	}
	if status["anne"] != "cancelled" || status["bob"] != "confirmed" || status["carol"] != "confirmed" || status["Jeanne Martin"] != "waitlisted" {
		t.Fatalf("after anne cancelled: %v", status)
	}
	// Only those who run it see the sheet.
	h.do(req{method: "GET", path: "/v1/ateliers/" + a.ID + "/registrations", token: bob}).expect(t, http.StatusForbidden)

	// Attendance: not before the session starts; then for confirmed ones.
	carolReg := carols.Items[0].ID
	if p := h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + carolReg, token: f.manager, body: map[string]any{"attendance": "present"}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "session_not_started" {
		t.Fatalf("attendance before: %+v", p)
	}
	h.clock.Advance(31*time.Hour + 5*time.Minute) // 3 March, 14:05 in Paris
	manager, _ := h.login("manon@example.fr", password)
	bob, _ = h.login("bob@example.fr", password)
	var marked registrationOut
	h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + carolReg, token: manager, body: map[string]any{"attendance": "present"}}).
		expect(t, http.StatusOK).decode(t, &marked)
	if marked.Attendance == nil || *marked.Attendance != "present" {
		t.Fatalf("marked = %+v", marked)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + guest.Items[0].ID, token: manager, body: map[string]any{"attendance": "present"}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "registration_not_confirmed" {
		t.Fatalf("a waiting guest marked: %+v", p)
	}
	h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + carolReg, token: bob, body: map[string]any{"attendance": "absent"}}).
		expect(t, http.StatusForbidden)
	h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + carolReg, token: manager, body: map[string]any{"attendance": "late"}}).
		expect(t, http.StatusUnprocessableEntity)

	// The second session is cancelled: its registrations end, the room is
	// free again.
	h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/sessions/" + a.Sessions[1].ID + "/cancel", token: manager,
		body: map[string]any{"reason": "Animatrice malade"}}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/ateliers/" + a.ID + "/registrations?session_id=" + a.Sessions[1].ID, token: manager}).
		expect(t, http.StatusOK).decode(t, &sheet)
	for _, r := range sheet.Items {
		if r.Status != "cancelled" {
			t.Errorf("registration of a cancelled session: %+v", r)
		}
	}
	anne, _ = h.login("anne@example.fr", password)
	f.book(anne, f.room, f.at(10, 14, 0), f.at(10, 15, 0)).expect(t, http.StatusCreated)
}

// A training grants the laser's qualification to those marked present:
// the member who could not book the laser can once trained.
func TestTrainingGrantsTheQualification(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	training := f.newAtelier(t, map[string]any{"title": "Formation découpe laser", "qualification_id": f.qual, "qualification_months": 12,
		"resource_ids": []string{f.las}}, [2]string{"2026-03-02T10:00", "2026-03-02T12:00"})
	if p := f.book(anne, f.las, f.at(4, 10, 0), f.at(4, 11, 0)).expect(t, http.StatusUnprocessableEntity).problem(t); p.Code != "qualification_required" {
		t.Fatalf("untrained: %+v", p)
	}
	reg := f.register(t, anne, training.ID, map[string]any{}, http.StatusCreated)
	h.clock.Advance(3*time.Hour + 30*time.Minute) // 10:30
	manager, _ := h.login("manon@example.fr", password)
	h.do(req{method: "PATCH", path: "/v1/atelier-registrations/" + reg.Items[0].ID, token: manager, body: map[string]any{"attendance": "present"}}).
		expect(t, http.StatusOK)
	anne, _ = h.login("anne@example.fr", password)
	f.book(anne, f.las, f.at(4, 10, 0), f.at(4, 11, 0)).expect(t, http.StatusCreated)
}

// 30 people for 10 seats, all at once: exactly 10 confirmed and 20 on the
// waiting list, on either database.
func TestAtelierRegistrationRace(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	a := f.newAtelier(t, map[string]any{"seats": 10, "resource_ids": []string{}}, [2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	guests := make([]string, 30)
	for i := range guests {
		var g guestOut
		h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
			body: map[string]any{"name": fmt.Sprintf("Résident %d", i), "commune": map[string]any{"name": "Guéret"}}}).
			expect(t, http.StatusCreated).decode(t, &g)
		guests[i] = g.ID
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make([]string, len(guests))
	for i, g := range guests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/registrations", token: f.manager, body: map[string]any{"guest_id": g}})
			if r.Status != http.StatusCreated {
				statuses[i] = fmt.Sprint(r.Status)
				return
			}
			var out registrationsOut
			r.decode(t, &out)
			statuses[i] = out.Items[0].Status
		}()
	}
	close(start)
	wg.Wait()
	count := map[string]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count["confirmed"] != 10 || count["waitlisted"] != 20 {
		t.Fatalf("30 for 10 seats: %v", count)
	}
	var got atelierOut
	h.do(req{method: "GET", path: "/v1/ateliers/" + a.ID}).expect(t, http.StatusOK).decode(t, &got)
	if got.Sessions[0].SeatsLeft != 0 || got.Sessions[0].Waitlisted != 20 {
		t.Fatalf("the session says %+v", got.Sessions[0])
	}
}

// The public agenda as iCalendar: each session of the public ateliers,
// a cancelled one marked so, nothing of the invitation-only ones; it
// parses with go-ical, and If-None-Match answers 304.
func TestAteliersFeed(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	a := f.newAtelier(t, map[string]any{"title": "Café numérique", "description": "Vos questions,\nnos réponses.", "resource_ids": []string{}},
		[2]string{"2026-03-03T14:00", "2026-03-03T16:00"}, [2]string{"2026-03-10T14:00", "2026-03-10T16:00"})
	f.newAtelier(t, map[string]any{"title": "Réunion privée", "audience": "invitation", "resource_ids": []string{}}, [2]string{"2026-03-04T14:00", "2026-03-04T15:00"})
	h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/sessions/" + a.Sessions[1].ID + "/cancel", token: f.manager}).expect(t, http.StatusOK)

	r := h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/ateliers.ics"}).expect(t, http.StatusOK)
	cal, err := ical.NewDecoder(bytes.NewReader(r.Body)).Decode()
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, r.Body)
	}
	status := map[string]string{}
	for _, ev := range cal.Events() {
		summary, _ := ev.Props.Text(ical.PropSummary)
		st, _ := ev.Props.Text(ical.PropStatus)
		uid, _ := ev.Props.Text(ical.PropUID)
		if summary != "Café numérique" {
			t.Errorf("event %q in the public feed", summary)
		}
		status[uid] = st
		if desc, _ := ev.Props.Text(ical.PropDescription); desc != "Vos questions,\nnos réponses." {
			t.Errorf("description %q", desc)
		}
	}
	if len(status) != 2 || status[a.Sessions[0].ID+"@relais-atelier"] != "CONFIRMED" || status[a.Sessions[1].ID+"@relais-atelier"] != "CANCELLED" {
		t.Fatalf("events: %v", status)
	}
	h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/ateliers.ics", headers: map[string]string{"If-None-Match": r.Header.Get("ETag")}}).
		expect(t, http.StatusNotModified)
}

// An atelier for members takes those with a membership at the site (even
// one whose plan opens no door), refuses the others in words, and opens
// its registrations when it says.
func TestAtelierForMembers(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	opens := time.Date(2026, 3, 2, 9, 0, 0, 0, f.paris)
	a := f.newAtelier(t, map[string]any{"audience": "members", "resource_ids": []string{}, "registration_opens_at": opens.Format(time.RFC3339)},
		[2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	anneID, anne, _ := h.member("anne@example.fr")
	if p := h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/registrations", token: anne, body: map[string]any{}}).
		expect(t, http.StatusForbidden).problem(t); p.Code != "members_only" {
		t.Fatalf("without membership: %+v", p)
	}
	f.membership(t, anneID, map[string]any{"door_access": "none"})
	if p := h.do(req{method: "POST", path: "/v1/ateliers/" + a.ID + "/registrations", token: anne, body: map[string]any{}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "registration_not_open" {
		t.Fatalf("before the opening: %+v", p)
	}
	h.clock.Advance(2*time.Hour + time.Minute) // 09:01 in Paris
	anne, _ = h.login("anne@example.fr", password)
	got := f.register(t, anne, a.ID, map[string]any{}, http.StatusCreated)
	if len(got.Items) != 1 || got.Items[0].Status != "confirmed" {
		t.Fatalf("member: %+v", got)
	}
	var mine registrationsOut
	h.do(req{method: "GET", path: "/v1/me/atelier-registrations", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != got.Items[0].ID || mine.Items[0].Name != nil {
		t.Fatalf("my registrations: %+v", mine)
	}
}

// A member who erases their account gives up their seats to come: the
// first waiting takes each, as with any cancellation.
func TestErasureFreesAtelierSeats(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	a := f.newAtelier(t, map[string]any{"seats": 1, "resource_ids": []string{}}, [2]string{"2026-03-05T14:00", "2026-03-05T16:00"})
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")
	f.register(t, anne, a.ID, map[string]any{}, http.StatusCreated)
	bobs := f.register(t, bob, a.ID, map[string]any{}, http.StatusCreated)
	if bobs.Items[0].Status != "waitlisted" {
		t.Fatalf("bob = %+v", bobs)
	}
	h.do(req{method: "DELETE", path: "/v1/me", token: anne, body: map[string]any{"password": password}}).expect(t, http.StatusNoContent)
	var mine registrationsOut
	h.do(req{method: "GET", path: "/v1/me/atelier-registrations", token: bob}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Status != "confirmed" || mine.Items[0].PromotedAt == nil {
		t.Fatalf("after anne's erasure, bob's registration = %+v", mine)
	}
}
