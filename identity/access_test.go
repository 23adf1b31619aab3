package identity_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

// cheap keeps argon2 fast in tests; the production cost is benchmarked.
var cheap = identity.HashParams{MemoryKiB: 64, Time: 1, Threads: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var secret = []byte("0123456789abcdef0123456789abcdef")

func newService(t *testing.T, limits identity.RateLimits) (*identity.Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)}
	d := dbtest.New(t)
	svc, err := identity.New(d, identity.Config{JWTSecret: secret, Hash: cheap, RateLimits: limits, Now: c.Now, Jobs: jobstest.Queue(t, d)})
	if err != nil {
		t.Fatal(err)
	}
	return svc, c
}

func register(t *testing.T, svc *identity.Service, email string) *identity.User {
	t.Helper()
	u, err := svc.Register(context.Background(), identity.Registration{Email: email, Password: "correct horse battery", Name: "Test"})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return u
}

func login(t *testing.T, svc *identity.Service, email string) *identity.Tokens {
	t.Helper()
	tok, err := svc.Login(context.Background(), email, "correct horse battery", identity.ClientInfo{IP: "192.0.2.1"})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return tok
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h := identity.HashPassword("s3cret-password", cheap)
	if ok, err := identity.VerifyPassword("s3cret-password", h); err != nil || !ok {
		t.Fatalf("verify right password = %v, %v", ok, err)
	}
	if ok, _ := identity.VerifyPassword("s3cret-passwore", h); ok {
		t.Fatal("verify wrong password = true")
	}
	if h == identity.HashPassword("s3cret-password", cheap) {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	if _, err := identity.VerifyPassword("x", "$2a$10$notargon"); err == nil {
		t.Fatal("foreign hash format accepted")
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	tests := []struct {
		name  string
		reg   identity.Registration
		field string
	}{
		{"bad email", identity.Registration{Email: "nope", Password: "long enough pw", Name: "A"}, "email"},
		{"display name in email", identity.Registration{Email: "A <a@b.fr>", Password: "long enough pw", Name: "A"}, "email"},
		{"short password", identity.Registration{Email: "a@b.fr", Password: "short", Name: "A"}, "password"},
		{"no name", identity.Registration{Email: "a@b.fr", Password: "long enough pw", Name: "  "}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Register(context.Background(), tt.reg)
			var ve *errs.ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want a validation error on %q", err, tt.field)
			}
		})
	}
	register(t, svc, "Anne@Example.FR ")
	_, err := svc.Register(context.Background(), identity.Registration{Email: "anne@example.fr", Password: "another password", Name: "B"})
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("duplicate email (after normalisation): %v, want conflict", err)
	}
}

func TestLoginAndAuthenticate(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	u := register(t, svc, "anne@example.fr")
	tok := login(t, svc, "ANNE@example.fr")
	p, err := svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || p.UserID != u.ID || p.Role != identity.RoleMember {
		t.Fatalf("authenticate = %+v, %v", p, err)
	}
	for _, tc := range []struct{ email, pw string }{
		{"anne@example.fr", "wrong password!"},
		{"nobody@example.fr", "correct horse battery"},
	} {
		_, err := svc.Login(ctx, tc.email, tc.pw, identity.ClientInfo{IP: "192.0.2.1"})
		var pr *errs.Problem
		if !errors.As(err, &pr) || pr.Code != "invalid_credentials" {
			t.Errorf("login(%s) = %v, want invalid_credentials", tc.email, err)
		}
	}
}

