package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// A hot slot (issue 12): many members book the same slot of one resource at
// the same instant, as when a popular machine's bookings open. Exactly the
// resource's capacity wins, every other answer is a 409 naming the
// conflict, and on PostgreSQL no transaction ends in a deadlock (concurrent
// inserts that conflict on the exclusion constraint used to wait for each
// other until deadlock_timeout broke the cycle, a second later).

// ownPostgresDatabase gives the test a PostgreSQL database of its own (the
// harness then makes its schema there), so that pg_stat_database's counters
// for it count this test's sessions only, not those of other packages
// testing on the same server at the same time. Call it before newHarness.
// On SQLite it does nothing.
func ownPostgresDatabase(tb testing.TB) {
	tb.Helper()
	base := os.Getenv(dbtest.EnvURL)
	if base == "" {
		return
	}
	ctx := context.Background()
	admin, err := db.Open(ctx, base)
	if err != nil {
		tb.Fatalf("%s is set but PostgreSQL is not usable: %v", dbtest.EnvURL, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "relais_race_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		// Runs after the harness's own cleanups (last registered, first
		// run) have closed its connections; FORCE ends any left over.
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", dbtest.EnvURL, err)
	}
	u.Path = "/" + name
	tb.Setenv(dbtest.EnvURL, u.String())
}

// deadlocks returns pg_stat_database.deadlocks of the current database
// (-1 on SQLite). PostgreSQL 15 counts a deadlock in the session that
// detected it and publishes its counts to pg_stat_database when that
// session next flushes them: at the end of a transaction, but not more
// often than once a second, so a read just after a race can miss it.
// pg_stat_force_next_flush() makes the session flush at the end of the
// current transaction whatever the interval, before it answers; so every
// connection of d's pool (which served the race) runs it first.
func deadlocks(tb testing.TB, d *bun.DB) int64 {
	tb.Helper()
	if db.IsSQLite(d) {
		return -1
	}
	ctx := context.Background()
	// Hold every open connection at once, so that each one is flushed.
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range max(d.DB.Stats().OpenConnections, 1) {
		c, err := d.DB.Conn(ctx)
		if err != nil {
			tb.Fatalf("connection: %v", err)
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
			tb.Fatalf("flush statistics: %v", err)
		}
	}
	var n int64
	// A new transaction reads the statistics afresh (stats_fetch_consistency
	// keeps a snapshot only until the transaction ends).
	if err := conns[0].QueryRowContext(ctx, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").Scan(&n); err != nil {
		tb.Fatalf("read deadlocks: %v", err)
	}
	return n
}

// raceCall is one request of a race.
type raceCall struct {
	path, token string
	body        []byte
	key         string // Idempotency-Key, if any
}

// raceAnswer is what one request of a race got, and how long it took.
type raceAnswer struct {
	status int
	code   string // the problem's code, for a refusal
	took   time.Duration
	err    error
}

// race sends every call at once: each goroutine builds its request, then
// all wait for one signal and send.
func race(client *http.Client, baseURL string, calls []raceCall) []raceAnswer {
	out := make([]raceAnswer, len(calls))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			req, err := http.NewRequest("POST", baseURL+c.path, bytes.NewReader(c.body))
			if err != nil {
				out[i].err = err
				ready.Done()
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+c.token)
			if c.key != "" {
				req.Header.Set("Idempotency-Key", c.key)
			}
			ready.Done()
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				out[i].err = err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			out[i].took = time.Since(t0)
			out[i].status = resp.StatusCode
			if err != nil {
				out[i].err = err
				return
			}
			if resp.StatusCode >= 400 {
				var p struct{ Code string }
				if err := json.Unmarshal(body, &p); err != nil {
					out[i].err = fmt.Errorf("status %d, body %s: %w", resp.StatusCode, body, err)
					return
				}
				out[i].code = p.Code
			}
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// hotSlot is a fixture of racers: members who may all book its resources.
type hotSlot struct {
	f      *calendarFixture
	users  []string
	tokens []string
	client *http.Client
	keys   int // Idempotency-Keys handed out
}

func newHotSlot(tb testing.TB, racers int) *hotSlot {
	tb.Helper()
	ownPostgresDatabase(tb)
	f := newCalendarFixture(tb)
	hs := &hotSlot{f: f, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: racers}}}
	tb.Cleanup(hs.client.CloseIdleConnections)
	for i := range racers {
		userID, token, _ := f.h.member(fmt.Sprintf("racer%d@example.fr", i))
		// The laser needs its training.
		f.h.do(req{method: "POST", path: "/v1/qualifications/" + f.qual + "/grants", token: f.manager, body: map[string]any{"user_id": userID}}).expect(tb, http.StatusCreated)
		hs.users = append(hs.users, userID)
		hs.tokens = append(hs.tokens, token)
	}
	return hs
}

