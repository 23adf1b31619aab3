package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/privacy"
)

type partnerOut struct {
	ID       string
	Purposes []struct {
		ID        string
		Name      string
		Documents []string
	}
}

type slotOut struct {
	WindowID string `json:"window_id"`
	Start    time.Time
	End      time.Time
}

type appointmentOut struct {
	ID          string
	UserID      string `json:"user_id"`
	Name        string
	Purpose     string
	Checklist   []string
	VideoURL    *string `json:"video_url"`
	Start       time.Time
	Status      string
	Outcome     *string
	OutcomeNote *string `json:"outcome_note"`
}

// appointmentFixture: the calendar fixture's site (open 8:00–20:00 every
// day), a visio-guichet booth, the CAF (network-wide) with an agent in a
// fixed video room, and a window on Tuesdays 9:00–12:00 in 30-minute slots.
type appointmentFixture struct {
	*calendarFixture
	booth, caf, purpose, window string
	agentID, agent              string
}

const cafRoom = "https://visio.caf.example.fr/salle-12"

func newAppointmentFixture(t *testing.T) *appointmentFixture {
	t.Helper()
	f := &appointmentFixture{calendarFixture: newCalendarFixture(t)}
	h := f.h
	f.booth = f.resource(t, map[string]any{"kind": "room", "name": "Visio-guichet", "capacity": 2, "rules": map[string]int{"slot_minutes": 15}})
	var caf partnerOut
	h.do(req{method: "POST", path: "/v1/partners", token: f.admin, body: map[string]any{"name": "CAF de la Creuse", "kind": "caf", "video_mode": "agent_room",
		"purposes": []map[string]any{{"name": "Prime d’activité", "documents": []string{"Pièce d’identité", "Dernier avis d’imposition"}},
			{"name": "Aide au logement", "documents": []string{"Bail"}}}}}).expect(t, http.StatusCreated).decode(t, &caf)
	f.caf, f.purpose = caf.ID, caf.Purposes[0].ID
	f.agentID, f.agent, _ = h.member("claire@caf.example.fr")
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/agents", token: f.admin,
		body: map[string]any{"email": "claire@caf.example.fr", "video_url": cafRoom}}).expect(t, http.StatusCreated)
	var w struct{ ID string }
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows", token: f.manager, body: map[string]any{"site_id": f.site, "resource_id": f.booth,
		"agent_id": f.agentID, "weekday": "tue", "from": "2026-03-01", "until": "2026-03-31", "start": "09:00", "end": "12:00", "slot_minutes": 30}}).
		expect(t, http.StatusCreated).decode(t, &w)
	f.window = w.ID
	return f
}

// slots are the CAF's free slots on Tuesday 3 March, as local "15:04".
func (f *appointmentFixture) slots(t *testing.T, token string) []string {
	t.Helper()
	var out struct{ Items []slotOut }
	f.h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/slots?site_id=" + f.site + "&from=2026-03-03&to=2026-03-03", token: token}).
		expect(t, http.StatusOK).decode(t, &out)
	var hm []string
	for _, s := range out.Items {
		if s.WindowID != f.window || s.End.Sub(s.Start) != 30*time.Minute {
			t.Fatalf("slot %+v", s)
		}
		hm = append(hm, s.Start.In(f.paris).Format("15:04"))
	}
	return hm
}

func (f *appointmentFixture) book(t *testing.T, token string, body map[string]any, want int) appointmentOut {
	t.Helper()
	b := map[string]any{"window_id": f.window, "purpose_id": f.purpose}
	for k, v := range body {
		b[k] = v
	}
	var a appointmentOut
	r := f.h.do(req{method: "POST", path: "/v1/appointments", token: token, body: b}).expect(t, want)
	if want == http.StatusCreated {
		r.decode(t, &a)
	}
	return a
}

func sameSlots(got []string, want ...string) bool { return fmt.Sprint(got) == fmt.Sprint(want) }

