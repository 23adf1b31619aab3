package access_test

import (
	"context"
	"testing"

	"github.com/relais-tierslieux/relais/access"
)

// BenchmarkCheckDoor measures the access decision alone (no audit write, no
// MQTT): a member's memberships and door window for a site entrance, a
// reservation for a room's lock.
//
//	go test -run '^$' -bench CheckDoor -benchtime 2000x ./access/
func BenchmarkCheckDoor(b *testing.B) {
	f := newGateFixture(b)
	ctx := context.Background()
	resident := f.member(b, "resident", f.resident)
	now := f.at(3, 10, 0)
	f.setClock(f.at(2, 7, 0))
	f.book(b, resident.UserID, f.room, f.at(3, 9, 0), f.at(3, 12, 0))
	for _, tc := range []struct {
		name string
		lock string
	}{{"entrance", f.entrance.ID}, {"room", f.roomLock.ID}} {
		b.Run(tc.name, func(b *testing.B) {
			d, err := f.dev.Get(ctx, tc.lock)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				ev, err := f.gate.CheckDoor(ctx, resident, d, now)
				if err != nil || ev.Decision != access.Granted {
					b.Fatalf("decision = %+v, %v", ev, err)
				}
			}
		})
	}
}
