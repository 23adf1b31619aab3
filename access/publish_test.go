package access_test

import (
	"context"
	"testing"

	"github.com/relais-tierslieux/relais/access"
)

// TestGatePublishesRefusals: a refused unlock is told to integrators as
// access.denied, with the audit's ids and reason.
func TestGatePublishesRefusals(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	nobody := f.member(t, "nobody", nil)
	f.setClock(f.at(3, 10, 0))
	f.published.Reset()
	if _, err := f.gate.Unlock(context.Background(), nobody, f.entrance.ID, ""); err == nil {
		t.Fatal("unlocked without a membership")
	}
	evs := f.published.Events()
	if len(evs) != 1 || evs[0].Type != access.EventAccessDenied || evs[0].SiteID != f.site.ID {
		t.Fatalf("published %+v", evs)
	}
	data := evs[0].Data.(access.AccessEvent)
	if data.Reason != "no_membership" || data.UserID == nil || *data.UserID != nobody.UserID || *data.DeviceID != f.entrance.ID {
		t.Fatalf("access.denied data %+v", data)
	}
}

// TestGatePublishesGrantsWithTheirAnswer: a manager's unlock of a door
// whose lock is offline is granted, and told as access.granted once the
// answer (here: offline) is recorded.
func TestGatePublishesGrantsWithTheirAnswer(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	m := f.manager(t)
	f.setClock(f.at(3, 10, 0))
	f.published.Reset()
	f.gate.Unlock(context.Background(), m, f.roomLock.ID, "livraison")
	evs := f.published.Events()
	if len(evs) != 1 || evs[0].Type != access.EventAccessGranted {
		t.Fatalf("published %+v", evs)
	}
	if data := evs[0].Data.(access.AccessEvent); data.Outcome != access.OutcomeOffline || data.Reason != "manager" || data.ActorID == nil {
		t.Fatalf("access.granted data %+v", data)
	}
}
