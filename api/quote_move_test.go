package api_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// The quote of a move is what the move then does: the old slot's minutes
// given back before the new slot is priced, the reservation itself not
// taken for a conflict, and the move's refusals and errors its own.
func TestQuoteMove(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.checkEntitlements(true)
	anneID, anne, _ := h.member("anne@example.fr")
	bobID, bob, _ := h.member("bob@example.fr")
	f.membership(t, anneID, map[string]any{"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 120}}})
	f.membership(t, bobID, map[string]any{"resource_kinds": []string{"room"}})
	var rv struct{ ID string }
	f.book(anne, f.room, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated).decode(t, &rv)
	f.book(bob, f.room, f.at(4, 14, 0), f.at(4, 15, 0)).expect(t, http.StatusCreated)
	path := "/v1/reservations/" + rv.ID + "/quote"

	quoteMove := func(token string, body map[string]any) quoteDoc {
		t.Helper()
		before := rowCounts(t, f)
		var q quoteDoc
		h.do(req{method: "POST", path: path, token: token, body: body}).expect(t, http.StatusOK).decode(t, &q)
		if after := rowCounts(t, f); !reflect.DeepEqual(before, after) {
			t.Fatalf("the quote changed the database: %v, then %v", before, after)
		}
		return q
	}

	// Longer, over its own slot: 90 minutes of the 120, the old 60 given
	// back first.
	longer := map[string]any{"start": f.at(4, 9, 0), "end": f.at(4, 10, 30)}
	q := quoteMove(anne, longer)
	if !q.Bookable || q.Price == nil || q.Price.CoveredBy != "included_minutes" || q.Price.IncludedMinutesUsed != 90 ||
		q.Price.IncludedMinutesLeft == nil || *q.Price.IncludedMinutesLeft != 30 {
		t.Fatalf("quote = %+v (refusal %s, price %+v)", q, q.Refusal, q.Price)
	}
	h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: anne, body: longer}).expect(t, http.StatusOK)
	if minutes, _, _ := f.charged(t, rv.ID); minutes != q.Price.IncludedMinutesUsed {
		t.Fatalf("the move took %d included minutes, quoted %d", minutes, q.Price.IncludedMinutesUsed)
	}

	// Onto Bob's booking: the move's own 409, in the refusal.
	onto := map[string]any{"start": f.at(4, 14, 0), "end": f.at(4, 15, 0)}
	q = quoteMove(anne, onto)
	moved := h.do(req{method: "PATCH", path: "/v1/reservations/" + rv.ID, token: anne, body: onto}).expect(t, http.StatusConflict)
	var got, want map[string]any
	if err := json.Unmarshal(q.Refusal, &got); err != nil {
		t.Fatalf("refusal %s: %v", q.Refusal, err)
	}
	if err := json.Unmarshal(moved.Body, &want); err != nil {
		t.Fatal(err)
	}
	delete(got, "request_id")
	delete(want, "request_id")
	if q.Bookable || q.Price != nil || !reflect.DeepEqual(got, want) || got["code"] != "slot_taken" {
		t.Fatalf("quote %+v, refusal %v, the move's problem %v", q, got, want)
	}

	// Too long for what is left of the month: the entitlement's refusal.
	q = quoteMove(anne, map[string]any{"start": f.at(4, 9, 0), "end": f.at(4, 12, 0)})
	if err := json.Unmarshal(q.Refusal, &got); err != nil || q.Bookable || got["code"] != "included_hours_exhausted" {
		t.Fatalf("quote %+v, refusal %s", q, q.Refusal)
	}

	// Someone else's reservation does not exist for Bob; a malformed time
	// is the move's own error, not a refusal.
	h.do(req{method: "POST", path: path, token: bob, body: longer}).expect(t, http.StatusNotFound)
	h.do(req{method: "POST", path: path, token: anne, body: map[string]any{"start": "tomorrow"}}).expect(t, http.StatusUnprocessableEntity)
}