// calls builds one identical booking per racer of resource from start to
// end (site-local wall-clock times); with rrule, a series. withKey tells
// which racers send an Idempotency-Key, as members' apps do (a booking with
// one can take PostgreSQL's one-statement path).
func (hs *hotSlot) calls(resource, start, end, rrule string, withKey func(i int) bool) []raceCall {
	path := "/v1/reservations"
	body := map[string]any{"resource_id": resource, "start": start, "end": end}
	if rrule != "" {
		path = "/v1/reservations/series"
		body["rrule"] = rrule
	}
	raw, _ := json.Marshal(body)
	out := make([]raceCall, len(hs.tokens))
	for i, token := range hs.tokens {
		out[i] = raceCall{path: path, token: token, body: raw}
		if withKey(i) {
			hs.keys++
			out[i].key = "race-" + strconv.Itoa(hs.keys)
		}
	}
	return out
}

// TestHotSlotRaceEndsWithoutDeadlock races 30 members for one slot of each
// kind of resource, and for one series: exactly the capacity wins, every
// other answer is the conflict (409, not a 500), and on PostgreSQL the
// database counts no deadlock. Half the racers send an Idempotency-Key, so
// both of PostgreSQL's booking paths race.
func TestHotSlotRaceEndsWithoutDeadlock(t *testing.T) {
	const racers = 30
	hs := newHotSlot(t, racers)
	f := hs.f
	// A desk booked once before the race: the replica then knows it (its
	// resource cache), as it knows a popular machine when bookings open.
	f.book(f.manager, f.desk, f.at(4, 9, 0), f.at(4, 10, 0)).expect(t, http.StatusCreated)
	half := func(i int) bool { return i%2 == 0 }
	for _, tc := range []struct {
		name, resource, rrule string
		winners               int
		code                  string
	}{
		{"desk", f.desk, "", 1, "slot_taken"},
		{"room", f.room, "", 1, "slot_taken"},
		{"machine", f.las, "", 1, "slot_taken"},
		{"zone", f.zone, "", 10, "slot_taken"}, // ten seats
		{"series", f.desk, "FREQ=DAILY;COUNT=3", 1, "occurrences_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			day := 5
			if tc.rrule != "" {
				day = 10 // clear of the desk's race on the 5th
			}
			before := deadlocks(t, f.h.db)
			answers := race(hs.client, f.h.srv.URL, hs.calls(tc.resource, f.at(day, 9, 0), f.at(day, 10, 0), tc.rrule, half))
			after := deadlocks(t, f.h.db)
			won := 0
			for i, a := range answers {
				switch {
				case a.err != nil:
					t.Fatalf("racer %d: %v", i, a.err)
				case a.status == http.StatusCreated:
					won++
				case a.status != http.StatusConflict || a.code != tc.code:
					t.Errorf("racer %d: status %d, code %q; want 201, or 409 %s", i, a.status, a.code, tc.code)
				}
			}
			if won != tc.winners {
				t.Errorf("%d of %d racers won, want %d", won, racers, tc.winners)
			}
			if after != before {
				t.Errorf("PostgreSQL counted %d deadlocks during the race, want none", after-before)
			}
		})
	}
}

