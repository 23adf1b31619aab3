package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// browser is what a browser keeps of a cookie session: its cookies by
// name, sent back as one Cookie header.
type browser map[string]string

func (b browser) take(t *testing.T, resp *response) {
	t.Helper()
	for _, c := range (&http.Response{Header: resp.Header}).Cookies() {
		if c.MaxAge < 0 {
			delete(b, c.Name)
			continue
		}
		b[c.Name] = c.Value
	}
}

func (b browser) header() string {
	var parts []string
	for k, v := range b {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// A browser's session lives in cookies script cannot read: login sets
// them (and answers no token), reads need only them, writes also need the
// CSRF token, refresh rotates them, logout clears them and ends the
// session.
func TestCookieSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.member("anne@example.fr")
	login := h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password, "session": "cookie"}}).
		expect(t, http.StatusOK)
	var session struct {
		TokenType    string  `json:"token_type"`
		CSRFToken    string  `json:"csrf_token"`
		AccessToken  *string `json:"access_token"`
		RefreshToken *string `json:"refresh_token"`
	}
	login.decode(t, &session)
	if session.TokenType != "cookie" || session.CSRFToken == "" || session.AccessToken != nil || session.RefreshToken != nil {
		t.Fatalf("cookie login answered %s", login.Body)
	}
	cookies := (&http.Response{Header: login.Header}).Cookies()
	if len(cookies) != 3 {
		t.Fatalf("cookies %v", login.Header["Set-Cookie"])
	}
	for _, c := range cookies {
		readable := c.Name == "__Host-relais_csrf"
		if !strings.HasPrefix(c.Name, "__Host-") || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" || c.HttpOnly == readable {
			t.Errorf("cookie %s: secure %v, samesite %v, path %q, domain %q, httponly %v", c.Name, c.Secure, c.SameSite, c.Path, c.Domain, c.HttpOnly)
		}
		if readable && c.Value != session.CSRFToken {
			t.Errorf("the CSRF cookie %q is not the answer's %q", c.Value, session.CSRFToken)
		}
	}
	b := browser{}
	b.take(t, login)

	// Reads need the cookie alone.
	h.do(req{method: "GET", path: "/v1/me", headers: map[string]string{"Cookie": b.header()}}).expect(t, http.StatusOK)
	// A write without the CSRF token, or with another, is refused and
	// changes nothing; with it, it goes through.
	rename := func(csrf, name string) *response {
		return h.do(req{method: "PATCH", path: "/v1/me", body: map[string]string{"name": name},
			headers: map[string]string{"Cookie": b.header(), "X-CSRF-Token": csrf}})
	}
	for _, csrf := range []string{"", "forged", strings.ToUpper(session.CSRFToken)} {
		if p := rename(csrf, "Forged").expect(t, http.StatusForbidden).problem(t); p.Code != "csrf_token_invalid" {
			t.Fatalf("csrf %q: %+v", csrf, p)
		}
	}
	var me struct{ Name string }
	rename(session.CSRFToken, "Anne Martin").expect(t, http.StatusOK).decode(t, &me)
	if me.Name != "Anne Martin" {
		t.Fatalf("name %q", me.Name)
	}

	// Refresh from the cookies: the CSRF header must repeat the cookie.
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{}, headers: map[string]string{"Cookie": b.header()}}).
		expect(t, http.StatusForbidden)
	old := b["__Host-relais_refresh"]
	refreshed := h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{},
		headers: map[string]string{"Cookie": b.header(), "X-CSRF-Token": session.CSRFToken}}).expect(t, http.StatusOK)
	b.take(t, refreshed)
	if b["__Host-relais_refresh"] == old || b["__Host-relais_csrf"] != session.CSRFToken {
		t.Fatalf("refresh did not rotate the refresh cookie, or changed the session's CSRF token: %v", refreshed.Header["Set-Cookie"])
	}
	h.do(req{method: "GET", path: "/v1/me", headers: map[string]string{"Cookie": b.header()}}).expect(t, http.StatusOK)

	// Logout clears the cookies and ends the session: the old access
	// cookie no longer works.
	access := b["__Host-relais_session"]
	out := h.do(req{method: "POST", path: "/v1/auth/logout", headers: map[string]string{"Cookie": b.header(), "X-CSRF-Token": session.CSRFToken}}).
		expect(t, http.StatusNoContent)
	b.take(t, out)
	if len(b) != 0 {
		t.Fatalf("cookies left after logout: %v", b)
	}
	h.do(req{method: "GET", path: "/v1/me", headers: map[string]string{"Cookie": "__Host-relais_session=" + access}}).expect(t, http.StatusUnauthorized)
}

// Every answer carries the headers that keep a browser from sniffing,
// framing or running it.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/healthz", "/v1/me", "/v1/nowhere"} {
		resp := h.do(req{method: "GET", path: path})
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s: %s %q, want %q", path, k, got, want)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", path, csp)
		}
	}
}
