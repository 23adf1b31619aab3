// Package idempotency remembers the responses to POST requests that carried
// an Idempotency-Key, so a client that retries after a lost response gets the
// first response again instead of a second booking or payment.
package idempotency

import (
	"context"
	"database/sql"
	"encoding/json"
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

// Claim is an Idempotency-Key taken inside the caller's own transaction,
// so that the claim, the work and the stored response commit together:
// one commit where Begin, the work and Complete make three. The caller
// calls Take first in its transaction, Complete last in it; when the
// transaction does not commit an answer (a refusal rolled it back), the
// middleware stores the answer with StoreOutcome.
type Claim struct {
	s                              *Store
	scope, key, method, path, hash string
	stored, replayed               bool
}

// NewClaim prepares a claim; nothing is written until Take.
func (s *Store) NewClaim(scope, key, method, path, requestHash string) *Claim {
	return &Claim{s: s, scope: scope, key: key, method: method, path: path, hash: requestHash}
}

// ReplayError is what Take's caller returns from its transaction when the
// same request already completed: roll back, and answer Record again.
type ReplayError struct{ Record Record }

func (e *ReplayError) Error() string {
	return "idempotent request already completed: replay its answer"
}

// Take claims the key in tx. It returns nil when the caller is to do the
// work and Complete in the same transaction; a *ReplayError when the same
// request already completed; or ErrInProgress / ErrMismatch. On
// PostgreSQL a concurrent transaction holding the same key makes Take wait
// for its outcome.
func (c *Claim) Take(ctx context.Context, tx bun.IDB) error {
	now := c.s.now().UTC()
	for attempt := 0; attempt < 2; attempt++ {
		claim := row{Scope: c.scope, Key: c.key, Method: c.method, Path: c.path, RequestHash: c.hash, CreatedAt: now, ExpiresAt: now.Add(c.s.ttl)}
		res, err := tx.NewInsert().Model(&claim).On("CONFLICT (scope, key) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var prev row
		err = tx.NewSelect().Model(&prev).Where("scope = ? AND key = ?", c.scope, c.key).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if now.After(prev.ExpiresAt) || (prev.Status == 0 && now.Sub(prev.CreatedAt) > c.s.abandonAfter) {
			if _, err := tx.NewDelete().Model((*row)(nil)).
				Where("scope = ? AND key = ? AND created_at = ?", c.scope, c.key, prev.CreatedAt).Exec(ctx); err != nil {
				return fmt.Errorf("drop stale idempotency key: %w", err)
			}
			continue
		}
		if prev.Method != c.method || prev.Path != c.path || prev.RequestHash != c.hash {
			return ErrMismatch
		}
		if prev.Status == 0 {
			return ErrInProgress
		}
		c.replayed = true
		return &ReplayError{Record: Record{Status: prev.Status, Headers: prev.Headers, Body: prev.Body}}
	}
	return ErrInProgress
}

// Complete stores the answer in tx, after Take.
func (c *Claim) Complete(ctx context.Context, tx bun.IDB, rec Record) error {
	_, err := tx.NewUpdate().Model((*row)(nil)).
		Set("status = ?, headers = ?, body = ?", rec.Status, rec.Headers, rec.Body).
		Where("scope = ? AND key = ?", c.scope, c.key).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	c.stored = true
	return nil
}

// Settled reports whether nothing is left to store: the answer was stored
// in the caller's transaction (which the caller then committed), or was a
// replay of an earlier one.
func (c *Claim) Settled() bool { return c.stored || c.replayed }

// StoreOutcome remembers an answer that no transaction stored (the request
// was refused before or inside its transaction, which rolled back). If the
// key was taken meanwhile, the first answer stays.
func (c *Claim) StoreOutcome(ctx context.Context, rec Record) error {
	now := c.s.now().UTC()
	done := row{Scope: c.scope, Key: c.key, Method: c.method, Path: c.path, RequestHash: c.hash,
		Status: rec.Status, Headers: rec.Headers, Body: rec.Body, CreatedAt: now, ExpiresAt: now.Add(c.s.ttl)}
	if _, err := c.s.db.NewInsert().Model(&done).On("CONFLICT (scope, key) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store idempotent response: %w", err)
	}
	return nil
}

// AnswerInsert returns, for PostgreSQL, an INSERT of the key with its
// finished answer, one row per row of from (a CTE of the caller's
// statement): the caller folds taking the key, the work and storing the
// answer into one statement. A key that exists already, finished or
// claimed by a concurrent request, breaks the unique index and so fails
// the whole statement (db.IsUnique): the caller then takes the ordinary
// path, which replays or refuses. Call Stored once the statement (or its
// transaction) committed.
func (c *Claim) AnswerInsert(rec Record, from string) (string, []any, error) {
	headers, err := json.Marshal(rec.Headers)
	if err != nil {
		return "", nil, fmt.Errorf("encode idempotent response headers: %w", err)
	}
	now := c.s.now().UTC()
	return `INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, headers, body, created_at, expires_at)
		SELECT ?, ?, ?, ?, ?, CAST(? AS integer), CAST(? AS jsonb), CAST(? AS bytea), CAST(? AS timestamptz), CAST(? AS timestamptz) FROM ` + from + `
		RETURNING 1`,
		[]any{c.scope, c.key, c.method, c.path, c.hash, rec.Status, string(headers), rec.Body, now, now.Add(c.s.ttl)}, nil
}

// Stored records that the answer was stored by the caller's own statement
// (AnswerInsert), in a transaction that committed.
func (c *Claim) Stored() { c.stored = true }