func forge(t *testing.T, method jwt.SigningMethod, key any, mutate func(*jwt.MapClaims)) string {
	t.Helper()
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	claims := jwt.MapClaims{"iss": "relais", "aud": "relais-api", "sub": "x", "sid": "y",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if mutate != nil {
		mutate(&claims)
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRejectedAccessTokens(t *testing.T) {
	t.Parallel()
	svc, clk := newService(t, identity.RateLimits{})
	ctx := context.Background()
	u := register(t, svc, "anne@example.fr")
	tok := login(t, svc, "anne@example.fr")
	good, err := svc.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	valid := func(c *jwt.MapClaims) { (*c)["sub"] = u.ID; (*c)["sid"] = good.SessionID }
	// The forged valid token is accepted: the cases below fail for the one
	// reason they name, not for a bad sub or sid.
	if _, err := svc.Authenticate(ctx, forge(t, jwt.SigningMethodHS256, secret, valid)); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := map[string]string{
		"alg none":          forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid),
		"other alg (HS512)": forge(t, jwt.SigningMethodHS512, secret, valid),
		"other alg (RS256)": forge(t, jwt.SigningMethodRS256, rsaKey, valid),
		"other key":         forge(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid),
		"expired": forge(t, jwt.SigningMethodHS256, secret, func(c *jwt.MapClaims) {
			valid(c)
			(*c)["exp"] = time.Date(2026, 3, 10, 8, 59, 0, 0, time.UTC).Unix()
		}),
		"not yet valid": forge(t, jwt.SigningMethodHS256, secret, func(c *jwt.MapClaims) {
			valid(c)
			(*c)["nbf"] = time.Date(2026, 3, 10, 9, 5, 0, 0, time.UTC).Unix()
		}),
		"wrong audience": forge(t, jwt.SigningMethodHS256, secret, func(c *jwt.MapClaims) { valid(c); (*c)["aud"] = "other" }),
		"wrong issuer":   forge(t, jwt.SigningMethodHS256, secret, func(c *jwt.MapClaims) { valid(c); (*c)["iss"] = "other" }),
		"no expiry":      forge(t, jwt.SigningMethodHS256, secret, func(c *jwt.MapClaims) { valid(c); delete(*c, "exp") }),
		"garbage":        "not.a.jwt",
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if p, err := svc.Authenticate(ctx, raw); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("Authenticate = %+v, %v; want unauthenticated", p, err)
			}
		})
	}
	t.Run("expired by the clock", func(t *testing.T) {
		clk.Advance(16 * time.Minute)
		defer clk.Advance(-16 * time.Minute)
		if _, err := svc.Authenticate(ctx, tok.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("token after 16 min: %v, want unauthenticated", err)
		}
	})
}

func TestDisabledAndDeletedUsersLoseAccess(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	admin, _, err := svc.EnsureAdmin(ctx, "admin@example.fr", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	adminP := &identity.Principal{UserID: admin.ID, Role: identity.RoleAdmin}
	for _, action := range []string{"disable", "delete"} {
		t.Run(action, func(t *testing.T) {
			u := register(t, svc, action+"@example.fr")
			tok := login(t, svc, action+"@example.fr")
			if action == "disable" {
				yes := true
				_, err = svc.UpdateUser(ctx, adminP, u.ID, identity.UserUpdate{Disabled: &yes})
			} else {
				err = svc.DeleteUser(ctx, adminP, u.ID)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Authenticate(ctx, tok.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("access token after %s: %v", action, err)
			}
			if _, err := svc.Refresh(ctx, tok.RefreshToken, identity.ClientInfo{}); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("refresh after %s: %v", action, err)
			}
			if _, err := svc.Login(ctx, action+"@example.fr", "correct horse battery", identity.ClientInfo{}); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Errorf("login after %s: %v", action, err)
			}
		})
	}
}

func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	register(t, svc, "anne@example.fr")
	first := login(t, svc, "anne@example.fr")
	second, err := svc.Refresh(ctx, first.RefreshToken, identity.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh returned the same refresh token")
	}
	if _, err := svc.Authenticate(ctx, second.AccessToken); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	// The rotated token comes back: someone copied it. The whole family ends.
	if _, err := svc.Refresh(ctx, first.RefreshToken, identity.ClientInfo{}); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("reuse of rotated token: %v, want unauthenticated", err)
	}
	if _, err := svc.Refresh(ctx, second.RefreshToken, identity.ClientInfo{}); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("descendant token after reuse: %v, want unauthenticated", err)
	}
	if _, err := svc.Authenticate(ctx, second.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("access token of revoked family: %v, want unauthenticated", err)
	}
	// Another login (another family) is untouched.
	other := login(t, svc, "anne@example.fr")
	if _, err := svc.Refresh(ctx, other.RefreshToken, identity.ClientInfo{}); err != nil {
		t.Fatalf("other session: %v", err)
	}
}

