package api_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestCalendarFeedsOverHTTP(t *testing.T) {
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)

	var tok struct{ URL, Path string }
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne}).expect(t, http.StatusCreated).decode(t, &tok)
	if !strings.HasSuffix(tok.URL, tok.Path) || !strings.HasPrefix(tok.Path, "/v1/calendar/") {
		t.Fatalf("token = %+v", tok)
	}
	// No Authorization: the URL is the credential.
	r := f.h.do(req{method: "GET", path: tok.Path}).expect(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	body := string(r.Body)
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", "SUMMARY:Salle Lavoisier — La Fabrique", "DTSTART:20260303T080000Z"} {
		if !strings.Contains(body, want) {
			t.Errorf("feed lacks %q:\n%s", want, body)
		}
	}
	etag := r.Header.Get("ETag")
	f.h.do(req{method: "GET", path: tok.Path, headers: map[string]string{"If-None-Match": etag}}).expect(t, http.StatusNotModified)
	// A new booking changes the feed.
	f.book(anne, f.room, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated)
	f.h.do(req{method: "GET", path: tok.Path, headers: map[string]string{"If-None-Match": etag}}).expect(t, http.StatusOK)

	// Rotating ends the old URL; revoking ends the new one.
	var next struct{ Path string }
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne}).expect(t, http.StatusCreated).decode(t, &next)
	f.h.do(req{method: "GET", path: tok.Path}).expect(t, http.StatusNotFound)
	f.h.do(req{method: "GET", path: next.Path}).expect(t, http.StatusOK)
	f.h.do(req{method: "DELETE", path: "/v1/me/calendar-token", token: anne}).expect(t, http.StatusNoContent)
	f.h.do(req{method: "GET", path: next.Path}).expect(t, http.StatusNotFound)
	f.h.do(req{method: "GET", path: "/v1/calendar/not-a-token"}).expect(t, http.StatusNotFound)

	// Managers export their site; members do not.
	r = f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/calendar.ics", token: f.manager}).expect(t, http.StatusOK)
	if strings.Count(string(r.Body), "BEGIN:VEVENT") != 2 {
		t.Fatalf("site export:\n%s", r.Body)
	}
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/calendar.ics", token: anne}).expect(t, http.StatusForbidden)
	f.h.do(req{method: "GET", path: "/v1/resources/" + f.room + "/calendar.ics", token: f.manager}).expect(t, http.StatusOK)
	f.h.do(req{method: "GET", path: "/v1/resources/" + f.room + "/calendar.ics", token: anne}).expect(t, http.StatusForbidden)
	f.h.do(req{method: "GET", path: "/v1/sites/" + f.site + "/calendar.ics?from=2026-01-01T00:00:00Z&to=2027-06-01T00:00:00Z", token: f.manager}).
		expect(t, http.StatusUnprocessableEntity)

	// With an Idempotency-Key, a replay does not show the token again.
	key := map[string]string{"Idempotency-Key": "feed-1"}
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne, headers: key}).expect(t, http.StatusCreated)
	var replay struct{ URL *string }
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne, headers: key}).expect(t, http.StatusCreated).decode(t, &replay)
	if replay.URL != nil {
		t.Fatal("a replay shows the feed URL")
	}
}
