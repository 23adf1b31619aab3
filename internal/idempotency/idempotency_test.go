package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/idempotency"
)

func TestBeginCompleteReplayPrune(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := idempotency.New(dbtest.New(t), func() time.Time { return now })
	rec, err := s.Begin(ctx, "user:a", "k1", "POST", "/v1/sites", "h1")
	if err != nil || rec != nil {
		t.Fatalf("first Begin = %v, %v; want a claim", rec, err)
	}
	if _, err := s.Begin(ctx, "user:a", "k1", "POST", "/v1/sites", "h1"); !errors.Is(err, idempotency.ErrInProgress) {
		t.Fatalf("Begin while in progress: %v", err)
	}
	want := idempotency.Record{Status: 201, Headers: map[string]string{"Location": "/v1/sites/x"}, Body: []byte(`{"id":"x"}`)}
	if err := s.Complete(ctx, "user:a", "k1", want); err != nil {
		t.Fatal(err)
	}
	rec, err = s.Begin(ctx, "user:a", "k1", "POST", "/v1/sites", "h1")
	if err != nil || rec == nil || rec.Status != 201 || string(rec.Body) != `{"id":"x"}` || rec.Headers["Location"] != "/v1/sites/x" {
		t.Fatalf("replay = %+v, %v", rec, err)
	}
	if _, err := s.Begin(ctx, "user:a", "k1", "POST", "/v1/sites", "h2"); !errors.Is(err, idempotency.ErrMismatch) {
		t.Fatalf("other body: %v", err)
	}
	if rec, err := s.Begin(ctx, "user:b", "k1", "POST", "/v1/sites", "h2"); err != nil || rec != nil {
		t.Fatalf("same key, other caller: %v, %v; want a fresh claim", rec, err)
	}
	// After 24 h the key is forgotten: pruned, and reusable.
	now = now.Add(25 * time.Hour)
	n, err := s.Prune(ctx, now)
	if err != nil || n != 2 {
		t.Fatalf("prune = %d, %v; want 2", n, err)
	}
	if rec, err := s.Begin(ctx, "user:a", "k1", "POST", "/v1/sites", "h2"); err != nil || rec != nil {
		t.Fatalf("reuse after expiry: %v, %v", rec, err)
	}
}

func TestAbandonedClaimIsTakenOver(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := idempotency.New(dbtest.New(t), func() time.Time { return now })
	s.Begin(ctx, "user:a", "k", "POST", "/v1/x", "h")
	// The process that claimed it died: after a minute the key is free again.
	now = now.Add(2 * time.Minute)
	if rec, err := s.Begin(ctx, "user:a", "k", "POST", "/v1/x", "h"); err != nil || rec != nil {
		t.Fatalf("Begin after an abandoned claim: %v, %v", rec, err)
	}
}
