package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
type RateLimits struct {
	// PerIP bounds login, register and refresh attempts from one client address.
	PerIP Limit
	// FailedLoginsPerAccount bounds wrong passwords for one email.
	FailedLoginsPerAccount Limit
}

// DefaultRateLimits are generous for people and tight for scripts.
var DefaultRateLimits = RateLimits{
	PerIP:                  Limit{Max: 30, Window: time.Minute},
	FailedLoginsPerAccount: Limit{Max: 10, Window: 15 * time.Minute},
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
	if l.Max <= 0 {
		return nil
	}
	now := s.now()
	start, retry := windowOf(l, now)
	row := rateLimitRow{Bucket: bucket, WindowStart: start, Hits: 1, ExpiresAt: time.Unix(start, 0).Add(l.Window).UTC()}
	var hits int
	// One statement, so concurrent requests on several replicas count exactly.
	err := s.db.NewInsert().Model(&row).
		On("CONFLICT (bucket, window_start) DO UPDATE").
		Set("hits = rl.hits + 1").
		Returning("hits").
		Scan(ctx, &hits)
	if err != nil {
		return fmt.Errorf("count rate limit %s: %w", bucket, err)
	}
	if hits > l.Max {
		return &errs.RateLimitedError{RetryAfter: retry}
	}
	return nil
}

// over reports whether bucket's current window is already full, without
// counting an event.
func (s *Service) over(ctx context.Context, bucket string, l Limit) error {
	if l.Max <= 0 {
		return nil
	}
	now := s.now()
	start, retry := windowOf(l, now)
	var hits int
	err := s.db.NewSelect().Model((*rateLimitRow)(nil)).Column("hits").
		Where("bucket = ? AND window_start = ?", bucket, start).Scan(ctx, &hits)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // nothing counted in this window yet
	}
	if err != nil {
		return fmt.Errorf("read rate limit %s: %w", bucket, err)
	}
	if hits >= l.Max {
		return &errs.RateLimitedError{RetryAfter: retry}
	}
	return nil
}

// LimitIP counts an authentication attempt from ip for action.
func (s *Service) LimitIP(ctx context.Context, action, ip string) error {
	return s.hit(ctx, "ip:"+action+":"+ip, s.cfg.RateLimits.PerIP)
}