func TestConcurrentRefreshGivesOnePair(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	register(t, svc, "anne@example.fr")
	tok := login(t, svc, "anne@example.fr")
	var wg sync.WaitGroup
	results := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Refresh(ctx, tok.RefreshToken, identity.ClientInfo{})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		if err == nil {
			ok++
		} else if !errors.Is(err, errs.ErrUnauthenticated) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok > 1 {
		t.Fatalf("%d concurrent refreshes with one token succeeded, want at most 1", ok)
	}
}

func TestPasswordChangeRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	register(t, svc, "anne@example.fr")
	phone := login(t, svc, "anne@example.fr")
	laptop := login(t, svc, "anne@example.fr")
	p, _ := svc.Authenticate(ctx, laptop.AccessToken)
	wrong, newPW := "not the password", "a brand new password"
	if _, err := svc.UpdateMe(ctx, p, identity.MeUpdate{CurrentPassword: &wrong, NewPassword: &newPW}, identity.ClientInfo{}); err == nil {
		t.Fatal("password change with a wrong current password succeeded")
	}
	if _, err := svc.Authenticate(ctx, phone.AccessToken); err != nil {
		t.Fatal("failed change revoked a session")
	}
	cur := "correct horse battery"
	if _, err := svc.UpdateMe(ctx, p, identity.MeUpdate{CurrentPassword: &cur, NewPassword: &newPW}, identity.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, phone.AccessToken); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("other session after password change: %v", err)
	}
	if _, err := svc.Authenticate(ctx, laptop.AccessToken); err != nil {
		t.Fatalf("current session after password change: %v", err)
	}
	if _, err := svc.Login(ctx, "anne@example.fr", newPW, identity.ClientInfo{}); err != nil {
		t.Fatalf("login with new password: %v", err)
	}
}

func TestLoginRateLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("per IP", func(t *testing.T) {
		svc, clk := newService(t, identity.RateLimits{PerIP: identity.Limit{Max: 3, Window: time.Minute}})
		register(t, svc, "anne@example.fr")
		for i := range 3 {
			if _, err := svc.Login(ctx, "anne@example.fr", "correct horse battery", identity.ClientInfo{IP: "198.51.100.7"}); err != nil {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		_, err := svc.Login(ctx, "anne@example.fr", "correct horse battery", identity.ClientInfo{IP: "198.51.100.7"})
		var rl *errs.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
			t.Fatalf("4th attempt: %v, want rate limited with a retry-after within the window", err)
		}
		if _, err := svc.Login(ctx, "anne@example.fr", "correct horse battery", identity.ClientInfo{IP: "198.51.100.8"}); err != nil {
			t.Fatalf("other IP: %v", err)
		}
		clk.Advance(time.Minute)
		if _, err := svc.Login(ctx, "anne@example.fr", "correct horse battery", identity.ClientInfo{IP: "198.51.100.7"}); err != nil {
			t.Fatalf("next window: %v", err)
		}
	})
}

