package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

// A cached principal never outlives a change made through the same process:
// logout, a disabled account and a role change take effect at once even
// right after the token was seen.
func TestPrincipalCacheClearedByChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _ := newService(t, identity.RateLimits{})
	admin, _, err := svc.EnsureAdmin(ctx, "admin@example.fr", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	adminP := &identity.Principal{UserID: admin.ID, Role: identity.RoleAdmin}
	for _, change := range []string{"logout", "disable", "promote"} {
		t.Run(change, func(t *testing.T) {
			u := register(t, svc, change+"@example.fr")
			tok := login(t, svc, change+"@example.fr")
			p, err := svc.Authenticate(ctx, tok.AccessToken)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, tok.AccessToken); err != nil { // now cached
				t.Fatal(err)
			}
			switch change {
			case "logout":
				err = svc.Logout(ctx, p)
			case "disable":
				yes := true
				_, err = svc.UpdateUser(ctx, adminP, u.ID, identity.UserUpdate{Disabled: &yes})
			case "promote":
				role := identity.RoleAdmin
				_, err = svc.UpdateUser(ctx, adminP, u.ID, identity.UserUpdate{Role: &role})
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err = svc.Authenticate(ctx, tok.AccessToken)
			if change == "promote" {
				if err != nil || !p.IsAdmin() {
					t.Fatalf("after promotion: %+v, %v; want an admin", p, err)
				}
				return
			}
			if !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("access token after %s: %v", change, err)
			}
		})
	}
}

// Two replicas share the database but not their caches: a logout through
// one reaches the other once its cache entry lapses (PrincipalCacheTTL), at
// once when the cache is off.
func TestPrincipalCacheAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	now := func() time.Time { return time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC) }
	queue := jobstest.Queue(t, d)
	replica := func(ttl time.Duration) *identity.Service {
		svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, Now: now, PrincipalCacheTTL: ttl, Jobs: queue})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, longCache, noCache := replica(0), replica(time.Hour), replica(-1)
	register(t, a, "m@example.fr")
	tok := login(t, a, "m@example.fr")
	var p *identity.Principal
	for _, svc := range []*identity.Service{a, longCache, noCache} {
		var err error
		if p, err = svc.Authenticate(ctx, tok.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, tok.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("the replica that logged out: %v", err)
	}
	if _, err := noCache.Authenticate(ctx, tok.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Errorf("a replica without cache: %v", err)
	}
	if _, err := longCache.Authenticate(ctx, tok.AccessToken); err != nil {
		t.Errorf("a replica with a cached principal answers from it until the entry lapses: %v", err)
	}
}
