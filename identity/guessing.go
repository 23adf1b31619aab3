package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// familiarFor is how long an address an account logged in from stays
// familiar to it (see RateLimits).
const familiarFor = 90 * 24 * time.Hour

// loginAddress records that an account logged in from a client address.
type loginAddress struct {
	bun.BaseModel `bun:"table:login_addresses,alias:la"`

	UserID      string    `bun:"user_id,pk"`
	Address     string    `bun:"address,pk"`
	LastLoginAt time.Time `bun:"last_login_at"`
}

// passwordCheck is one check of an account's password, counted against the
// wrong-password limits before it is made (see RateLimits).
type passwordCheck struct {
	counted []countedCheck
}

type countedCheck struct {
	bucket string
	window int64
}

// startPasswordCheck counts a check of the password of the account email
// from client address ip, or refuses it (errs.RateLimitedError) when a limit
// is full. An email without an account is counted the same way, after the
// same queries, so limits and timing reveal no accounts. The caller reports
// the outcome with passwordRight, or leaves it counted when it was wrong.
func (s *Service) startPasswordCheck(ctx context.Context, email, ip string) (*passwordCheck, error) {
	addr := clientAddress(ip)
	c := &passwordCheck{}
	if err := c.count(ctx, s, "wrong-password:"+email+"|"+addr, s.cfg.RateLimits.WrongPasswordsPerAddress); err != nil {
		return nil, err
	}
	// Refused or failed from here on, the check never happens: it must
	// not use up the address's limit.
	abandon := func(err error) (*passwordCheck, error) {
		if uerr := s.passwordRight(ctx, c); uerr != nil {
			return nil, errors.Join(err, uerr)
		}
		return nil, err
	}
	if s.cfg.RateLimits.WrongPasswordsPerAccount.Max <= 0 {
		return c, nil // no account-wide limit: whether addr is familiar does not matter
	}
	familiar, err := s.familiarAddress(ctx, email, addr)
	if err != nil {
		return abandon(err)
	}
	if !familiar {
		if err := c.count(ctx, s, "wrong-password:"+email, s.cfg.RateLimits.WrongPasswordsPerAccount); err != nil {
			return abandon(err)
		}
	}
	return c, nil
}

// count counts c in bucket; a refusal is returned, and the refused event is
// not kept for passwordRight to take back (it fell in a full window).
func (c *passwordCheck) count(ctx context.Context, s *Service, bucket string, l Limit) error {
	window, err := s.count(ctx, bucket, l)
	if err != nil {
		return err
	}
	c.counted = append(c.counted, countedCheck{bucket, window})
	return nil
}

// passwordRight takes c's counts back: only wrong passwords use up the
// limits.
func (s *Service) passwordRight(ctx context.Context, c *passwordCheck) error {
	for _, k := range c.counted {
		if err := s.uncount(ctx, k.bucket, k.window); err != nil {
			return err
		}
	}
	c.counted = nil
	return nil
}

// familiarAddress reports whether the account email logged in from addr in
// the last familiarFor. It runs the same query whether or not the account
// exists.
func (s *Service) familiarAddress(ctx context.Context, email, addr string) (bool, error) {
	if addr == "" {
		return false, nil
	}
	ok, err := s.db.NewSelect().Model((*loginAddress)(nil)).
		Join("JOIN users AS u ON u.id = la.user_id").
		Where("u.email = ? AND la.address = ? AND la.last_login_at >= ?", email, addr, s.now().Add(-familiarFor)).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("read login addresses: %w", err)
	}
	return ok, nil
}

// recordLoginAddress makes ip familiar to the account for familiarFor.
func (s *Service) recordLoginAddress(ctx context.Context, idb bun.IDB, userID, ip string, now time.Time) error {
	addr := clientAddress(ip)
	if addr == "" {
		return nil
	}
	row := &loginAddress{UserID: userID, Address: addr, LastLoginAt: now}
	_, err := idb.NewInsert().Model(row).
		On("CONFLICT (user_id, address) DO UPDATE").
		Set("last_login_at = EXCLUDED.last_login_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record login address: %w", err)
	}
	return nil
}
