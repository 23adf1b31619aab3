package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// POST /v1/reservations takes its Idempotency-Key inside the booking
// transaction: a retry replays the first answer (a booking or a refusal),
// the key with another body is a 422, and racing duplicates make one
// reservation.
func TestReservationIdempotencyInTransaction(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	_, anne, _ := f.h.member("anne@example.fr")
	_, bob, _ := f.h.member("bob@example.fr")
	book := func(token, key, start, end string) *response {
		return f.h.do(req{method: "POST", path: "/v1/reservations", token: token, headers: map[string]string{"Idempotency-Key": key},
			body: map[string]any{"resource_id": f.desk, "start": start, "end": end}})
	}

	first := book(anne, "k1", f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	again := book(anne, "k1", f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, first.Body) || again.Header.Get("Location") != first.Header.Get("Location") {
		t.Fatalf("replay = %s %v, first = %s", again.Body, again.Header, first.Body)
	}
	if p := book(anne, "k1", f.at(3, 11, 0), f.at(3, 12, 0)).expect(t, http.StatusUnprocessableEntity).problem(t); p.Type != "urn:relais:problem:idempotency_key_reused" {
		t.Fatalf("other body, same key: %+v", p)
	}
	// Another caller's key is theirs: Bob's k1 is a new request, refused
	// because Anne holds the slot; the refusal is what his retry replays,
	// even once the slot is free again.
	refused := book(bob, "k1", f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusConflict)
	var rv struct{ ID string }
	first.decode(t, &rv)
	f.h.do(req{method: "DELETE", path: "/v1/reservations/" + rv.ID, token: anne}).expect(t, http.StatusOK)
	retried := book(bob, "k1", f.at(3, 9, 0), f.at(3, 10, 0)).expect(t, http.StatusConflict)
	if retried.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(retried.Body, refused.Body) {
		t.Fatalf("retry of a refusal = %s %v", retried.Body, retried.Header)
	}

	// Racing duplicates: one reservation; the others replay it or are told
	// the first is still running.
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = book(anne, "race", f.at(4, 9, 0), f.at(4, 10, 0)).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusCreated && s != http.StatusConflict {
			t.Fatalf("statuses = %v", statuses)
		}
	}
	var list struct{ Items []struct{ ID, Status string } }
	f.h.do(req{method: "GET", path: fmt.Sprintf("/v1/reservations?resource_id=%s&status=confirmed", f.desk), token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("%d confirmed reservations after the race, want 1: %+v", len(list.Items), list.Items)
	}

	// With entitlements checked, a member with nothing paid is refused
	// inside the booking transaction (the fast path on PostgreSQL): nothing
	// stays behind, and the retry replays the refusal.
	f.h.checkEntitlements(true)
	defer f.h.checkEntitlements(false)
	_, carl, _ := f.h.member("carl@example.fr")
	unpaid := book(carl, "k2", f.at(5, 9, 0), f.at(5, 10, 0)).expect(t, http.StatusPaymentRequired)
	if again := book(carl, "k2", f.at(5, 9, 0), f.at(5, 10, 0)).expect(t, http.StatusPaymentRequired); again.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body, unpaid.Body) {
		t.Fatalf("retry of a refused booking = %s %v", again.Body, again.Header)
	}
	f.h.do(req{method: "GET", path: fmt.Sprintf("/v1/reservations?resource_id=%s&status=confirmed", f.desk), token: f.manager}).expect(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("a refused booking stayed behind: %+v", list.Items)
	}
}
