package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/notify"
)

// A booking queues its webhook fan-out and its mail exactly when the
// reservation is written, as serve wires the calendar: on PostgreSQL with
// an Idempotency-Key the jobs travel in the booking's own statement
// (events.Stager), elsewhere in its transaction. Replaying the key, or a
// booking refused for a taken slot, queues nothing more.
func TestBookingQueuesItsJobsWithTheReservation(t *testing.T) {
	t.Parallel()
	f := newCalendarFixture(t)
	h := f.h
	h.calCfg.Events = h.jobs.Publisher(h.api.Deps.Webhooks, notify.NewPublisher(h.jobs))
	h.restart()
	// A desk whose unchecked bookings are released: its release job must
	// commit with the booking too.
	released := f.resource(t, map[string]any{"kind": "desk", "name": "Desk 2", "rules": map[string]int{"release_unchecked_after_minutes": 15}})
	_, anne, _ := h.member("anne@example.fr")
	_, bob, _ := h.member("bob@example.fr")

	staged := func() map[string][]string {
		t.Helper()
		var rows []struct{ Kind, Args string }
		if err := h.db.NewSelect().Table("job_outbox").Column("kind", "args").Scan(context.Background(), &rows); err != nil {
			t.Fatal(err)
		}
		byKind := map[string][]string{}
		for _, r := range rows {
			byKind[r.Kind] = append(byKind[r.Kind], r.Args)
		}
		return byKind
	}
	book := func(token, resource, key string, day int) *response {
		return h.do(req{method: "POST", path: "/v1/reservations", token: token, headers: map[string]string{"Idempotency-Key": key},
			body: map[string]any{"resource_id": resource, "start": f.at(day, 9, 0), "end": f.at(day, 10, 0)}})
	}

	for i, resource := range []string{f.desk, released} {
		var rv struct{ ID string }
		book(anne, resource, "k"+resource, 3).expect(t, http.StatusCreated).decode(t, &rv)
		jobs := staged()
		if n := len(jobs["relais.webhook_fanout"]); n != i+1 {
			t.Fatalf("booking %d: %d webhook fan-out jobs staged, want %d: %v", i+1, n, i+1, jobs)
		}
		if n := len(jobs["notify.booking"]); n != i+1 {
			t.Fatalf("booking %d: %d booking mail jobs staged, want %d: %v", i+1, n, i+1, jobs)
		}
		mail := jobs["notify.booking"][i]
		if !strings.Contains(mail, rv.ID) || !strings.Contains(mail, `"reservation.created"`) {
			t.Errorf("booking %d: mail job %s is not this reservation's creation", i+1, mail)
		}

		before := len(jobs["relais.webhook_fanout"]) + len(jobs["notify.booking"])
		book(anne, resource, "k"+resource, 3).expect(t, http.StatusCreated)
		book(bob, resource, "bob"+resource, 3).expect(t, http.StatusConflict)
		jobs = staged()
		if after := len(jobs["relais.webhook_fanout"]) + len(jobs["notify.booking"]); after != before {
			t.Fatalf("booking %d: a replayed key and a refused booking staged %d jobs", i+1, after-before)
		}
	}
	var releases int
	if err := h.db.NewSelect().Table("river_job").ColumnExpr("count(*)").Where("kind = 'calendar.release_unchecked'").Scan(context.Background(), &releases); err != nil {
		t.Fatal(err)
	}
	if releases != 1 {
		t.Errorf("%d release jobs queued, want the second desk's", releases)
	}
}
