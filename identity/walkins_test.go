package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

// A walk-in without an email: an account nothing can log in to, reset or
// mail, whose email reads "" everywhere; given one later, it is invited.
func TestWalkInWithoutEmail(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	c := identity.ClientInfo{IP: "192.0.2.1"}
	u, err := w.svc.CreateWalkIn(ctx, w.db, identity.WalkIn{Name: "Marcel Dupont", Phone: "+33145678901"})
	if err != nil || u.HasEmail() || u.Email != "" {
		t.Fatalf("walk-in = %+v, %v", u, err)
	}
	var stored string
	if err := w.db.NewSelect().Table("users").Column("email").Where("id = ?", u.ID).Scan(ctx, &stored); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.svc.Contact(ctx, w.db, u.ID); got.Email != "" {
		t.Fatalf("contact email %q", got.Email)
	}
	// The stand-in is not an address: no login, no reset can name it.
	if _, err := w.svc.Login(ctx, stored, "whatever long password", c); err == nil {
		t.Fatal("login with the stand-in")
	}
	if err := w.svc.RequestPasswordReset(ctx, stored, c); err == nil || !strings.Contains(err.Error(), "must be a valid email address") {
		t.Fatalf("reset with the stand-in: %v", err)
	}
	// A second one without an email is no clash.
	if _, err := w.svc.CreateWalkIn(ctx, w.db, identity.WalkIn{Name: "Odile"}); err != nil {
		t.Fatal(err)
	}

	// Given an email, it gets the invitation, and the link works.
	if err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := w.svc.SetWalkInEmail(ctx, tx, u.ID, "Marcel@Example.fr")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, w.jobs, identity.InvitationMailArgs{}.Kind(), 1)
	m := w.mails.To(t, "marcel@example.fr")
	found := resetLink.FindStringSubmatch(m.Text())
	if found == nil || !strings.Contains(m.Text(), "dans les 7\u00a0jours\u00a0:") {
		t.Fatalf("invitation:\n%s", m.Text())
	}
	if err := w.svc.ResetPassword(ctx, found[1], "marcel long password", c); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Login(ctx, "marcel@example.fr", "marcel long password", c); err != nil {
		t.Fatal(err)
	}
	// Now it has one: only Marcel changes it.
	var p *errs.Problem
	if _, err := w.svc.SetWalkInEmail(ctx, w.db, u.ID, "other@example.fr"); !errors.As(err, &p) || p.Code != "has_email" {
		t.Fatalf("second email: %v", err)
	}
}

// An email that has an account is a 409 naming it.
func TestWalkInEmailTaken(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	anne, err := w.svc.Register(ctx, identity.Registration{Email: "anne@example.fr", Password: "anne long password", Name: "Anne"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.svc.CreateWalkIn(ctx, w.db, identity.WalkIn{Name: "Anne", Email: "ANNE@example.fr"})
	var p *errs.Problem
	if !errors.As(err, &p) || p.Code != "email_taken" || p.Extra["user_id"] != anne.ID || !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("err = %v (%+v)", err, p)
	}
}
