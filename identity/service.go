// Package identity says who is calling: accounts, passwords, access and
// refresh tokens, API keys, rate limits, roles and per-site rights, and the
// Principal every domain package receives to decide what its caller may do.
// It sits below the domains, so that each of them can take a Principal.
package identity

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/ttlcache"
)

// Config tunes the identity service. Zero values take the defaults.
type Config struct {
	JWTSecret  []byte
	Issuer     string        // default "relais"
	Audience   string        // default "relais-api"
	AccessTTL  time.Duration // default 15 min
	RefreshTTL time.Duration // default 30 days, renewed at each refresh
	Hash       HashParams    // default DefaultHashParams
	RateLimits RateLimits    // zero disables; cmd/relais passes DefaultRateLimits
	Now        func() time.Time
	// PrincipalCacheTTL: how long a verified access token's principal is
	// reused (default DefaultPrincipalCacheTTL; negative disables).
	PrincipalCacheTTL time.Duration
	// Mailer sends email verification links; nil sends nothing.
	Mailer mail.Sender
	// PublicURL, when set, makes verification mails carry a link
	// PublicURL/verify-email?token=… (the app's page) rather than the token
	// and the API call.
	PublicURL string
	// Jobs queues the verification mail of a registration, in the
	// registration's transaction, for the job client serve runs. Required:
	// a registration never waits on the mail relay, and a relay that is
	// down is retried by the job.
	Jobs *jobs.Queue
}

// Service implements the identity use cases over a database.
type Service struct {
	db  *bun.DB
	cfg Config
	// dummyHash is verified when an email is unknown, so that a wrong email
	// costs the same time as a wrong password. It is made on first use: one
	// argon2 run at start would add its 19 MiB to the idle footprint.
	dummyOnce sync.Once
	dummyHash string
	// principals saves the session query for recently seen access tokens.
	// principals maps a verified access token to the principal its
	// session resolved to, saving the session query on most requests.
	principals ttlcache.Cache[string, Principal]
	// jobs sends verification mail through a durable job.
	jobs *jobs.Queue
}

// New returns a Service. cfg.JWTSecret must hold at least 32 bytes, and
// cfg.Jobs is required.
func New(db *bun.DB, cfg Config) (*Service, error) {
	if len(cfg.JWTSecret) < 32 {
		return nil, errors.New("identity: JWT secret must be at least 32 bytes")
	}
	if cfg.Jobs == nil {
		return nil, errors.New("identity: Config.Jobs is required (the verification mail is a job)")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "relais"
	}
	if cfg.Audience == "" {
		cfg.Audience = "relais-api"
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = 15 * time.Minute
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.Hash == (HashParams{}) {
		cfg.Hash = DefaultHashParams
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PrincipalCacheTTL == 0 {
		cfg.PrincipalCacheTTL = DefaultPrincipalCacheTTL
	}
	return &Service{db: db, cfg: cfg, jobs: cfg.Jobs, principals: ttlcache.Cache[string, Principal]{TTL: cfg.PrincipalCacheTTL, Max: principalCacheMax}}, nil
}

func (s *Service) dummy() string {
	s.dummyOnce.Do(func() { s.dummyHash = HashPassword(id.Secret(16), s.cfg.Hash) })
	return s.dummyHash
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// AccessTTL is the lifetime of access tokens, reported to clients as expires_in.
func (s *Service) AccessTTL() time.Duration { return s.cfg.AccessTTL }

// LoadOrCreateJWTSecret returns the signing secret kept in the database,
// creating it on first start. Replicas starting together agree on one secret
// because only the first insert wins.
func LoadOrCreateJWTSecret(ctx context.Context, db bun.IDB, now time.Time) ([]byte, error) {
	row := setting{Key: "jwt_secret", Value: id.Secret(48), CreatedAt: now.UTC()}
	if _, err := db.NewInsert().Model(&row).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("store JWT secret: %w", err)
	}
	var value string
	if err := db.NewSelect().Model((*setting)(nil)).Column("value").Where("key = ?", "jwt_secret").Scan(ctx, &value); err != nil {
		return nil, fmt.Errorf("read JWT secret: %w", err)
	}
	secret, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("stored JWT secret is corrupt: %w", err)
	}
	return secret, nil
}

// PruneExpired deletes refresh tokens, ended sessions, rate-limit windows,
// expired password reset and email change links, and login addresses and
// devices that can no longer matter. It is run by the periodic prune job.
func (s *Service) PruneExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	del := func(q *bun.DeleteQuery, what string) error {
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("prune %s: %w", what, err)
		}
		n, _ := res.RowsAffected()
		total += n
		return nil
	}
	if err := del(s.db.NewDelete().Model((*refreshToken)(nil)).Where("expires_at < ?", now.UTC()), "refresh tokens"); err != nil {
		return total, err
	}
	// A session whose tokens are all gone is over; keep revoked ones a while
	// for the user's "active sessions" history.
	if err := del(s.db.NewDelete().Model((*session)(nil)).
		Where("expires_at < ?", now.UTC().Add(-7*24*time.Hour)).
		Where("NOT EXISTS (SELECT 1 FROM refresh_tokens rt WHERE rt.session_id = s.id)"), "sessions"); err != nil {
		return total, err
	}
	if err := del(s.db.NewDelete().Model((*rateLimitRow)(nil)).Where("expires_at < ?", now.UTC()), "rate limits"); err != nil {
		return total, err
	}
	// A reset link is worth nothing once expired; the mail job finds none
	// and sends nothing.
	if err := del(s.db.NewDelete().Model((*passwordReset)(nil)).Where("expires_at < ?", now.UTC()), "password resets"); err != nil {
		return total, err
	}
	if err := del(s.db.NewDelete().Model((*emailChange)(nil)).Where("expires_at < ?", now.UTC()), "email changes"); err != nil {
		return total, err
	}
	if err := del(s.db.NewDelete().Model((*loginAddress)(nil)).Where("last_login_at < ?", now.UTC().Add(-familiarFor)), "login addresses"); err != nil {
		return total, err
	}
	if err := del(s.db.NewDelete().Model((*loginDevice)(nil)).Where("last_login_at < ?", now.UTC().Add(-familiarFor)), "login devices"); err != nil {
		return total, err
	}
	return total, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
