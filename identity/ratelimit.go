package identity

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// Limit is a fixed-window rate limit: at most Max events per Window.
// A zero Max disables the limit.
type Limit struct {
	Max    int
	Window time.Duration
}

// RateLimits are the limits on the authentication endpoints. They are kept
// in the database, so several replicas behind a load balancer share them.
// A client address is an IPv4 address or an IPv6 client's /64 (one
// subscriber's network, in which a host may pick any of 2^64 addresses).
//
// Wrong passwords are limited twice, so that guessing stays slow without
// letting a stranger lock an account's owner out (which refusing every
// attempt after some failures, whoever makes them, did):
//   - per account and client address: an address that gave too many wrong
//     passwords for an account may not try that account until the window
//     ends, even with the right password. Other addresses are unaffected.
//   - per account, from unfamiliar addresses: wrong passwords from every
//     address the account has not logged in from (in the last 90 days) add
//     up; when they reach the limit, such addresses may not try the account
//     until the window ends. Addresses the owner logged in from are not held
//     to this limit, so an attacker spreading guesses over many addresses
//     blocks only new addresses, never the owner's usual ones.
//
// So a password can be guessed at most WrongPasswordsPerAccount times per
// window from all unfamiliar addresses together, plus
// WrongPasswordsPerAddress times from each address the owner used. Both
// count a check before it is made, and take it back when the password was
// right, so parallel requests cannot outrun them. Password checks on
// PATCH /v1/me (the current password) count with logins.
type RateLimits struct {
	// PerIP bounds login, register, refresh and password-check attempts
	// from one client address.
	PerIP Limit
	// WrongPasswordsPerAddress bounds wrong passwords for one account from
	// one client address.
	WrongPasswordsPerAddress Limit
	// WrongPasswordsPerAccount bounds wrong passwords for one account from
	// all the addresses it has not logged in from, together.
	WrongPasswordsPerAccount Limit
}

// DefaultRateLimits are generous for people and tight for scripts. One
// address alone never reaches the account-wide limit (10 < 30): it takes an
// attacker three addresses to keep an account's owner from logging in from
// a new address for the rest of a quarter hour.
var DefaultRateLimits = RateLimits{
	PerIP:                    Limit{Max: 30, Window: time.Minute},
	WrongPasswordsPerAddress: Limit{Max: 10, Window: 15 * time.Minute},
	WrongPasswordsPerAccount: Limit{Max: 30, Window: 15 * time.Minute},
}

type rateLimitRow struct {
	bun.BaseModel `bun:"table:rate_limits,alias:rl"`

	Bucket      string    `bun:"bucket,pk"`
	WindowStart int64     `bun:"window_start,pk"`
	Hits        int       `bun:"hits"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

func windowOf(l Limit, now time.Time) (start int64, retryAfter time.Duration) {
	w := int64(l.Window / time.Second)
	if w < 1 {
		w = 1
	}
	start = now.Unix() / w * w
	retryAfter = time.Unix(start+w, 0).Sub(now)
	if retryAfter < time.Second {
		retryAfter = time.Second
	}
	return start, retryAfter
}

// hit counts one event in bucket and refuses it when the window is full.
func (s *Service) hit(ctx context.Context, bucket string, l Limit) error {
	_, err := s.count(ctx, bucket, l)
	return err
}

// count counts one event in bucket and refuses it when the window is full
// (the refused event is counted too, in a window already full). It returns
// the window the event was counted in, for uncount; -1 when l is no limit.
func (s *Service) count(ctx context.Context, bucket string, l Limit) (window int64, err error) {
	if l.Max <= 0 {
		return -1, nil
	}
	now := s.now()
	start, retry := windowOf(l, now)
	row := rateLimitRow{Bucket: bucket, WindowStart: start, Hits: 1, ExpiresAt: time.Unix(start, 0).Add(l.Window).UTC()}
	var hits int
	// One statement, so concurrent requests on several replicas count exactly.
	err = s.db.NewInsert().Model(&row).
		On("CONFLICT (bucket, window_start) DO UPDATE").
		Set("hits = rl.hits + 1").
		Returning("hits").
		Scan(ctx, &hits)
	if err != nil {
		return -1, fmt.Errorf("count rate limit %s: %w", bucket, err)
	}
	if hits > l.Max {
		return start, &errs.RateLimitedError{RetryAfter: retry}
	}
	return start, nil
}

// uncount takes back one event that count counted in bucket's window.
func (s *Service) uncount(ctx context.Context, bucket string, window int64) error {
	if window < 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Model((*rateLimitRow)(nil)).Set("hits = hits - 1").
		Where("bucket = ? AND window_start = ? AND hits > 0", bucket, window).Exec(ctx)
	if err != nil {
		return fmt.Errorf("uncount rate limit %s: %w", bucket, err)
	}
	return nil
}

// LimitIP counts an authentication attempt from ip for action.
func (s *Service) LimitIP(ctx context.Context, action, ip string) error {
	return s.hit(ctx, "ip:"+action+":"+clientAddress(ip), s.cfg.RateLimits.PerIP)
}

// clientAddress is what limits count by: an IPv4 address, or the /64 of an
// IPv6 address (a subscriber gets at least a /64, and a host picks any
// address in it). Anything unparsable is taken as it is.
func clientAddress(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
