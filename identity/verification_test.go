package identity_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
)

// flakyRelay refuses the first message, as a relay that is down would, then
// hands messages to a real SMTP server.
type flakyRelay struct {
	mail.Sender
	calls atomic.Int32
}

func (f *flakyRelay) Send(ctx context.Context, m mail.Message) error {
	if f.calls.Add(1) == 1 {
		return errors.New("connection refused")
	}
	return f.Sender.Send(ctx, m)
}

// Registration answers without waiting for the relay, and the
// durable job mails the link, retrying a relay that failed.
func TestRegistrationMailGoesThroughAJob(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	srv := mailtest.Start(t)
	smtp, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	relay := &flakyRelay{Sender: smtp}
	ctx := context.Background()
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, Mailer: relay, Jobs: jobstest.Queue(t, d)})
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

	if _, err := svc.Register(ctx, identity.Registration{Email: "Anne@Example.fr", Password: "correct horse battery", Name: "Anne"}); err != nil {
		t.Fatal(err)
	}
	if n := relay.calls.Load(); n != 0 {
		t.Fatalf("registration called the relay %d times itself", n)
	}
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(stop)
	})
	// River retries the failed attempt after about a second.
	jobstest.WaitCompleted(t, jc.River(), identity.VerificationMailArgs{}.Kind(), 1)
	if n := srv.Count("anne@example.fr"); n != 1 || relay.calls.Load() != 2 {
		t.Fatalf("%d mails after %d attempts, want 1 after 2", n, relay.calls.Load())
	}
}

// A service without a job queue could not mail a new member their link: New
// refuses it.
func TestNewNeedsJobs(t *testing.T) {
	t.Parallel()
	if _, err := identity.New(dbtest.New(t), identity.Config{JWTSecret: secret}); err == nil {
		t.Fatal("New without Config.Jobs succeeded")
	}
}

// The verification mail is written in the member's language, with a text
// and an HTML part, French typography in French.
func TestVerificationMailInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	srv := mailtest.Start(t)
	smtp, err := mail.NewSMTP(srv.URL, "relais@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, Mailer: smtp, Jobs: jobstest.Queue(t, d), PublicURL: "https://app.example"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ lang, email, subject, text, html string }{
		{"", "fr@example.fr", "Confirmez votre adresse email", "ouvrez ce lien dans les 48 heures\u00a0:", `<a href="https://app.example/verify-email?token=`},
		{"en", "en@example.fr", "Confirm your email address", "open this link within 48 hours:", `<a href="https://app.example/verify-email?token=`},
	} {
		u, err := svc.Register(ctx, identity.Registration{Email: tt.email, Password: "correct horse battery", Name: "Anne <b>", Language: tt.lang})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.SendEmailVerification(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		subject, text, html := readMail(t, srv.To(t, tt.email).Data)
		if subject != tt.subject || !strings.Contains(text, tt.text) || !strings.Contains(html, tt.html) || !strings.Contains(html, "Anne &lt;b&gt;") {
			t.Errorf("%q: subject %q\ntext %q\nhtml %q", tt.lang, subject, text, html)
		}
	}
	if _, err := svc.Register(ctx, identity.Registration{Email: "de@example.fr", Password: "correct horse battery", Name: "A", Language: "de"}); !isInvalid(err, "language") {
		t.Fatalf("language de: %v", err)
	}
}

// isInvalid reports whether err is a validation error naming field.
func isInvalid(err error, field string) bool {
	var ve *errs.ValidationError
	return errors.As(err, &ve) && len(ve.Fields) > 0 && ve.Fields[0].Field == field
}
