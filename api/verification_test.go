package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

var mailedToken = regexp.MustCompile(`"token": "([A-Za-z0-9_-]+)"`)

// mailJobs starts a job client that works the registration mails, as
// serve's does, and returns its River client for jobstest.WaitCompleted.
func (h *harness) mailJobs() *river.Client[*sql.Tx] {
	h.t.Helper()
	return h.jobClient(h.access.AddWorkers)
}

// jobClient starts a job client with the workers adds register, stopped
// when the test ends, and returns its River client. A test runs one: a
// second client, without some worker, would take that worker's jobs and
// fail them.
func (h *harness) jobClient(adds ...func(*river.Workers) error) *river.Client[*sql.Tx] {
	h.t.Helper()
	workers := river.NewWorkers()
	for _, add := range adds {
		if err := add(workers); err != nil {
			h.t.Fatal(err)
		}
	}
	jc, err := jobs.New(h.db, jobs.Config{Workers: workers})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := jc.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(ctx)
	})
	return jc.River()
}

// verifyEmail follows the latest link mailed to addr.
func (h *harness) verifyEmail(addr string) *response {
	h.t.Helper()
	m := mailedToken.FindStringSubmatch(h.mails.To(h.t, addr).Text())
	if m == nil {
		h.t.Fatalf("no token in the mail to %s", addr)
	}
	return h.do(req{method: "POST", path: "/v1/auth/verify-email", body: map[string]any{"token": m[1]}})
}

// Registering mails a link over SMTP; following it verifies the address,
// once; a member asks for another link at most once a minute, and not
// once verified.
func TestEmailVerificationOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mails := h.mailJobs()
	_, anne, _ := h.member("anne@example.fr")
	jobstest.WaitCompleted(t, mails, identity.VerificationMailArgs{}.Kind(), 1)
	mail := h.mails.To(t, "anne@example.fr")
	tok := mailedToken.FindStringSubmatch(mail.Text())
	if !strings.Contains(mail.Data, "Subject: Confirmez votre adresse email\r\n") || tok == nil {
		t.Fatalf("verification mail:\n%s", mail.Data)
	}
	// Only the token's hash is stored.
	var stored []string
	if err := h.db.NewSelect().Table("email_verifications").Column("token_hash").Scan(context.Background(), &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] == tok[1] || strings.Contains(stored[0], tok[1]) {
		t.Fatalf("stored %q for the token %q", stored, tok[1])
	}
	var me struct {
		EmailVerified bool `json:"email_verified"`
	}
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &me)
	if me.EmailVerified {
		t.Fatal("verified before following the link")
	}

	// Another link: accepted once, then 429 within the minute.
	h.do(req{method: "POST", path: "/v1/me/email-verification", token: anne}).expect(t, http.StatusTooManyRequests)
	h.clock.Advance(2 * 60e9)
	h.do(req{method: "POST", path: "/v1/me/email-verification", token: anne}).expect(t, http.StatusAccepted)
	if n := h.mails.Count("anne@example.fr"); n != 2 {
		t.Fatalf("%d mails to anne, want 2", n)
	}

	// Bad tokens change nothing.
	for _, body := range []map[string]any{{"token": "nope"}, {"token": ""}, {"token": strings.Repeat("x", 300)}} {
		if p := h.do(req{method: "POST", path: "/v1/auth/verify-email", body: body}).expect(t, http.StatusUnprocessableEntity).problem(t); len(p.Errors) != 1 || p.Errors[0].Field != "token" {
			t.Fatalf("problem = %+v", p)
		}
	}
	h.do(req{method: "POST", path: "/v1/auth/verify-email", body: map[string]any{"tokn": "x"}}).expect(t, http.StatusBadRequest)

	// The latest link verifies; used again, it is refused.
	var u struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	h.verifyEmail("anne@example.fr").expect(t, http.StatusOK).decode(t, &u)
	if u.Email != "anne@example.fr" || !u.EmailVerified {
		t.Fatalf("verified user = %+v", u)
	}
	h.verifyEmail("anne@example.fr").expect(t, http.StatusUnprocessableEntity)
	h.do(req{method: "GET", path: "/v1/me", token: anne}).expect(t, http.StatusOK).decode(t, &me)
	if !me.EmailVerified {
		t.Fatal("not verified after following the link")
	}
	h.clock.Advance(2 * 60e9)
	if p := h.do(req{method: "POST", path: "/v1/me/email-verification", token: anne}).expect(t, http.StatusConflict).problem(t); p.Code != "email_already_verified" {
		t.Fatalf("problem = %+v", p)
	}
}

// A link works for 48 hours.
func TestEmailVerificationExpires(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mails := h.mailJobs()
	h.member("bob@example.fr")
	// The link is made by the job: let it run before the clock moves on.
	jobstest.WaitCompleted(t, mails, identity.VerificationMailArgs{}.Kind(), 1)
	h.clock.Advance(49 * 3600e9)
	h.verifyEmail("bob@example.fr").expect(t, http.StatusUnprocessableEntity)
}