// A partner's window offers its slots where the booth is free; an
// appointment holds the booth as a block (a member's booking over it is
// refused) and a member's booking of the booth removes the slot; the
// appointment carries its checklist and video link; agents see only their
// own partner's appointments, and the outcome's note only they read;
// moving, cancelling and closing the window; bad input changes nothing.
func TestAppointmentsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")

	all := []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"}
	if got := f.slots(t, anne); !sameSlots(got, all...) {
		t.Fatalf("slots = %v", got)
	}
	// Network-wide partners are the admins'; a site's managers add their own.
	h.do(req{method: "POST", path: "/v1/partners", token: f.manager, body: map[string]any{"name": "MSA", "purposes": []map[string]any{{"name": "Retraite"}}}}).
		expect(t, http.StatusForbidden)

	// Anne books 9:30: the appointment carries the purpose's checklist and
	// the agent's room, and the booth is held.
	a := f.book(t, anne, map[string]any{"start": "2026-03-03T09:30"}, http.StatusCreated)
	if a.UserID != anneID || a.Status != "confirmed" || a.Purpose != "Prime d’activité" || len(a.Checklist) != 2 || a.VideoURL == nil || *a.VideoURL != cafRoom ||
		!a.Start.Equal(time.Date(2026, 3, 3, 8, 30, 0, 0, time.UTC)) {
		t.Fatalf("appointment = %+v", a)
	}
	if p := f.calendarFixture.book(bob, f.booth, f.at(3, 9, 45), f.at(3, 10, 0)).expect(t, http.StatusConflict).problem(t); p.Code != "slot_taken" {
		t.Fatalf("booking over an appointment: %+v", p)
	}
	// And the other way: Bob's booking of the booth at 10:00 removes that slot.
	f.calendarFixture.book(bob, f.booth, f.at(3, 10, 0), f.at(3, 10, 30)).expect(t, http.StatusCreated)
	if got := f.slots(t, anne); !sameSlots(got, "09:00", "10:30", "11:00", "11:30") {
		t.Fatalf("slots after the appointment and the booking = %v", got)
	}
	if p := f.book(t, bob, map[string]any{"start": "2026-03-03T10:00"}, http.StatusConflict).ID; p != "" {
		t.Fatal("booked over a booking")
	}
	f.book(t, bob, map[string]any{"start": "2026-03-03T09:30"}, http.StatusConflict)

	// Bad input: problem+json naming the field, and nothing booked.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"start": "2026-03-03T09:00", "purpose_id": "nope"}, "purpose_id"},
		{map[string]any{"start": "2026-03-03T09:10"}, "start"}, // not on the grid
		{map[string]any{"start": "2026-03-04T09:00"}, "start"}, // a Wednesday
		{map[string]any{"start": "2026-03-03T09:00", "window_id": "0193a000-0000-7000-8000-000000000000"}, "window_id"},
		{map[string]any{"start": "someday"}, "start"},
	} {
		p := h.do(req{method: "POST", path: "/v1/appointments", token: bob, body: mergeBody(map[string]any{"window_id": f.window, "purpose_id": f.purpose}, c.body)}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(c.field) {
			t.Fatalf("%v: %+v", c.body, p)
		}
	}
	if got := f.slots(t, anne); !sameSlots(got, "09:00", "10:30", "11:00", "11:30") {
		t.Fatalf("slots after bad input = %v", got)
	}
	// Members book for themselves only; the site's manager books for a guest.
	f.book(t, bob, map[string]any{"start": "2026-03-03T09:00", "user_id": anneID}, http.StatusForbidden)
	var jeanne guestOut
	h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
		body: map[string]any{"name": "Jeanne Martin", "commune": map[string]any{"name": "Guéret"}, "age_band": "70_plus"}}).
		expect(t, http.StatusCreated).decode(t, &jeanne)
	g := f.book(t, f.manager, map[string]any{"start": "2026-03-03T11:30", "guest_id": jeanne.ID, "purpose_id": f.purpose}, http.StatusCreated)
	if g.UserID != jeanne.ID {
		t.Fatalf("guest's appointment = %+v", g)
	}

	// Isolation: the agent of another partner, and another member, are told
	// there is none; the CAF's agent sees the day.
	var ft partnerOut
	h.do(req{method: "POST", path: "/v1/partners", token: f.admin, body: map[string]any{"name": "France Travail", "purposes": []map[string]any{{"name": "Inscription"}}}}).
		expect(t, http.StatusCreated).decode(t, &ft)
	_, other, _ := h.member("paul@francetravail.example.fr")
	h.do(req{method: "POST", path: "/v1/partners/" + ft.ID + "/agents", token: f.admin, body: map[string]any{"email": "paul@francetravail.example.fr"}}).
		expect(t, http.StatusCreated)
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-03", token: other}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: other}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/cancel", token: other}).expect(t, http.StatusNotFound)
	var day struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-03", token: f.agent}).expect(t, http.StatusOK).decode(t, &day)
	if len(day.Items) != 2 || day.Items[0].ID != a.ID || day.Items[1].ID != g.ID || day.Items[0].Name != "anne" || day.Items[1].Name != "Jeanne Martin" {
		t.Fatalf("agent's day = %+v", day)
	}
	h.do(req{method: "GET", path: "/v1/partners/" + ft.ID + "/appointments?date=2026-03-03", token: other}).expect(t, http.StatusOK).decode(t, &day)
	if len(day.Items) != 0 {
		t.Fatalf("France Travail's day = %+v", day)
	}

	// The outcome waits for the start.
	if p := h.do(req{method: "PATCH", path: "/v1/appointments/" + a.ID, token: f.agent, body: map[string]any{"outcome": "held"}}).
		expect(t, http.StatusConflict).problem(t); p.Code != "appointment_not_started" {
		t.Fatalf("outcome before the start: %+v", p)
	}

	// Anne moves to 11:00: 9:30 is offered again, and the booth is free then.
	var moved appointmentOut
	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/reschedule", token: anne, body: map[string]any{"start": "2026-03-03T11:00"}}).
		expect(t, http.StatusOK).decode(t, &moved)
	if moved.ID != a.ID || !moved.Start.Equal(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("moved = %+v", moved)
	}
	if got := f.slots(t, anne); !sameSlots(got, "09:00", "09:30", "10:30") {
		t.Fatalf("slots after the move = %v", got)
	}
	// The agent cancels the guest's: 11:30 is back.
	var cancelled appointmentOut
	h.do(req{method: "POST", path: "/v1/appointments/" + g.ID + "/cancel", token: f.agent, body: map[string]any{"reason": "Agent absent"}}).
		expect(t, http.StatusOK).decode(t, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	if got := f.slots(t, anne); !sameSlots(got, "09:00", "09:30", "10:30", "11:30") {
		t.Fatalf("slots after the cancellation = %v", got)
	}
	h.do(req{method: "POST", path: "/v1/appointments/" + g.ID + "/cancel", token: f.manager}).expect(t, http.StatusConflict)

	// Closing the window cancels its free slots only.
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows/" + f.window + "/close", token: other}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows/" + f.window + "/close", token: f.agent}).expect(t, http.StatusOK)
	if got := f.slots(t, anne); len(got) != 0 {
		t.Fatalf("slots of a closed window = %v", got)
	}
	var kept appointmentOut
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: anne}).expect(t, http.StatusOK).decode(t, &kept)
	if kept.Status != "confirmed" {
		t.Fatalf("appointment of a closed window = %+v", kept)
	}

	// Anne's own list: hers only, without the partner's notes.
	var mine struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/me/appointments", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].ID != a.ID {
		t.Fatalf("anne's appointments = %+v", mine)
	}
	h.do(req{method: "GET", path: "/v1/me/appointments", token: bob}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 0 {
		t.Fatalf("bob's appointments = %+v", mine)
	}

	// After the start, the agent records the outcome; the note is the
	// partner's: neither the resident nor the site's manager reads it.
	h.clock.Advance(28*time.Hour + 5*time.Minute) // Tuesday 3 March, 11:05 in Paris
	anne, _ = h.login("anne@example.fr", password)
	f.manager, _ = h.login("manon@example.fr", password)
	f.agent, _ = h.login("claire@caf.example.fr", password)
	var done appointmentOut
	h.do(req{method: "PATCH", path: "/v1/appointments/" + a.ID, token: f.agent, body: map[string]any{"outcome": "follow_up", "note": "Manque l’avis d’imposition"}}).
		expect(t, http.StatusOK).decode(t, &done)
	if done.Outcome == nil || *done.Outcome != "follow_up" || done.OutcomeNote == nil {
		t.Fatalf("outcome = %+v", done)
	}
	for _, tok := range []string{anne, f.manager} {
		var seen appointmentOut
		h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: tok}).expect(t, http.StatusOK).decode(t, &seen)
		if seen.Outcome == nil || seen.OutcomeNote != nil || (tok == anne) != (seen.Name == "") {
			t.Fatalf("seen by a non-agent = %+v", seen)
		}
	}
	h.do(req{method: "PATCH", path: "/v1/appointments/" + a.ID, token: anne, body: map[string]any{"outcome": "held"}}).expect(t, http.StatusForbidden)
	if p := h.do(req{method: "PATCH", path: "/v1/appointments/" + a.ID, token: f.agent, body: map[string]any{"outcome": "maybe"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("outcome") {
		t.Fatalf("bad outcome: %+v", p)
	}
	h.do(req{method: "POST", path: "/v1/appointments/" + a.ID + "/cancel", token: anne}).expect(t, http.StatusConflict)
}

func mergeBody(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// A window must lie within the site's opening hours (8:00–20:00 here, and
// the resource's own when it has some): else 422 naming the field, and
// nothing is published. Other bad windows name their field too.
func TestAppointmentWindowsOutsideOpeningHours(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	base := map[string]any{"site_id": f.site, "resource_id": f.booth, "weekday": "wed", "from": "2026-03-01", "start": "09:00", "end": "12:00", "slot_minutes": 30}
	for _, c := range []struct {
		over  map[string]any
		field string
	}{
		{map[string]any{"start": "07:00"}, "start"},
		{map[string]any{"end": "20:30"}, "end"},
		{map[string]any{"weekday": "", "until": "2026-03-10", "start": "19:00", "end": "21:00"}, "end"},
		{map[string]any{"end": "08:30"}, "end"},
		{map[string]any{"slot_minutes": 0}, "slot_minutes"},
		{map[string]any{"weekday": "someday"}, "weekday"},
		{map[string]any{"weekday": ""}, "until"},
		{map[string]any{"from": "1 March"}, "from"},
		{map[string]any{"resource_id": f.las, "site_id": "0193a000-0000-7000-8000-000000000000"}, "site_id"},
	} {
		p := h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows", token: f.manager, body: mergeBody(base, c.over)}).
			expect(t, http.StatusUnprocessableEntity).problem(t)
		if !p.hasField(c.field) {
			t.Fatalf("%v: %+v", c.over, p)
		}
	}
	var ws struct{ Items []struct{ ID string } }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/windows", token: f.manager}).expect(t, http.StatusOK).decode(t, &ws)
	if len(ws.Items) != 1 || ws.Items[0].ID != f.window {
		t.Fatalf("windows = %+v", ws)
	}
	// Only the site's managers publish: a window promises the site's booth,
	// not the partner's; neither a member nor the partner's agent may.
	_, anne, _ := h.member("anne@example.fr")
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows", token: anne, body: base}).expect(t, http.StatusForbidden)
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows", token: f.agent, body: base}).expect(t, http.StatusForbidden)
	// A range of days works as well as a weekday.
	h.do(req{method: "POST", path: "/v1/partners/" + f.caf + "/windows", token: f.manager,
		body: mergeBody(base, map[string]any{"weekday": "", "from": "2026-03-05", "until": "2026-03-06", "start": "14:00", "end": "15:00", "slot_minutes": 20})}).
		expect(t, http.StatusCreated)
	var out struct{ Items []slotOut }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/slots?from=2026-03-05&to=2026-03-07", token: anne}).expect(t, http.StatusOK).decode(t, &out)
	if len(out.Items) != 6 {
		t.Fatalf("slots of the range = %+v", out.Items)
	}
	// Slots are asked over at most 62 days.
	if p := h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/slots?from=2026-03-05&to=2026-06-07", token: anne}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("to") {
		t.Fatalf("a long range: %+v", p)
	}
}

// Two appointments for one slot: exactly one, on either database, the
// others refused with 409 slot_taken and nothing written.
func TestAppointmentRace(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	const n = 8
	tokens := make([]string, n)
	for i := range tokens {
		_, tokens[i], _ = h.member(fmt.Sprintf("resident%d@example.fr", i))
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.do(req{method: "POST", path: "/v1/appointments", token: tokens[i],
				body: map[string]any{"window_id": f.window, "purpose_id": f.purpose, "start": "2026-03-03T10:00"}})
			statuses[i] = r.Status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Fatalf("statuses = %v", statuses)
		}
	}
	if won != 1 {
		t.Fatalf("%d appointments for one slot; statuses %v", won, statuses)
	}
	var day struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-03", token: f.agent}).expect(t, http.StatusOK).decode(t, &day)
	if len(day.Items) != 1 {
		t.Fatalf("day = %+v", day)
	}
	if got := f.slots(t, tokens[0]); !sameSlots(got, "09:00", "09:30", "10:30", "11:00", "11:30") {
		t.Fatalf("slots = %v", got)
	}
	var booths int
	if err := h.db.NewSelect().Table("reservations").Where("resource_id = ? AND status <> 'cancelled'", f.booth).ColumnExpr("count(*)").Scan(t.Context(), &booths); err != nil {
		t.Fatal(err)
	}
	if booths != 1 {
		t.Fatalf("%d live reservations of the booth", booths)
	}
}

// A guest with an appointment to come is not a stale guest: the retention
// purge keeps them (the appointment's block is the partner's, not theirs,
// so the reservations alone would not say it).
func TestAppointmentKeepsGuestFromPurge(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	mk := func(name string) string {
		var g guestOut
		h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/guests", token: f.manager,
			body: map[string]any{"name": name, "commune": map[string]any{"name": "Guéret"}}}).expect(t, http.StatusCreated).decode(t, &g)
		return g.ID
	}
	waiting, gone := mk("Jeanne Martin"), mk("Gone Away")
	f.book(t, f.manager, map[string]any{"start": "2026-03-03T09:00", "guest_id": waiting}, http.StatusCreated)
	// Both were last changed long ago.
	if _, err := h.db.ExecContext(t.Context(), "UPDATE guests SET updated_at = ? WHERE user_id IN (?, ?)", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), waiting, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := h.api.Privacy.PurgeOld(t.Context()); err != nil {
		t.Fatal(err)
	}
	h.do(req{method: "GET", path: "/v1/guests/" + gone, token: f.admin}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/guests/" + waiting, token: f.admin}).expect(t, http.StatusOK)
}

