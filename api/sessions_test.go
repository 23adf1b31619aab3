package api_test

import (
	"net/http"
	"testing"
)

// A member sees their sessions, ends one or all the others; another
// account's session is not found; an API key has no sessions.
func TestSessionsOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, phone, phoneRefresh := h.member("anne@example.fr")
	var laptop, laptopRefresh string
	{
		var tok struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		h.do(req{method: "POST", path: "/v1/auth/login", headers: map[string]string{"User-Agent": "Firefox/140"},
			body: map[string]string{"email": "anne@example.fr", "password": password}}).expect(t, http.StatusOK).decode(t, &tok)
		laptop, laptopRefresh = tok.AccessToken, tok.RefreshToken
	}
	_, bob, _ := h.member("bob@example.fr")

	type sess struct {
		ID        string `json:"id"`
		UserAgent string `json:"user_agent"`
		IP        string `json:"ip"`
		Current   bool   `json:"current"`
	}
	var pg struct {
		Items      []sess `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	h.do(req{method: "GET", path: "/v1/me/sessions", token: laptop}).expect(t, http.StatusOK).decode(t, &pg)
	if len(pg.Items) != 2 || pg.Items[0].Current || !pg.Items[1].Current || pg.Items[1].UserAgent != "Firefox/140" || pg.Items[1].IP == "" {
		t.Fatalf("sessions = %+v", pg)
	}
	phoneSession := pg.Items[0].ID
	// Paginated like other lists.
	h.do(req{method: "GET", path: "/v1/me/sessions?limit=1", token: laptop}).expect(t, http.StatusOK).decode(t, &pg)
	if len(pg.Items) != 1 || pg.NextCursor == "" {
		t.Fatalf("first page = %+v", pg)
	}
	next := pg.NextCursor
	pg.NextCursor = "" // absent on the last page: decoding would keep the old one
	h.do(req{method: "GET", path: "/v1/me/sessions?limit=1&cursor=" + next, token: laptop}).expect(t, http.StatusOK).decode(t, &pg)
	if len(pg.Items) != 1 || pg.NextCursor != "" || !pg.Items[0].Current {
		t.Fatalf("second page = %+v", pg)
	}

	// Bob cannot end, nor learn of, Anne's session.
	h.do(req{method: "DELETE", path: "/v1/me/sessions/" + phoneSession, token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "DELETE", path: "/v1/me/sessions/not-an-id", token: bob}).expect(t, http.StatusNotFound)
	h.do(req{method: "GET", path: "/v1/me", token: phone}).expect(t, http.StatusOK)

	// Ending the others leaves the current one.
	h.do(req{method: "DELETE", path: "/v1/me/sessions", token: laptop}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/me", token: phone}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": phoneRefresh}}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "GET", path: "/v1/me/sessions", token: laptop}).expect(t, http.StatusOK).decode(t, &pg)
	if len(pg.Items) != 1 || !pg.Items[0].Current {
		t.Fatalf("after ending the others = %+v", pg)
	}
	// Ending one's own session ends it, as logging out does; twice is 404.
	h.do(req{method: "DELETE", path: "/v1/me/sessions/" + pg.Items[0].ID, token: laptop}).expect(t, http.StatusNoContent)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": laptopRefresh}}).expect(t, http.StatusUnauthorized)

	// An API key has no sessions.
	_, admin := h.admin()
	var key struct{ Secret string }
	h.do(req{method: "POST", path: "/v1/api-keys", token: admin, body: map[string]any{"name": "kiosk", "scopes": []string{"users:read"}}}).
		expect(t, http.StatusCreated).decode(t, &key)
	for _, r := range []req{
		{method: "GET", path: "/v1/me/sessions", token: key.Secret},
		{method: "DELETE", path: "/v1/me/sessions", token: key.Secret},
		{method: "DELETE", path: "/v1/me/sessions/" + phoneSession, token: key.Secret},
	} {
		h.do(r).expect(t, http.StatusForbidden)
	}
}
