package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/api"
	"github.com/relais-tierslieux/relais/internal/qr"
)

func TestCalendarFeedsOverHTTP(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	f.book(anne, f.room, f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)

	usePublicURL(t, f.h, "https://relais.example.fr")
	var tok struct {
		URL, Path string
		QR        string `json:"qr_svg"`
	}
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne}).expect(t, http.StatusCreated).decode(t, &tok)
	if tok.URL != "https://relais.example.fr"+tok.Path || !strings.HasPrefix(tok.Path, "/v1/calendar/") {
		t.Fatalf("token = %+v", tok)
	}
	// The URL as a QR code, drawn by internal/qr (tested there).
	if want, _ := qr.SVG(tok.URL); tok.QR != string(want) || !strings.HasPrefix(tok.QR, "<svg ") {
		t.Errorf("qr_svg = %.80q…", tok.QR)
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
	var replay struct {
		URL *string
		QR  *string `json:"qr_svg"`
	}
	f.h.do(req{method: "POST", path: "/v1/me/calendar-token", token: anne, headers: key}).expect(t, http.StatusCreated).decode(t, &replay)
	if replay.URL != nil || replay.QR != nil {
		t.Fatal("a replay shows the feed URL")
	}
}

// usePublicURL serves h's API again, as `serve --public-url url` does; the
// services and their data stay.
func usePublicURL(t *testing.T, h *harness, url string) {
	d := h.api.Deps
	d.PublicURL = url
	d.Registry = nil // a fresh one: the first server's holds its metrics
	h.api = api.New(d)
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
}

// TestFeedURLIgnoresTheRequestHost: the secret feed URL is built on the
// configured public address, whatever Host and X-Forwarded-* the request
// carries; without one it is null (the client knows where it found the API).
func TestFeedURLIgnoresTheRequestHost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, anne, _ := h.member("anne@example.fr")
	rotate := func() (url *string, path string) {
		t.Helper()
		hr, err := http.NewRequest("POST", h.srv.URL+"/v1/me/calendar-token", nil)
		if err != nil {
			t.Fatal(err)
		}
		hr.Host = "evil.example"
		hr.Header.Set("Authorization", "Bearer "+anne)
		hr.Header.Set("X-Forwarded-Host", "evil.example")
		hr.Header.Set("X-Forwarded-Proto", "https")
		hr.Header.Set("Forwarded", "host=evil.example;proto=https")
		resp, err := h.srv.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		checkAgainstSpec(t, hr, nil, resp, body)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var out struct {
			URL  *string
			Path string
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.Path, "/v1/calendar/") || !strings.HasSuffix(out.Path, ".ics") {
			t.Fatalf("path %q", out.Path)
		}
		if strings.Contains(string(body), "evil.example") {
			t.Fatalf("the request's host made it into the answer: %s", body)
		}
		return out.URL, out.Path
	}

	if url, _ := rotate(); url != nil {
		t.Fatalf("without a public URL: url %q, want null", *url)
	}
	usePublicURL(t, h, "https://tiers-lieu.example.fr/relais")
	if url, path := rotate(); url == nil || *url != "https://tiers-lieu.example.fr/relais"+path {
		t.Fatalf("url %v, want the public URL and %s", url, path)
	}
}
