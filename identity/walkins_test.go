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
	email := "Marcel@Example.fr"
	if err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := w.svc.EditWalkIn(ctx, tx, u.ID, identity.WalkInEdit{Email: &email})
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
	// Now he has chosen a password: only Marcel changes his account.
	other, name := "other@example.fr", "Marcel D."
	for _, e := range []identity.WalkInEdit{{Email: &other}, {Name: &name}} {
		var p *errs.Problem
		if _, err := w.svc.EditWalkIn(ctx, w.db, u.ID, e); !errors.As(err, &p) || p.Code != "person_edits_own_profile" || !errors.Is(err, errs.ErrForbidden) {
			t.Fatalf("edit after his password: %v", err)
		}
	}
}

// Invitation accepted = email verified: setting the password through the
// invitation link proves the address. A link mailed to an address the desk
// has corrected since stops working, and proves nothing.
func TestInvitationVerifiesEmail(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	c := identity.ClientInfo{IP: "192.0.2.1"}
	var u *identity.User
	if err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
		u, err = w.svc.CreateWalkIn(ctx, tx, identity.WalkIn{Name: "Jeanne", Email: "jeane@example.fr"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, w.jobs, identity.InvitationMailArgs{}.Kind(), 1)
	typo := resetLink.FindStringSubmatch(w.mails.To(t, "jeane@example.fr").Text())
	// The desk corrects the typo, the name and the phone.
	email, name, phone := "jeanne@example.fr", "Jeanne Martin", "+33612345678"
	var got *identity.User
	err := w.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
		got, err = w.svc.EditWalkIn(ctx, tx, u.ID, identity.WalkInEdit{Email: &email, Name: &name, Phone: &phone})
		return err
	})
	if err != nil || got.Email != email || got.Name != name || got.Phone != phone {
		t.Fatalf("edit = %+v, %v", got, err)
	}
	jobstest.WaitCompleted(t, w.jobs, identity.InvitationMailArgs{}.Kind(), 2)
	link := resetLink.FindStringSubmatch(w.mails.To(t, email).Text())
	if typo == nil || link == nil {
		t.Fatal("no invitation link")
	}
	if err := w.svc.ResetPassword(ctx, typo[1], "jeanne long password", c); err == nil {
		t.Fatal("the link mailed to the mistyped address still works")
	}
	if me, _ := w.svc.Me(ctx, &identity.Principal{UserID: u.ID}); me == nil || me.EmailVerifiedAt != nil || !me.AwaitingPassword {
		t.Fatalf("before the invitation is followed: %+v", me)
	}
	if err := w.svc.ResetPassword(ctx, link[1], "jeanne long password", c); err != nil {
		t.Fatal(err)
	}
	me, err := w.svc.Me(ctx, &identity.Principal{UserID: u.ID})
	if err != nil || me.EmailVerifiedAt == nil || me.AwaitingPassword {
		t.Fatalf("after the invitation: %+v, %v", me, err)
	}
}

// A password reset asked by the member (not an invitation) sets the
// password and verifies nothing: it is the invitation that records the
// address it was mailed to.
func TestResetIsNoInvitation(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	c := identity.ClientInfo{IP: "192.0.2.1"}
	u, err := w.svc.Register(ctx, identity.Registration{Email: "paul@example.fr", Password: "paul long password", Name: "Paul"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.svc.RequestPasswordReset(ctx, "paul@example.fr", c); err != nil {
		t.Fatal(err)
	}
	jobstest.WaitCompleted(t, w.jobs, identity.PasswordResetMailArgs{}.Kind(), 1)
	var link []string
	for _, m := range w.mails.All("paul@example.fr") {
		if found := resetLink.FindStringSubmatch(m.Text()); found != nil {
			link = found
		}
	}
	if link == nil {
		t.Fatal("no reset link")
	}
	if err := w.svc.ResetPassword(ctx, link[1], "paul new long password", c); err != nil {
		t.Fatal(err)
	}
	if me, err := w.svc.Me(ctx, &identity.Principal{UserID: u.ID}); err != nil || me.EmailVerifiedAt != nil {
		t.Fatalf("after a reset: %+v, %v", me, err)
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
