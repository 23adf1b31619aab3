package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
)

func TestRegisterLoginMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do(req{method: "POST", path: "/v1/auth/register", body: map[string]string{"email": " Anne@Example.fr", "password": password, "name": "Anne"}}).
		expect(t, http.StatusCreated)
	if strings.Contains(string(r.Body), "argon2") || strings.Contains(string(r.Body), "password") {
		t.Fatalf("register response leaks the password or its hash: %s", r.Body)
	}
	var u struct{ ID, Email, Role string }
	r.decode(t, &u)
	if u.Email != "anne@example.fr" || u.Role != "member" || r.Header.Get("Location") != "/v1/users/"+u.ID {
		t.Fatalf("registered user = %+v, Location %q", u, r.Header.Get("Location"))
	}

	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int    `json:"expires_in"`
	}
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "ANNE@example.fr", "password": password}}).
		expect(t, http.StatusOK).decode(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.RefreshToken == "" {
		t.Fatalf("tokens = %+v", tok)
	}
	var me struct{ ID, Email, Name string }
	h.do(req{method: "GET", path: "/v1/me", token: tok.AccessToken}).expect(t, http.StatusOK).decode(t, &me)
	if me.ID != u.ID || me.Name != "Anne" {
		t.Fatalf("me = %+v", me)
	}
	h.do(req{method: "PATCH", path: "/v1/me", token: tok.AccessToken, body: map[string]string{"name": "Anne B."}}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/me", token: tok.AccessToken}).expect(t, http.StatusOK).decode(t, &me)
	if me.Name != "Anne B." {
		t.Fatalf("name after PATCH = %q", me.Name)
	}
}

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.member("anne@example.fr")
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"duplicate email", map[string]string{"email": "ANNE@example.fr", "password": password, "name": "A"}, http.StatusConflict, ""},
		{"short password", map[string]string{"email": "b@example.fr", "password": "123456789", "name": "B"}, http.StatusUnprocessableEntity, "password"},
		{"bad email", map[string]string{"email": "b@", "password": password, "name": "B"}, http.StatusUnprocessableEntity, "email"},
		{"wrong type", map[string]any{"email": "b@example.fr", "password": 1234567890, "name": "B"}, http.StatusUnprocessableEntity, "password"},
		{"unknown field", map[string]any{"email": "b@example.fr", "password": password, "name": "B", "role": "admin"}, http.StatusBadRequest, "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := h.do(req{method: "POST", path: "/v1/auth/register", body: tt.body}).expect(t, tt.status).problem(t)
			if tt.field != "" && !p.hasField(tt.field) {
				t.Fatalf("problem %+v does not name %q", p, tt.field)
			}
		})
	}
	// None of the refused requests created an account.
	_, at := h.admin()
	var users struct{ Items []struct{ Email string } }
	h.do(req{method: "GET", path: "/v1/users", token: at}).expect(t, http.StatusOK).decode(t, &users)
	if len(users.Items) != 2 {
		t.Fatalf("users after refused registrations = %+v, want anne and the admin", users.Items)
	}
}

func TestLoginDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.member("anne@example.fr")
	wrongPW := h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": "not the password"}}).
		expect(t, http.StatusUnauthorized)
	noUser := h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "nobody@example.fr", "password": "not the password"}}).
		expect(t, http.StatusUnauthorized)
	a, b := wrongPW.problem(t), noUser.problem(t)
	if a.Type != b.Type || a.Detail != b.Detail || a.Code != b.Code {
		t.Fatalf("wrong password and unknown email differ: %+v vs %+v", a, b)
	}
	if wrongPW.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
}

func TestRefreshRotationOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, _, rt := h.member("anne@example.fr")
	var next struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": rt}}).expect(t, http.StatusOK).decode(t, &next)
	h.do(req{method: "GET", path: "/v1/me", token: next.AccessToken}).expect(t, http.StatusOK)
	// Replaying the rotated token revokes the family, including the new pair.
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": rt}}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "GET", path: "/v1/me", token: next.AccessToken}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": next.RefreshToken}}).expect(t, http.StatusUnauthorized)
}

func TestLogoutEndsTheSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, at, rt := h.member("anne@example.fr")
	h.do(req{method: "POST", path: "/v1/auth/logout", token: at}).expect(t, http.StatusNoContent)
	h.do(req{method: "GET", path: "/v1/me", token: at}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": rt}}).expect(t, http.StatusUnauthorized)
}

func TestProtectedRoutesNeedAToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct{ name, header string }{
		{"none", ""},
		{"not bearer", "Basic YWRtaW46YWRtaW4="},
		{"garbage", "Bearer garbage"},
		{"unknown api key", "Bearer rlk_unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(req{method: "GET", path: "/v1/me", headers: map[string]string{"Authorization": tc.header}}).expect(t, http.StatusUnauthorized)
			r.problem(t)
			if r.Header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
	// A bad token on a public route does not block it.
	h.do(req{method: "GET", path: "/healthz", headers: map[string]string{"Authorization": "Bearer garbage"}}).expect(t, http.StatusOK)
}

func TestRateLimitOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRateLimits(identity.RateLimits{PerIP: identity.Limit{Max: 2, Window: time.Minute}}))
	body := map[string]string{"email": "x@example.fr", "password": "whatever-password"}
	h.do(req{method: "POST", path: "/v1/auth/login", body: body}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/login", body: body}).expect(t, http.StatusUnauthorized)
	r := h.do(req{method: "POST", path: "/v1/auth/login", body: body}).expect(t, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	if r.Header.Get("WWW-Authenticate") != "" {
		t.Fatal("429 carries a WWW-Authenticate challenge")
	}
	r.problem(t)
}

func TestPasswordChangeOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, phone, _ := h.member("anne@example.fr")
	laptop, _ := h.login("anne@example.fr", password)
	p := h.do(req{method: "PATCH", path: "/v1/me", token: laptop, body: map[string]string{"new_password": "a much newer password"}}).
		expect(t, http.StatusUnprocessableEntity).problem(t)
	if !p.hasField("current_password") {
		t.Fatalf("problem %+v does not name current_password", p)
	}
	h.do(req{method: "PATCH", path: "/v1/me", token: laptop, body: map[string]string{"current_password": password, "new_password": "a much newer password"}}).
		expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/me", token: phone}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "GET", path: "/v1/me", token: laptop}).expect(t, http.StatusOK)
	h.login("anne@example.fr", "a much newer password")
}

// TestCurrentPasswordChecksAreLimitedOverHTTP: someone holding a member's
// access token cannot guess their password through PATCH /v1/me: after 10
// wrong current passwords the address gets 429, even with the right one,
// and nothing changes.
func TestCurrentPasswordChecksAreLimitedOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRateLimits(identity.DefaultRateLimits))
	_, token, _ := h.member("anne@example.fr")
	change := func(current string) *response {
		return h.do(req{method: "PATCH", path: "/v1/me", token: token,
			body: map[string]string{"current_password": current, "new_password": "the thief's password"}})
	}
	for i := range identity.DefaultRateLimits.WrongPasswordsPerAddress.Max {
		if p := change(fmt.Sprintf("guess number %d", i)).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("current_password") {
			t.Fatalf("guess %d: %+v", i+1, p)
		}
	}
	r := change(password).expect(t, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s <= 0 || s > 15*60 {
		t.Fatalf("Retry-After %q, want seconds within the 15-minute window", r.Header.Get("Retry-After"))
	}
	r.problem(t)
	// Logins from that address count with these checks.
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password}}).
		expect(t, http.StatusTooManyRequests)
	// The window over, the password is the one it was.
	h.clock.Advance(15 * time.Minute)
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": "the thief's password"}}).
		expect(t, http.StatusUnauthorized)
	h.login("anne@example.fr", password)
}