// TestWrongPasswordLimits: wrong passwords are limited per account and
// client address, and per account from addresses it never logged in from,
// so that guessing stays bounded and nobody can lock the owner out.
func TestWrongPasswordLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const right, wrong = "correct horse battery", "wrong password!"
	limits := identity.DefaultRateLimits
	limits.PerIP = identity.Limit{} // the per-request limit is tested above
	perAddress, perAccount := limits.WrongPasswordsPerAddress.Max, limits.WrongPasswordsPerAccount.Max
	if perAddress != 10 || perAccount != 30 {
		t.Fatalf("premise: limits %d and %d", perAddress, perAccount)
	}
	try := func(svc *identity.Service, ip, pw string) error {
		_, err := svc.Login(ctx, "anne@example.fr", pw, identity.ClientInfo{IP: ip})
		return err
	}
	wrongFrom := func(t *testing.T, svc *identity.Service, ip string, n int) {
		t.Helper()
		for i := range n {
			if err := try(svc, ip, wrong); !errors.Is(err, errs.ErrUnauthenticated) {
				t.Fatalf("wrong password %d from %s: %v, want invalid credentials", i+1, ip, err)
			}
		}
	}
	limited := func(t *testing.T, err error, what string) {
		t.Helper()
		var rl *errs.RateLimitedError
		if !errors.As(err, &rl) || rl.RetryAfter <= 0 || rl.RetryAfter > 15*time.Minute {
			t.Fatalf("%s: %v, want rate limited with a retry-after within 15 minutes", what, err)
		}
	}
	const attacker, owner = "198.51.100.66", "203.0.113.5"

	t.Run("the owner logs in from another address after an attacker's failures", func(t *testing.T) {
		svc, clk := newService(t, limits)
		register(t, svc, "anne@example.fr")
		wrongFrom(t, svc, attacker, perAddress)
		// The attacker's address may not try even the right password...
		limited(t, try(svc, attacker, right), "right password from the attacker's address")
		limited(t, try(svc, attacker, wrong), "one more guess from the attacker's address")
		// ...the owner, from an address never used before, logs in.
		if err := try(svc, owner, right); err != nil {
			t.Fatalf("owner after %d failures elsewhere: %v", perAddress, err)
		}
		// The window over, the attacker's address may try again.
		clk.Advance(15 * time.Minute)
		if err := try(svc, attacker, wrong); !errors.Is(err, errs.ErrUnauthenticated) {
			t.Fatalf("next window: %v", err)
		}
	})

	t.Run("an IPv6 client is one address per /64", func(t *testing.T) {
		svc, _ := newService(t, limits)
		register(t, svc, "anne@example.fr")
		for i := range perAddress {
			wrongFrom(t, svc, fmt.Sprintf("2001:db8:1:2::%x", i+1), 1)
		}
		limited(t, try(svc, "2001:db8:1:2:ffff::1", wrong), "another address of the same /64")
		wrongFrom(t, svc, "2001:db8:1:3::1", 1) // the next /64 is another client
	})

	t.Run("guesses from many addresses are bounded; the owner's addresses are not held", func(t *testing.T) {
		svc, clk := newService(t, limits)
		register(t, svc, "anne@example.fr")
		if err := try(svc, owner, right); err != nil { // the owner's usual address
			t.Fatal(err)
		}
		// An attacker spreads guesses over addresses: each stays under its
		// own limit, and together they reach the account's.
		for a := 0; a < perAccount/perAddress; a++ {
			wrongFrom(t, svc, fmt.Sprintf("198.51.100.%d", a+1), perAddress)
		}
		limited(t, try(svc, "198.51.100.200", wrong), "a fresh attacker address")
		limited(t, try(svc, "192.0.2.44", right), "the right password from an address the account never used")
		// The owner's usual address is not held to the account's limit.
		if err := try(svc, owner, right); err != nil {
			t.Fatalf("owner from a familiar address during the attack: %v", err)
		}
		// It is still held to its own: a guesser there gets 10 tries.
		wrongFrom(t, svc, owner, perAddress)
		limited(t, try(svc, owner, wrong), "the familiar address after its own limit")
		clk.Advance(15 * time.Minute)
		if err := try(svc, "192.0.2.44", right); err != nil {
			t.Fatalf("new address once the window is over: %v", err)
		}
	})

	t.Run("right passwords use up nothing; parallel guesses do not outrun the limit", func(t *testing.T) {
		svc, _ := newService(t, limits)
		register(t, svc, "anne@example.fr")
		wrongFrom(t, svc, attacker, perAddress-1)
		for range 3 {
			if err := try(svc, attacker, right); err != nil {
				t.Fatalf("right password with one wrong one left: %v", err)
			}
		}
		wrongFrom(t, svc, attacker, 1)
		limited(t, try(svc, attacker, wrong), "after the 10th wrong password")

		const n = 25
		errsOf := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() { errsOf <- try(svc, "198.51.100.99", wrong) })
		}
		wg.Wait()
		close(errsOf)
		checked, refused := 0, 0
		for err := range errsOf {
			var rl *errs.RateLimitedError
			switch {
			case errors.Is(err, errs.ErrUnauthenticated):
				checked++
			case errors.As(err, &rl):
				refused++
			default:
				t.Fatalf("parallel guess: %v", err)
			}
		}
		if checked != perAddress || refused != n-perAddress {
			t.Fatalf("%d parallel guesses: %d checked, %d refused; want %d checked", n, checked, refused, perAddress)
		}
	})

	t.Run("current password checks count with logins", func(t *testing.T) {
		svc, _ := newService(t, limits)
		register(t, svc, "anne@example.fr")
		tok := login(t, svc, "anne@example.fr")
		p, err := svc.Authenticate(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		change := func(cur string) error {
			next := "another long password"
			_, err := svc.UpdateMe(ctx, p, identity.MeUpdate{CurrentPassword: &cur, NewPassword: &next}, identity.ClientInfo{IP: attacker})
			return err
		}
		wrongFrom(t, svc, attacker, perAddress/2)
		for i := 0; i < perAddress-perAddress/2; i++ {
			var ve *errs.ValidationError
			if err := change(wrong); !errors.As(err, &ve) {
				t.Fatalf("wrong current password %d: %v", i+1, err)
			}
		}
		limited(t, change(right), "the right current password after 10 wrong passwords")
		limited(t, try(svc, attacker, right), "a login from the same address")
		if err := try(svc, owner, right); err != nil {
			t.Fatalf("owner from another address: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	ctx := context.Background()
	admin, _, _ := svc.EnsureAdmin(ctx, "admin@example.fr", "correct horse battery")
	adminP := &identity.Principal{UserID: admin.ID, Role: identity.RoleAdmin}
	k, secret, err := svc.CreateAPIKey(ctx, adminP, identity.NewAPIKey{Name: "kiosk", Scopes: []string{identity.ScopeSitesRead}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsAPIKey() || p.IsAdmin() || !p.HasScope(identity.ScopeSitesRead) || p.HasScope(identity.ScopeSitesWrite) || !p.AllSites {
		t.Fatalf("principal = %+v", p)
	}
	if _, _, err := svc.CreateAPIKey(ctx, p, identity.NewAPIKey{Name: "x", Scopes: []string{identity.ScopeSitesRead}}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("a key creating a key: %v", err)
	}
	if _, _, err := svc.CreateAPIKey(ctx, adminP, identity.NewAPIKey{Name: "x", Scopes: []string{"root"}}); err == nil {
		t.Fatal("unknown scope accepted")
	}
	if err := svc.RevokeAPIKey(ctx, adminP, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, secret); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("revoked key: %v", err)
	}
	member := register(t, svc, "m@example.fr")
	if _, _, err := svc.CreateAPIKey(ctx, &identity.Principal{UserID: member.ID, Role: identity.RoleMember},
		identity.NewAPIKey{Name: "x", Scopes: []string{identity.ScopeSitesRead}}); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("member creating a key: %v", err)
	}
}

func TestJWTSecretPersists(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	a, err := identity.LoadOrCreateJWTSecret(ctx, d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := identity.LoadOrCreateJWTSecret(ctx, d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 32 || string(a) != string(b) {
		t.Fatalf("secret not stable: %d bytes, equal=%v", len(a), string(a) == string(b))
	}
}

func TestPruneExpired(t *testing.T) {
	t.Parallel()
	svc, clk := newService(t, identity.RateLimits{PerIP: identity.Limit{Max: 100, Window: time.Minute}})
	ctx := context.Background()
	register(t, svc, "anne@example.fr")
	tok := login(t, svc, "anne@example.fr")
	if n, err := svc.PruneExpired(ctx, clk.Now()); err != nil || n != 0 {
		t.Fatalf("prune with nothing expired = %d, %v", n, err)
	}
	// 31 days later the refresh token and the rate-limit window are gone,
	// and 7 days after that the empty session too.
	n, err := svc.PruneExpired(ctx, clk.Now().Add(31*24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("prune after 31 days = %d, %v; want the refresh token and the window", n, err)
	}
	if _, err := svc.Refresh(ctx, tok.RefreshToken, identity.ClientInfo{}); !errors.Is(err, errs.ErrUnauthenticated) {
		t.Fatalf("pruned refresh token still works: %v", err)
	}
	// The refresh attempt above counted in a new rate-limit window.
	n, err = svc.PruneExpired(ctx, clk.Now().Add(40*24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("prune after 40 days = %d, %v; want the session and the new window", n, err)
	}
	// The address and the device Anne logged in from stay familiar for
	// 90 days.
	n, err = svc.PruneExpired(ctx, clk.Now().Add(91*24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("prune after 91 days = %d, %v; want the login address and device", n, err)
	}
}
