package api_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

var changeToken = regexp.MustCompile(`verify-email with \{"token": "([A-Za-z0-9_-]+)"`)

// Changing one's address over HTTP: nothing changes until the link mailed
// to the new address is followed; the old address is told, and works for
// login meanwhile.
func TestEmailChangeOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mails := h.mailJobs()
	_, anne, _ := h.member("anne@example.fr")
	h.member("bob@example.fr")

	type me struct {
		Email         string  `json:"email"`
		PendingEmail  *string `json:"pending_email"`
		EmailVerified bool    `json:"email_verified"`
	}
	// A new address needs the current password, as a new password does:
	// a stolen session must not take the account over through a reset
	// mailed to the thief. Without it, or with a wrong one, nothing is
	// pending.
	for _, body := range []map[string]any{{"email": "thief@example.fr"}, {"email": "thief@example.fr", "current_password": "not the password"}} {
		if p := h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: body}).expect(t, http.StatusUnprocessableEntity).problem(t); !p.hasField("current_password") {
			t.Fatalf("%v: problem = %+v", body, p)
		}
	}
	var before me
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &before)
	if before.PendingEmail != nil {
		t.Fatalf("a refused change left a pending address: %+v", before)
	}
	// Another account's address: 409 as at registration; a malformed one 422.
	if p := h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"email": "Bob@Example.fr", "current_password": password}}).expect(t, http.StatusConflict).problem(t); p.Code != "email_taken" {
		t.Fatalf("problem = %+v", p)
	}
	if p := h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"email": "not an address"}}).expect(t, http.StatusUnprocessableEntity).problem(t); p.Errors[0].Field != "email" {
		t.Fatalf("problem = %+v", p)
	}

	var got me
	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"email": " Anne.New@Example.fr ", "current_password": password}}).expect(t, http.StatusOK).decode(t, &got)
	if got.Email != "anne@example.fr" || got.PendingEmail == nil || *got.PendingEmail != "anne.new@example.fr" {
		t.Fatalf("after the request: %+v", got)
	}
	// Once a minute.
	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"email": "anne.new@example.fr", "current_password": password}}).expect(t, http.StatusTooManyRequests)

	jobstest.WaitCompleted(t, mails, identity.EmailChangeMailArgs{}.Kind(), 1)
	jobstest.WaitCompleted(t, mails, identity.EmailChangeNoticeArgs{}.Kind(), 1)
	link := h.mails.To(t, "anne.new@example.fr")
	tok := changeToken.FindStringSubmatch(link.Text())
	if tok == nil {
		t.Fatalf("link mail:\n%s", link.Data)
	}
	var notice string
	for _, m := range h.mails.All("anne@example.fr") {
		if regexp.MustCompile(`anne\.new@example\.fr`).MatchString(m.Text()) {
			notice = m.Text()
		}
	}
	if notice == "" || changeToken.MatchString(notice) {
		t.Fatalf("notice to the old address: %q", notice)
	}
	// The old address still logs in; the new one does not yet.
	h.login("anne@example.fr", password)
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne.new@example.fr", "password": password}}).expect(t, http.StatusUnauthorized)

	h.do(req{method: "POST", path: "/v1/auth/verify-email", body: map[string]string{"token": tok[1]}}).expect(t, http.StatusOK)
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.Email != "anne.new@example.fr" || got.PendingEmail != nil || !got.EmailVerified {
		t.Fatalf("after confirming: %+v", got)
	}
	h.login("anne.new@example.fr", password)
	h.do(req{method: "POST", path: "/v1/auth/login", body: map[string]string{"email": "anne@example.fr", "password": password}}).expect(t, http.StatusUnauthorized)
	// The link served once.
	h.do(req{method: "POST", path: "/v1/auth/verify-email", body: map[string]string{"token": tok[1]}}).expect(t, http.StatusUnprocessableEntity)
}

// A change whose link has expired is no longer shown as pending: the
// member sees that it did not happen, and may ask again.
func TestLapsedEmailChangeIsNoLongerPending(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, anne, _ := h.member("anne@example.fr")
	var got struct {
		PendingEmail *string `json:"pending_email"`
	}
	h.do(req{method: "PATCH", path: "/v1/me", token: anne, body: map[string]any{"email": "anne.new@example.fr", "current_password": password}}).
		expect(t, http.StatusOK).decode(t, &got)
	if got.PendingEmail == nil {
		t.Fatal("the change is not pending")
	}
	h.clock.Advance(identity.EmailVerificationTTL - time.Minute)
	anne, _ = h.login("anne@example.fr", password) // the first token has expired
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.PendingEmail == nil {
		t.Fatal("the change is no longer pending before its link expires")
	}
	h.clock.Advance(2 * time.Minute)
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &got)
	if got.PendingEmail != nil {
		t.Fatalf("pending_email = %q after its link expired", *got.PendingEmail)
	}
}