// BenchmarkHotSlot runs b.N races of 30 members for one slot, one slot
// after another: identical bookings of a desk (one wins) — with an
// Idempotency-Key, as members' apps send; the same without one; the same
// with billing's entitlement check in the booking transaction, as relais
// serve runs it (each member holds a membership including desks); the same
// on a desk the replica has not booked yet (desk-cold: a new desk for each
// race, so that the booking reads it afresh, as after a restart or a change
// of its rules) — of a 10-seat zone (ten win), and identical daily series
// of a desk (one wins).
// It reports the longest and the median answer over all the races, the
// winners per race, the answers other than 201 and 409 per race (5xx), and
// the deadlocks PostgreSQL counted over the whole run (pg_stat_database, in
// a database of the benchmark's own).
func BenchmarkHotSlot(b *testing.B) {
	const racers = 30
	for _, kind := range []string{"desk", "desk-cold", "desk-nokey", "desk-entitlements", "zone", "series"} {
		b.Run(kind, func(b *testing.B) {
			hs := newHotSlot(b, racers)
			f := hs.f
			horizon := map[string]int{"horizon_days": 365}
			resource := f.resource(b, map[string]any{"kind": "desk", "name": "Hot desk", "rules": horizon})
			rrule, winners, withKey := "", 1, func(int) bool { return true }
			switch kind {
			case "desk-nokey":
				withKey = func(int) bool { return false }
			case "desk-entitlements":
				f.h.checkEntitlements(true)
				var plan struct{ ID string }
				f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Nomade",
					"price_cents": 30000, "includes": map[string]any{"resource_kinds": []string{"desk"}}}}).expect(b, http.StatusCreated).decode(b, &plan)
				for _, userID := range hs.users {
					f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager, body: map[string]any{"user_id": userID,
						"plan_id": plan.ID, "method": "cash", "amount_cents": 30000, "buyer": buyerBody}}).expect(b, http.StatusCreated)
				}
			case "zone":
				resource = f.resource(b, map[string]any{"kind": "zone", "name": "Hot zone", "capacity": 10, "rules": horizon})
				winners = 10
			case "series":
				rrule = "FREQ=DAILY;COUNT=4"
			}
			// One race first, untimed, on a day no timed race uses: the
			// replica then knows the resource, and the members' connections
			// and the database's pool are open, as on a server already up
			// when bookings open.
			race(hs.client, f.h.srv.URL, hs.calls(resource, f.at(2, 9, 0), f.at(2, 10, 0), rrule, withKey))
			resources := make([]string, b.N)
			for i := range resources {
				resources[i] = resource
				if kind == "desk-cold" {
					resources[i] = f.resource(b, map[string]any{"kind": "desk", "name": fmt.Sprintf("Cold desk %d", i), "rules": horizon})
				}
			}
			var took []time.Duration
			won, failed := 0, 0
			before := deadlocks(b, f.h.db)
			b.ResetTimer()
			for i := range b.N {
				// Twelve one-hour slots a day, every fourth day from the 7th:
				// a series' four days never meet the next race's, nor the
				// warm-up's (the 2nd to the 5th).
				day, hour := 7+4*(i/12), 8+i%12
				for j, a := range race(hs.client, f.h.srv.URL, hs.calls(resources[i], f.at(day, hour, 0), f.at(day, hour+1, 0), rrule, withKey)) {
					switch {
					case a.err != nil:
						b.Fatalf("race %d, racer %d: %v", i, j, a.err)
					case a.status == http.StatusCreated:
						won++
					case a.status != http.StatusConflict:
						failed++
					}
					took = append(took, a.took)
				}
			}
			b.StopTimer()
			after := deadlocks(b, f.h.db)
			slices.Sort(took)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(took[len(took)-1]), "max-ms")
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(float64(won)/float64(b.N), "winners/race")
			b.ReportMetric(float64(failed)/float64(b.N), "5xx/race")
			if after >= 0 {
				b.ReportMetric(float64(after-before), "deadlocks")
			}
			if won > winners*b.N {
				b.Errorf("%d winners in %d races: more than %d in a race", won, b.N, winners)
			}
		})
	}
}