// POST /v1/appointments honours Idempotency-Key: a retry with the same key
// is answered with the first appointment, and books nothing more.
func TestAppointmentIdempotencyKey(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	body := map[string]any{"window_id": f.window, "purpose_id": f.purpose, "start": "2026-03-03T09:00"}
	key := map[string]string{"Idempotency-Key": "rdv-caf-anne-1"}
	var first, again appointmentOut
	h.do(req{method: "POST", path: "/v1/appointments", token: anne, body: body, headers: key}).expect(t, http.StatusCreated).decode(t, &first)
	r := h.do(req{method: "POST", path: "/v1/appointments", token: anne, body: body, headers: key}).expect(t, http.StatusCreated)
	r.decode(t, &again)
	if again.ID != first.ID || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %+v (%v)", again, r.Header)
	}
	var mine struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/me/appointments", token: anne}).expect(t, http.StatusOK).decode(t, &mine)
	if len(mine.Items) != 1 {
		t.Fatalf("appointments = %+v", mine)
	}
}

// A site's partner is its managers'; a partner's purposes are replaced
// whole, keeping the ids given, and an appointment keeps the checklist it
// was booked with; an inactive partner takes no appointment and is hidden
// from residents.
func TestAppointmentPartners(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	var ml partnerOut
	h.do(req{method: "POST", path: "/v1/partners", token: f.manager, body: map[string]any{"site_id": f.site, "name": "Mission locale", "kind": "mission_locale",
		"purposes": []map[string]any{{"name": "Premier accueil", "documents": []string{"Pièce d’identité"}}}}}).expect(t, http.StatusCreated).decode(t, &ml)
	h.do(req{method: "POST", path: "/v1/partners", token: anne, body: map[string]any{"site_id": f.site, "name": "X", "purposes": []map[string]any{{"name": "Y"}}}}).
		expect(t, http.StatusForbidden)
	if p := h.do(req{method: "POST", path: "/v1/partners", token: f.manager, body: map[string]any{"site_id": f.site, "name": "", "purposes": []map[string]any{}}}).
		expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("name") || !p.hasField("purposes") {
		t.Fatalf("bad partner: %+v", p)
	}
	var list struct{ Items []partnerOut }
	h.do(req{method: "GET", path: "/v1/partners?site_id=" + f.site, token: anne}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("partners = %+v", list)
	}

	// Anne books with the CAF; then the CAF's purposes change.
	a := f.book(t, anne, map[string]any{"start": "2026-03-03T09:00"}, http.StatusCreated)
	var caf partnerOut
	h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.manager, body: map[string]any{"name": "CAF"}}).expect(t, http.StatusForbidden)
	h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.admin, body: map[string]any{"purposes": []map[string]any{
		{"id": f.purpose, "name": "Prime d’activité", "documents": []string{"Pièce d’identité"}}, {"name": "RSA", "documents": []string{}}}}}).
		expect(t, http.StatusOK).decode(t, &caf)
	if len(caf.Purposes) != 2 || caf.Purposes[0].ID != f.purpose || len(caf.Purposes[0].Documents) != 1 {
		t.Fatalf("caf = %+v", caf)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.admin, body: map[string]any{"purposes": []map[string]any{
		{"id": "0193a000-0000-7000-8000-000000000000", "name": "Inconnu"}}}}).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("purposes[0].id") {
		t.Fatalf("unknown purpose id: %+v", p)
	}
	var kept appointmentOut
	h.do(req{method: "GET", path: "/v1/appointments/" + a.ID, token: anne}).expect(t, http.StatusOK).decode(t, &kept)
	if len(kept.Checklist) != 2 {
		t.Fatalf("the appointment's checklist changed: %+v", kept)
	}

	// Inactive: no booking, hidden from residents, still there for the admins.
	h.do(req{method: "PATCH", path: "/v1/partners/" + f.caf, token: f.admin, body: map[string]any{"active": false}}).expect(t, http.StatusOK)
	if p := f.book(t, anne, map[string]any{"start": "2026-03-03T10:00"}, http.StatusConflict); p.ID != "" {
		t.Fatal("booked with an inactive partner")
	}
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf, token: anne}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf, token: f.admin}).expect(t, http.StatusOK)
}

