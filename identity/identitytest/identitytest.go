// Package identitytest builds the principals the rules of every domain are
// asked about in tests, so that a table of "who may do this" names the same
// callers everywhere: a member, a manager of this site, a manager of another,
// an admin, API keys with and without a scope, relais itself.
package identitytest

import (
	"errors"
	"testing"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// Member is a plain member, who manages no site.
func Member() *identity.Principal {
	return &identity.Principal{UserID: "member", Role: identity.RoleMember}
}

// MemberNamed is a plain member whose user id is id, for the tables that
// need a second member beside Member (a buyer, a contributor).
func MemberNamed(id string) *identity.Principal {
	return &identity.Principal{UserID: id, Role: identity.RoleMember}
}

// Manager is a member who manages siteIDs, and no other site.
func Manager(siteIDs ...string) *identity.Principal {
	return &identity.Principal{UserID: "manager", Role: identity.RoleMember, ManagedSites: siteIDs}
}

// Admin administers the whole network.
func Admin() *identity.Principal {
	return &identity.Principal{UserID: "admin", Role: identity.RoleAdmin}
}

// Key is an API key limited to siteID carrying scopes (none when scopes is
// empty).
func Key(siteID string, scopes ...string) *identity.Principal {
	return &identity.Principal{APIKeyID: "key", SiteIDs: []string{siteID}, Scopes: scopes}
}

// KeyOf is an API key that userID holds, limited to siteID carrying scopes:
// for the rules that must not take a member's key for the member.
func KeyOf(userID, siteID string, scopes ...string) *identity.Principal {
	p := Key(siteID, scopes...)
	p.UserID = userID
	return p
}

// System is relais itself (jobs, the demo, the gate): identity.System, named
// here so that tables list it beside the others.
func System() *identity.Principal { return identity.System() }

// Outcome names what a rule answered, for tables to compare: "ok", the code
// of an errs.Problem, "forbidden" for a bare errs.ErrForbidden, or else the
// error's text.
func Outcome(err error) string {
	var p *errs.Problem
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &p):
		return p.Code
	case errors.Is(err, errs.ErrForbidden):
		return "forbidden"
	}
	return err.Error()
}

// Accounts is identity's service over d, for the tests of the domains that
// read accounts through it (names and emails, holds, whether an account is
// still active); queue takes its mail jobs.
func Accounts(t testing.TB, d *bun.DB, queue *jobs.Queue) *identity.Service {
	t.Helper()
	svc, err := identity.New(d, identity.Config{JWTSecret: []byte("identitytest-secret-of-at-least-32-bytes"), Jobs: queue})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
