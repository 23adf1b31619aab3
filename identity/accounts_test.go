package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

// TestAccountsForOtherDomains: what other domains read of accounts, by id
// and by email, with deleted and disabled accounts where each method says.
func TestAccountsForOtherDomains(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, Jobs: jobstest.Queue(t, d)})
	if err != nil {
		t.Fatal(err)
	}
	ada := dbtest.User(t, d, "Ada@Example.org", "Ada")
	gone := dbtest.User(t, d, "gone@example.org", "Gone")
	off := dbtest.User(t, d, "off@example.org", "Off")
	if _, err := d.ExecContext(ctx, "UPDATE users SET deleted_at = CURRENT_TIMESTAMP WHERE id = ?", gone); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, "UPDATE users SET disabled_at = CURRENT_TIMESTAMP, role = 'admin' WHERE id = ?", off); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		id         string
		wantName   string
		wantActive bool
	}{{ada, "Ada", true}, {gone, "Gone", false}, {off, "Off", false}} {
		c, err := svc.Contact(ctx, d, tt.id)
		if err != nil || c.Name != tt.wantName || c.Active != tt.wantActive || c.ID != tt.id {
			t.Errorf("Contact(%s) = %+v, %v; want %s active=%v", tt.wantName, c, err, tt.wantName, tt.wantActive)
		}
	}
	if _, err := svc.Contact(ctx, d, "nobody"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Contact(nobody) = %v, want ErrNotFound", err)
	}
	cs, err := svc.Contacts(ctx, d, []string{ada, gone, "nobody"})
	if err != nil || len(cs) != 2 || cs[ada].Email != "Ada@Example.org" {
		t.Errorf("Contacts = %v, %v; want Ada and Gone", cs, err)
	}

	byEmail, err := svc.ContactsByEmail(ctx, d, []string{" ada@example.ORG", "gone@example.org", "off@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byEmail) != 2 || byEmail["ada@example.org"].ID != ada || byEmail["off@example.org"].ID != off {
		t.Errorf("ContactsByEmail = %v, want Ada and Off (a deleted account has no email)", byEmail)
	}
	if _, err := svc.ContactByEmail(ctx, d, "gone@example.org"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("ContactByEmail(deleted) = %v, want ErrNotFound", err)
	}

	err = d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if c, err := svc.HoldAccount(ctx, tx, ada); err != nil || c.ID != ada {
			t.Errorf("HoldAccount(ada) = %+v, %v", c, err)
		}
		if _, err := svc.HoldAccount(ctx, tx, "nobody"); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("HoldAccount(nobody) = %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if n, err := svc.CountAdmins(ctx); err != nil || n != 1 {
		t.Errorf("CountAdmins = %d, %v; want 1 (the disabled admin counts, deleted ones do not)", n, err)
	}
}