// Appointments are personal data: in the person's export (with the
// partner's note, which is about them), and on erasure the appointments to
// come are cancelled — their slots offered again — and the notes deleted.
func TestAppointmentsInPrivacy(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	anneID, anne, _ := h.member("anne@example.fr")
	past := f.book(t, anne, map[string]any{"start": "2026-03-03T09:00"}, http.StatusCreated)
	next := f.book(t, anne, map[string]any{"start": "2026-03-10T09:00"}, http.StatusCreated)
	h.clock.Advance(26*time.Hour + 30*time.Minute) // Tuesday 3 March, 9:30
	anne, _ = h.login("anne@example.fr", password)
	agent, _ := h.login("claire@caf.example.fr", password)
	h.do(req{method: "PATCH", path: "/v1/appointments/" + past.ID, token: agent, body: map[string]any{"outcome": "follow_up", "note": "Revoir le dossier APL"}}).
		expect(t, http.StatusOK)

	jc := h.privacyJobs()
	h.do(req{method: "POST", path: "/v1/me/export", token: anne}).expect(t, http.StatusAccepted)
	jobstest.WaitCompleted(t, jc, privacy.ExportArgs{}.Kind(), 1)
	files := readZIP(t, h.do(req{method: "GET", path: "/v1/me/export/download", token: anne}).expect(t, http.StatusOK).Body)
	if s := string(files["appointments.json"]); !strings.Contains(s, past.ID) || !strings.Contains(s, next.ID) || !strings.Contains(s, "Revoir le dossier APL") {
		t.Fatalf("appointments.json = %s", s)
	}

	nextSlots := func() int {
		var out struct{ Items []slotOut }
		h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/slots?from=2026-03-10&to=2026-03-10", token: agent}).expect(t, http.StatusOK).decode(t, &out)
		return len(out.Items)
	}
	if n := nextSlots(); n != 5 {
		t.Fatalf("%d slots on 10 March before the erasure", n)
	}
	admin, _ := h.login("admin@relais.test", password)
	h.do(req{method: "DELETE", path: "/v1/users/" + anneID, token: admin}).expect(t, http.StatusNoContent)
	if n := nextSlots(); n != 6 {
		t.Fatalf("%d slots on 10 March after the erasure", n)
	}
	var day struct{ Items []appointmentOut }
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-03", token: agent}).expect(t, http.StatusOK).decode(t, &day)
	if len(day.Items) != 1 || day.Items[0].OutcomeNote != nil || day.Items[0].Outcome == nil {
		t.Fatalf("the past appointment after the erasure = %+v", day.Items)
	}
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/appointments?date=2026-03-10", token: agent}).expect(t, http.StatusOK).decode(t, &day)
	if len(day.Items) != 1 || day.Items[0].Status != "cancelled" {
		t.Fatalf("the next appointment after the erasure = %+v", day.Items)
	}
}

