package events_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

type failing struct{ err error }

func (f failing) Publish(context.Context, bun.IDB, events.Event) error { return f.err }

// Fanout hands each event to every publisher in order, and stops at the
// first error, which it returns so that the caller's change rolls back.
func TestFanout(t *testing.T) {
	t.Parallel()
	var a, b, c events.Recorder
	e := events.New("reservation.created", "site", time.Now(), nil)
	if err := events.Fanout(&a, &b).Publish(context.Background(), nil, e); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Types(), []string{e.Type}) || !slices.Equal(b.Types(), []string{e.Type}) {
		t.Fatalf("recorded %v and %v", a.Types(), b.Types())
	}
	boom := errors.New("boom")
	if err := events.Fanout(failing{boom}, &c).Publish(context.Background(), nil, e); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
	if len(c.Events()) != 0 {
		t.Fatal("a publisher after a failing one was called")
	}
}
