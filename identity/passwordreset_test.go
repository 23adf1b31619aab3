package identity_test

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
)

type mailWorld struct {
	svc   *identity.Service
	db    *bun.DB
	mails *mailtest.Server
	jobs  *river.Client[*sql.Tx]
	clock *clock
}

// newMailWorld is an identity service mailing through a real SMTP server,
// with a job client working its mail jobs.
func newMailWorld(t *testing.T, limits identity.RateLimits) *mailWorld {
	t.Helper()
	d := dbtest.New(t)
	srv := mailtest.Start(t)
	smtp, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC()}
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, Mailer: smtp, Jobs: jobstest.Queue(t, d),
		PublicURL: "https://app.example", Now: c.Now, RateLimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	if err := svc.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	jc, err := jobs.New(d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(stop)
	})
	return &mailWorld{svc: svc, db: d, mails: srv, jobs: jc.River(), clock: c}
}

var resetLink = regexp.MustCompile(`https://app\.example/reset-password\?token=([A-Za-z0-9_-]+)`)

// resetToken waits for the n-th reset mail and returns the token of the
// latest mail to addr.
func (w *mailWorld) resetToken(t *testing.T, addr string, n int) string {
	t.Helper()
	jobstest.WaitCompleted(t, w.jobs, identity.PasswordResetMailArgs{}.Kind(), n)
	// The latest reset mail: the registration's verification mail may
	// come before or after it.
	var token string
	for _, m := range w.mails.All(addr) {
		if found := resetLink.FindStringSubmatch(m.Text()); found != nil {
			token = found[1]
		}
	}
	if token == "" {
		t.Fatalf("no reset link in the mails to %s", addr)
	}
	return token
}

func (w *mailWorld) resets(t *testing.T) int {
	t.Helper()
	n, err := w.db.NewSelect().Table("password_resets").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	c := identity.ClientInfo{IP: "192.0.2.1", UserAgent: "test"}
	if _, err := w.svc.Register(ctx, identity.Registration{Email: "anne@example.fr", Password: "correct horse battery", Name: "Anne"}); err != nil {
		t.Fatal(err)
	}
	old, err := w.svc.Login(ctx, "anne@example.fr", "correct horse battery", c)
	if err != nil {
		t.Fatal(err)
	}

	// An unknown address: the same answer, nothing stored, nothing sent.
	if err := w.svc.RequestPasswordReset(ctx, "nobody@example.fr", c); err != nil {
		t.Fatalf("unknown address: %v", err)
	}
	if n := w.resets(t); n != 0 {
		t.Fatalf("%d resets for an unknown address", n)
	}
	if err := w.svc.RequestPasswordReset(ctx, "not an address", c); !isInvalid(err, "email") {
		t.Fatalf("malformed address: %v", err)
	}

	if err := w.svc.RequestPasswordReset(ctx, " Anne@Example.fr ", c); err != nil {
		t.Fatal(err)
	}
	first := w.resetToken(t, "anne@example.fr", 1)
	all := w.mails.All("anne@example.fr")
	var subject, text, html string
	for _, m := range all {
		if s, tx, h := readMail(t, m.Data); resetLink.MatchString(tx) {
			subject, text, html = s, tx, h
		}
	}
	if subject != "Choisissez un nouveau mot de passe" || !regexp.MustCompile("dans les 60 minutes\u00a0:").MatchString(text) ||
		!regexp.MustCompile(`<a href="https://app.example/reset-password\?token=`).MatchString(html) {
		t.Fatalf("reset mail: %q\n%s\n%s", subject, text, html)
	}
	// Only the token's hash is stored.
	var hashes []string
	if err := w.db.NewSelect().Table("password_resets").Column("token_hash").Scan(ctx, &hashes); err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 1 || hashes[0] != identity.HashToken(first) {
		t.Fatalf("stored %q", hashes)
	}

	// Asking again within a minute sends nothing, and says nothing.
	if err := w.svc.RequestPasswordReset(ctx, "anne@example.fr", c); err != nil {
		t.Fatal(err)
	}
	if n := w.resets(t); n != 1 {
		t.Fatalf("%d resets within a minute, want 1", n)
	}
	w.clock.Advance(61 * time.Second)
	if err := w.svc.RequestPasswordReset(ctx, "anne@example.fr", c); err != nil {
		t.Fatal(err)
	}
	second := w.resetToken(t, "anne@example.fr", 2)
	if second == first {
		t.Fatal("two resets share a token")
	}

	// Bad input changes nothing: the token still works afterwards.
	for _, tt := range []struct{ token, password, field string }{
		{first, "short", "new_password"},
		{"unknown", "a new long password", "token"},
		{"", "a new long password", "token"},
	} {
		if err := w.svc.ResetPassword(ctx, tt.token, tt.password, c); !isInvalid(err, tt.field) {
			t.Fatalf("ResetPassword(%q, %q): %v, want invalid %s", tt.token, tt.password, err, tt.field)
		}
	}
	if err := w.svc.ResetPassword(ctx, first, "a new long password", c); err != nil {
		t.Fatal(err)
	}
	// Every session ended: the refresh token from before is refused.
	if _, err := w.svc.Refresh(ctx, old.RefreshToken, c); err == nil {
		t.Fatal("a refresh token from before the reset still works")
	}
	if _, err := w.svc.Login(ctx, "anne@example.fr", "correct horse battery", c); err == nil {
		t.Fatal("the old password still works")
	}
	if _, err := w.svc.Login(ctx, "anne@example.fr", "a new long password", c); err != nil {
		t.Fatalf("the new password: %v", err)
	}
	// The token served once, and the other link of the account ended with it.
	for name, tok := range map[string]string{"reused": first, "other link": second} {
		if err := w.svc.ResetPassword(ctx, tok, "yet another password", c); !isInvalid(err, "token") {
			t.Fatalf("%s: %v", name, err)
		}
	}

	// A link is good for an hour.
	w.clock.Advance(2 * time.Minute)
	if err := w.svc.RequestPasswordReset(ctx, "anne@example.fr", c); err != nil {
		t.Fatal(err)
	}
	third := w.resetToken(t, "anne@example.fr", 3)
	w.clock.Advance(identity.PasswordResetTTL + time.Second)
	if err := w.svc.ResetPassword(ctx, third, "yet another password", c); !isInvalid(err, "token") {
		t.Fatalf("expired: %v", err)
	}
	if n := w.mails.Count("nobody@example.fr"); n != 0 {
		t.Fatalf("%d mails to an unknown address", n)
	}
}

// Requests are limited per client address, known account or not.
func TestPasswordResetLimitedPerAddress(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{PerIP: identity.Limit{Max: 2, Window: time.Minute}})
	ctx := context.Background()
	for i, want := range []bool{true, true, false} {
		err := w.svc.RequestPasswordReset(ctx, "nobody@example.fr", identity.ClientInfo{IP: "192.0.2.1"})
		var rl *errs.RateLimitedError
		if ok := err == nil; ok != want || (!want && !errors.As(err, &rl)) {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if err := w.svc.RequestPasswordReset(ctx, "nobody@example.fr", identity.ClientInfo{IP: "192.0.2.2"}); err != nil {
		t.Fatalf("another address: %v", err)
	}
}