// An agent who leaves is removed by those who run the partner: from then
// on they read none of its appointments, the window that named them goes
// on without a named agent, and the appointments made keep their agent.
// Nobody else removes an agent; removing one twice is 404.
func TestRemoveAgent(t *testing.T) {
	t.Parallel()
	f := newAppointmentFixture(t)
	h := f.h
	_, anne, _ := h.member("anne@example.fr")
	made := f.book(t, anne, map[string]any{"start": f.at(3, 9, 0)}, http.StatusCreated)
	day := "/v1/partners/" + f.caf + "/appointments?date=2026-03-03"
	h.do(req{method: "GET", path: day, token: f.agent}).expect(t, http.StatusOK)

	remove := "/v1/partners/" + f.caf + "/agents/" + f.agentID
	// The CAF is network-wide: the admins run it, not the site's manager.
	h.do(req{method: "DELETE", path: remove, token: f.manager}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: remove, token: anne}).expect(t, http.StatusForbidden)
	h.do(req{method: "DELETE", path: remove, token: f.admin}).expect(t, http.StatusNoContent)
	if p := h.do(req{method: "DELETE", path: remove, token: f.admin}).expect(t, http.StatusNotFound).problem(t); p.Code != "agent_not_found" {
		t.Fatalf("removed twice: %+v", p)
	}

	h.do(req{method: "GET", path: day, token: f.agent}).expect(t, http.StatusNotFound)
	var agents struct {
		Items []struct {
			UserID string `json:"user_id"`
		}
	}
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/agents", token: f.admin}).expect(t, http.StatusOK).decode(t, &agents)
	if len(agents.Items) != 0 {
		t.Fatalf("agents after the removal: %+v", agents.Items)
	}
	var windows struct {
		Items []struct {
			ID      string
			AgentID *string `json:"agent_id"`
		}
	}
	h.do(req{method: "GET", path: "/v1/partners/" + f.caf + "/windows", token: f.manager}).expect(t, http.StatusOK).decode(t, &windows)
	if len(windows.Items) != 1 || windows.Items[0].AgentID != nil {
		t.Fatalf("the window after the removal: %+v", windows.Items)
	}
	var kept struct {
		AgentID *string `json:"agent_id"`
	}
	h.do(req{method: "GET", path: "/v1/appointments/" + made.ID, token: f.manager}).expect(t, http.StatusOK).decode(t, &kept)
	if kept.AgentID == nil || *kept.AgentID != f.agentID {
		t.Fatalf("the appointment made lost its agent: %+v", kept)
	}
	// The window still takes appointments, with no agent's room to give.
	other := f.book(t, anne, map[string]any{"start": f.at(3, 10, 0)}, http.StatusCreated)
	if other.VideoURL != nil {
		t.Errorf("an appointment after the removal carries the former agent's room %q", *other.VideoURL)
	}
}
