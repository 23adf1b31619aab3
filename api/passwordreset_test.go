package api_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

var resetToken = regexp.MustCompile(`password-reset/confirm with \{"token": "([A-Za-z0-9_-]+)"`)

// A forgotten password over HTTP: the same 202 for any address, a link
// mailed through a job, a token that serves once and ends every session.
func TestPasswordResetOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mails := h.mailJobs()
	_, anne, anneRefresh := h.member("anne@example.fr")

	for _, email := range []string{"nobody@example.fr", "anne@example.fr"} {
		h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"email": email}}).expect(t, http.StatusAccepted)
	}
	// The registration's verification mail may come after the reset mail:
	// wait for both, and read the one that is the reset's.
	jobstest.WaitCompleted(t, mails, identity.VerificationMailArgs{}.Kind(), 1)
	jobstest.WaitCompleted(t, mails, identity.PasswordResetMailArgs{}.Kind(), 1)
	if n := h.mails.Count("nobody@example.fr"); n != 0 {
		t.Fatalf("%d mails to an unknown address", n)
	}
	var tok []string
	for _, m := range h.mails.All("anne@example.fr") {
		if found := resetToken.FindStringSubmatch(m.Text()); found != nil {
			tok = found
		}
	}
	if tok == nil {
		t.Fatal("no reset mail to anne")
	}

	// Bad input: a problem naming the field, and nothing changes.
	h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"email": "not an address"}}).expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"mail": "anne@example.fr"}}).expect(t, http.StatusBadRequest)
	for _, tt := range []struct {
		body  map[string]string
		field string
	}{
		{map[string]string{"token": "nope", "new_password": "a new long password"}, "token"},
		{map[string]string{"token": tok[1], "new_password": "short"}, "new_password"},
	} {
		if p := h.do(req{method: "POST", path: "/v1/auth/password-reset/confirm", body: tt.body}).expect(t, http.StatusUnprocessableEntity).problem(t); len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
			t.Fatalf("problem = %+v, want %s", p, tt.field)
		}
	}
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK)

	confirm := req{method: "POST", path: "/v1/auth/password-reset/confirm", body: map[string]string{"token": tok[1], "new_password": "a new long password"}}
	h.do(confirm).expect(t, http.StatusNoContent)
	// Every session ended: the access and refresh tokens from before are refused.
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/refresh", body: map[string]string{"refresh_token": anneRefresh}}).expect(t, http.StatusUnauthorized)
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password}}).expect(t, http.StatusUnauthorized)
	h.login("anne@example.fr", "a new long password")
	// The token served once.
	if p := h.do(confirm).expect(t, http.StatusUnprocessableEntity).problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "token" {
		t.Fatalf("reused token: %+v", p)
	}

	// A retried request with its Idempotency-Key is answered again, and
	// mails nothing more.
	h.clock.Advance(2 * time.Minute)
	retry := req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"email": "anne@example.fr"}, headers: map[string]string{"Idempotency-Key": "reset-1"}}
	h.do(retry).expect(t, http.StatusAccepted)
	h.clock.Advance(2 * time.Minute)
	if r := h.do(retry).expect(t, http.StatusAccepted); r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry not replayed: %v", r.Header)
	}
	jobstest.WaitCompleted(t, mails, identity.PasswordResetMailArgs{}.Kind(), 2)
	var n int
	if err := h.db.NewSelect().Table("password_resets").ColumnExpr("count(*)").Scan(t.Context(), &n); err != nil || n != 2 {
		t.Fatalf("%d resets (%v), want 2", n, err)
	}
}

// Reset requests are limited per client address.
func TestPasswordResetRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRateLimits(identity.RateLimits{PerIP: identity.Limit{Max: 1, Window: time.Minute}}))
	h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"email": "nobody@example.fr"}}).expect(t, http.StatusAccepted)
	h.do(req{method: "POST", path: "/v1/auth/password-reset", body: map[string]string{"email": "nobody@example.fr"}}).expect(t, http.StatusTooManyRequests)
}
