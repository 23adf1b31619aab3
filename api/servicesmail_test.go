package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
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
}
