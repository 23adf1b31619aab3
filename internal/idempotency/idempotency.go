// Package idempotency remembers the responses to POST requests that carried
// an Idempotency-Key, so a client that retries after a lost response gets the
// first response again instead of a second booking or payment.
package idempotency

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Record is a stored response.
type Record struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

var (
	// ErrInProgress: the first request with this key is still running.
	ErrInProgress = errors.New("a request with this Idempotency-Key is still in progress")
	// ErrMismatch: the key was used for a different request.
	ErrMismatch = errors.New("this Idempotency-Key was used with a different request")
)

type row struct {
	bun.BaseModel `bun:"table:idempotency_keys,alias:ik"`

	Scope       string            `bun:"scope,pk"`
	Key         string            `bun:"key,pk"`
	Method      string            `bun:"method"`
	Path        string            `bun:"path"`
	RequestHash string            `bun:"request_hash"`
	Status      int               `bun:"status"`
	Headers     map[string]string `bun:"headers"`
	Body        []byte            `bun:"body"`
	CreatedAt   time.Time         `bun:"created_at"`
	ExpiresAt   time.Time         `bun:"expires_at"`
}

// Store keeps records in the database, shared by every replica.
type Store struct {
	db  *bun.DB
	now func() time.Time
	// TTL is how long a key is remembered (24 h).
	ttl time.Duration
	// abandonAfter is when an unfinished claim is taken to be a crashed request.
	abandonAfter time.Duration
}

// New returns a Store. now may be nil.
func New(db *bun.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now, ttl: 24 * time.Hour, abandonAfter: time.Minute}
}

// Begin claims key within scope (the caller's identity) for one request.
// It returns (nil, nil) when the caller must run the request and then call
// Complete or Release; a *Record to replay when the same request already
// completed; or ErrInProgress / ErrMismatch.
func (s *Store) Begin(ctx context.Context, scope, key, method, path, requestHash string) (*Record, error) {
	now := s.now().UTC()
	for attempt := 0; attempt < 2; attempt++ {
		claim := row{Scope: scope, Key: key, Method: method, Path: path, RequestHash: requestHash, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
		res, err := s.db.NewInsert().Model(&claim).On("CONFLICT (scope, key) DO NOTHING").Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil, nil
		}
		var prev row
		err = s.db.NewSelect().Model(&prev).Where("scope = ? AND key = ?", scope, key).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released between our insert and select: try again
		}
		if err != nil {
			return nil, fmt.Errorf("read idempotency key: %w", err)
		}
		stale := now.After(prev.ExpiresAt) || (prev.Status == 0 && now.Sub(prev.CreatedAt) > s.abandonAfter)
		if stale {
			if _, err := s.db.NewDelete().Model((*row)(nil)).
				Where("scope = ? AND key = ? AND created_at = ?", scope, key, prev.CreatedAt).Exec(ctx); err != nil {
				return nil, fmt.Errorf("drop stale idempotency key: %w", err)
			}
			continue
		}
		if prev.Method != method || prev.Path != path || prev.RequestHash != requestHash {
			return nil, ErrMismatch
		}
		if prev.Status == 0 {
			return nil, ErrInProgress
		}
		return &Record{Status: prev.Status, Headers: prev.Headers, Body: prev.Body}, nil
	}
	return nil, ErrInProgress
}

// Complete stores the response of a claimed key.
func (s *Store) Complete(ctx context.Context, scope, key string, rec Record) error {
	_, err := s.db.NewUpdate().Model((*row)(nil)).
		Set("status = ?, headers = ?, body = ?", rec.Status, rec.Headers, rec.Body).
		Where("scope = ? AND key = ?", scope, key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// Release forgets a claim, so the request may be retried with the same key
// (after a server error, which must not be replayed forever).
func (s *Store) Release(ctx context.Context, scope, key string) error {
	_, err := s.db.NewDelete().Model((*row)(nil)).Where("scope = ? AND key = ?", scope, key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// Prune deletes expired keys; the periodic prune job calls it.
func (s *Store) Prune(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.NewDelete().Model((*row)(nil)).Where("expires_at < ?", now.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
