package access_test

import (
	"context"
	"testing"
)

// TestDoorGrantChecksIn: the first door the member opens while a booking
// of theirs is under way at the site checks it in; a booking later that
// day is left alone.
func TestDoorGrantChecksIn(t *testing.T) {
	t.Parallel()
	f := newGateFixture(t)
	f.connect(t)
	ctx := context.Background()
	anne := f.member(t, "anne", f.resident)
	f.setClock(f.at(3, 8, 0))
	now := f.book(t, anne.UserID, f.room, f.at(3, 10, 0), f.at(3, 11, 0))
	later := f.book(t, anne.UserID, f.room, f.at(3, 15, 0), f.at(3, 16, 0))
	f.setClock(f.at(3, 9, 50))
	f.waitOnline(t, f.entrance, true)
	if _, err := f.gate.Unlock(ctx, anne, f.entrance.ID, ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id   string
		want bool
	}{{now.ID, true}, {later.ID, false}} {
		r, err := f.cal.GetReservation(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		if (r.CheckedInAt != nil) != c.want {
			t.Errorf("booking at %s: checked in at %v, want checked in %v", r.StartsAt, r.CheckedInAt, c.want)
		}
		if c.want && (!r.CheckedInAt.Equal(f.at(3, 9, 50)) || *r.CheckedInBy != anne.UserID) {
			t.Errorf("checked in at %v by %v, want the door's grant at 09:50 by anne", r.CheckedInAt, *r.CheckedInBy)
		}
	}
}
