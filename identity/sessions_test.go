package identity_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may list and end which sessions: the owner only; another account's
// session is not found; an API key has none.
func TestSessionRules(t *testing.T) {
	t.Parallel()
	w := newMailWorld(t, identity.RateLimits{})
	ctx := context.Background()
	c := identity.ClientInfo{IP: "192.0.2.1", UserAgent: "test"}
	for _, email := range []string{"anne@example.fr", "bob@example.fr"} {
		if _, err := w.svc.Register(ctx, identity.Registration{Email: email, Password: "correct horse battery", Name: "X"}); err != nil {
			t.Fatal(err)
		}
	}
	principal := func(email string) *identity.Principal {
		tok, err := w.svc.Login(ctx, email, "correct horse battery", c)
		if err != nil {
			t.Fatal(err)
		}
		p, err := w.svc.Authenticate(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	anne, bob := principal("anne@example.fr"), principal("bob@example.fr")
	for _, tt := range []struct {
		name string
		p    *identity.Principal
		want error
	}{
		{"another account", bob, errs.ErrNotFound},
		{"API key", identitytest.Key("site", identity.ScopeUsersRead), errs.ErrForbidden},
		{"owner", anne, nil},
		{"owner, ended already", anne, errs.ErrNotFound},
	} {
		if err := w.svc.EndSession(ctx, tt.p, anne.SessionID); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("%s: EndSession = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := w.svc.ListSessions(ctx, identitytest.Key("site", identity.ScopeUsersRead), "", 10); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a key lists sessions: %v", err)
	}
	if err := w.svc.EndOtherSessions(ctx, identitytest.Key("site", identity.ScopeUsersRead)); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("a key ends sessions: %v", err)
	}
	pg, err := w.svc.ListSessions(ctx, bob, "", 10)
	if err != nil || len(pg.Items) != 1 || !pg.Items[0].Current || pg.Items[0].UserAgent != "test" {
		t.Fatalf("bob's sessions = %+v, %v", pg, err)
	}
}
