package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/notify"
)

// BenchmarkBooking books random one-hour slots of M desks from N concurrent
// clients over HTTP: authentication, rules, idempotency keys and the
// conflict check all included. It reports requests/s, reservations created/s,
// latency percentiles, and the number of double bookings found afterwards
// in the database (must be 0).
func BenchmarkBooking(b *testing.B) {
	for _, resources := range []int{1, 500} {
		for _, clients := range []int{1, 16, 64} {
			b.Run(fmt.Sprintf("resources=%d/clients=%d", resources, clients), func(b *testing.B) {
				benchBooking(b, resources, clients)
			})
		}
	}
}

// BenchmarkBookingEntitlements is BenchmarkBooking with billing's
// entitlement check in the booking transaction: every member holds a
// membership including desks plus 60 included hours of rooms, so each
// booking reads the member's rights and quotas.
func BenchmarkBookingEntitlements(b *testing.B) {
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("resources=500/clients=%d", clients), func(b *testing.B) {
			benchBookingWith(b, 500, clients, true)
		})
	}
}

// BenchmarkBookingPublishers is BenchmarkBooking with the publishers serve
// gives the calendar (webhooks and notify) instead of events.Discard: each
// booking also queues its webhook fan-out job and its mail job, in its
// transaction. publishers=off is the same run without them; =river
// inserts both jobs into River's table in the booking's transaction, in
// one InsertManyTx (what serve did before the outbox); =outbox stages them
// in job_outbox with one prepared INSERT (jobs.Queue.Publisher, what serve
// does now): a before/after in one process. No job client runs, so the
// staged rows stay where they are: the figure is the booking's alone.
func BenchmarkBookingPublishers(b *testing.B) {
	for _, pubs := range []string{"off", "jobsfor", "river", "outbox"} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("publishers=%s/resources=500/clients=%d", pubs, clients), func(b *testing.B) {
				f := newCalendarFixture(b)
				hooks, mails := f.h.api.Deps.Webhooks, notify.NewPublisher(f.h.jobs)
				switch pubs {
				case "jobsfor":
					f.h.calCfg.Events = riverPublisher{q: f.h.jobs, sources: []jobs.Source{hooks, mails}, dry: true}
				case "river":
					f.h.calCfg.Events = riverPublisher{q: f.h.jobs, sources: []jobs.Source{hooks, mails}}
				case "outbox":
					f.h.calCfg.Events = f.h.jobs.Publisher(hooks, mails)
				}
				f.h.restart()
				benchBookingOn(b, f, 500, clients, false)
			})
		}
	}
}

// riverPublisher inserts its sources' jobs straight into River in the
// publishing transaction, as jobs.Queue.Publisher did before the outbox.
type riverPublisher struct {
	q       *jobs.Queue
	sources []jobs.Source
	// dry: ask the sources for their jobs and insert none, to tell what
	// building the jobs costs from what inserting them does.
	dry bool
}

func (p riverPublisher) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	var all []river.InsertManyParams
	for _, s := range p.sources {
		params, err := s.JobsFor(e)
		if err != nil {
			return err
		}
		all = append(all, params...)
	}
	if len(all) == 0 || p.dry {
		return nil
	}
	_, err := p.q.River().InsertManyTx(ctx, idb.(bun.Tx).Tx, all)
	return err
}

func benchBooking(b *testing.B, resources, clients int) {
	benchBookingWith(b, resources, clients, false)
}

func benchBookingWith(b *testing.B, resources, clients int, entitlements bool) {
	benchBookingOn(b, newCalendarFixture(b), resources, clients, entitlements)
}

func benchBookingOn(b *testing.B, f *calendarFixture, resources, clients int, entitlements bool) {
	b.StopTimer()
	var planID string
	if entitlements {
		f.h.checkEntitlements(true)
		var plan struct{ ID string }
		f.h.do(req{method: "POST", path: "/v1/plans", token: f.manager, body: map[string]any{"site_id": f.site, "kind": "membership", "name": "Nomade",
			"price_cents": 30000, "includes": map[string]any{"resource_kinds": []string{"desk"},
				"allowances": []map[string]any{{"resource_kind": "room", "minutes_per_period": 3600}}}}}).expect(b, 201).decode(b, &plan)
		planID = plan.ID
	}
	ids := []string{f.desk}
	for len(ids) < resources {
		ids = append(ids, f.resource(b, map[string]any{"kind": "desk", "name": "Desk " + strconv.Itoa(len(ids)),
			"rules": map[string]int{"horizon_days": 365}}))
	}
	tokens := make([]string, clients)
	for i := range tokens {
		var userID string
		userID, tokens[i], _ = f.h.member(fmt.Sprintf("bench%d@example.fr", i))
		if entitlements {
			f.h.do(req{method: "POST", path: "/v1/sites/" + f.site + "/payments", token: f.manager, body: map[string]any{"user_id": userID,
				"plan_id": planID, "method": "cash", "amount_cents": 30000, "buyer": buyerBody}}).expect(b, 201)
		}
	}
	// 60 days × 12 one-hour slots per resource to draw from.
	base := time.Date(2026, 3, 3, 8, 0, 0, 0, f.paris)
	var created, seq atomic.Int64
	body := func(rng *rand.Rand) []byte {
		day := rng.IntN(60)
		hour := rng.IntN(12)
		start := time.Date(base.Year(), base.Month(), base.Day()+day, 8+hour, 0, 0, 0, f.paris)
		return []byte(fmt.Sprintf(`{"resource_id":%q,"start":%q,"end":%q}`, ids[rng.IntN(len(ids))],
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)))
	}
	b.StartTimer()
	runParallel(b, clients, func(c *http.Client) error {
		n := seq.Add(1)
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		req, _ := http.NewRequest("POST", f.h.srv.URL+"/v1/reservations", bytes.NewReader(body(rng)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokens[int(n)%clients])
		req.Header.Set("Idempotency-Key", "bench-"+strconv.FormatInt(n, 10))
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) // read to EOF so the connection is reused
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusCreated:
			created.Add(1)
		case http.StatusConflict:
		default:
			return fmt.Errorf("booking: status %d", resp.StatusCode)
		}
		return nil
	})
	b.ReportMetric(float64(created.Load())/b.Elapsed().Seconds(), "created/s")
	var doubles int
	if err := f.h.db.NewRaw(`SELECT COUNT(*) FROM reservations a JOIN reservations b
		ON a.resource_id = b.resource_id AND a.id < b.id
		AND a.status <> 'cancelled' AND b.status <> 'cancelled'
		AND a.starts_at < b.busy_until AND b.starts_at < a.busy_until`).Scan(context.Background(), &doubles); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(doubles), "double-bookings")
	if doubles != 0 {
		b.Fatalf("%d double bookings", doubles)
	}
}

// BenchmarkBookingPublishersPaired measures the ways of publishing a
// booking paired: one fixture and one client, each booking in turn
// published to the next way. Separate runs drift with the machine (another
// process, the database's caches, a fixture created later than the other)
// by more than the difference to measure; taking the ways in turn gives
// each the same conditions. The calendar has a guard that asks nothing, so
// that every way books in a transaction, as serve's (whose guard is
// billing's entitlement check) always does. The ways: off (nothing
// published), jobsfor (the jobs built, none written), apart (the jobs
// staged in job_outbox by a statement of their own in the transaction,
// what serve did until session 13), outbox (what serve does: staged within
// the booking's statement, events.Stager) and roundtrip (nothing written,
// one prepared SELECT 1 sent in the transaction: the cost of any statement
// of one's own). It reports each way's median and the outbox's cost over
// off.
func BenchmarkBookingPublishersPaired(b *testing.B) {
	f := newCalendarFixture(b)
	hooks, mails := f.h.api.Deps.Webhooks, notify.NewPublisher(f.h.jobs)
	outbox := f.h.jobs.Publisher(hooks, mails)
	ways := []events.Publisher{
		events.Discard,
		riverPublisher{q: f.h.jobs, sources: []jobs.Source{hooks, mails}, dry: true},
		apart{outbox},
		outbox,
		roundTrip{},
	}
	names := []string{"off", "jobsfor", "apart", "outbox", "roundtrip"}
	turn := &turnPublisher{ways: ways}
	f.h.calCfg.Events = turn
	f.h.calCfg.Guard = askNothing{}
	f.h.restart()
	ids := []string{f.desk}
	for len(ids) < 500 {
		ids = append(ids, f.resource(b, map[string]any{"kind": "desk", "name": "Desk " + strconv.Itoa(len(ids)),
			"rules": map[string]int{"horizon_days": 365}}))
	}
	_, token, _ := f.h.member("paired@example.fr")
	base := time.Date(2026, 3, 3, 8, 0, 0, 0, f.paris)
	rng := rand.New(rand.NewPCG(1, 7))
	client := &http.Client{}
	lat := make([][]time.Duration, len(ways))
	n := 0
	for b.Loop() {
		way := n % len(ways)
		n++
		turn.way.Store(int32(way))
		start := time.Date(base.Year(), base.Month(), base.Day()+rng.IntN(60), 8+rng.IntN(12), 0, 0, 0, f.paris)
		body := fmt.Sprintf(`{"resource_id":%q,"start":%q,"end":%q}`, ids[rng.IntN(len(ids))],
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
		req, _ := http.NewRequest("POST", f.h.srv.URL+"/v1/reservations", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", "paired-"+strconv.Itoa(n))
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(t0)
		switch resp.StatusCode {
		case http.StatusCreated:
			lat[way] = append(lat[way], took)
		case http.StatusConflict: // nothing published: not counted
		default:
			b.Fatalf("booking: status %d", resp.StatusCode)
		}
	}
	p50 := make([]float64, len(ways))
	for i, l := range lat {
		if len(l) == 0 {
			return
		}
		slices.Sort(l)
		p50[i] = float64(l[len(l)/2].Microseconds()) / 1000
		b.ReportMetric(p50[i], names[i]+"-p50-ms")
	}
	b.ReportMetric(p50[3]-p50[0], "outbox-cost-ms")
	b.ReportMetric(p50[2]-p50[0], "apart-cost-ms")
}

// turnPublisher publishes to the way the benchmark chose for this booking,
// and stages the event when that way can.
type turnPublisher struct {
	ways []events.Publisher
	way  atomic.Int32
}

func (t *turnPublisher) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	return t.ways[t.way.Load()].Publish(ctx, idb, e)
}

func (t *turnPublisher) Stage(e events.Event, from string) (string, []any, bool, error) {
	if p, ok := t.ways[t.way.Load()].(events.Stager); ok {
		return p.Stage(e, from)
	}
	return "", nil, false, nil // published apart, in the transaction
}

// apart hides its publisher's Stage: the jobs are staged by a statement of
// their own, after the booking's.
type apart struct{ p events.Publisher }

func (a apart) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	return a.p.Publish(ctx, idb, e)
}

// askNothing is a calendar guard that allows every booking without a
// statement.
type askNothing struct{}

func (askNothing) CheckBooking(context.Context, bun.IDB, *calendar.Reservation, *calendar.Resource, *calendar.Site) error {
	return nil
}

func (askNothing) ReleaseBooking(context.Context, bun.IDB, *calendar.Reservation, bool) error {
	return nil
}

// roundTrip publishes nothing but sends one prepared statement in the
// booking's transaction: the floor of any row a publisher writes there.
type roundTrip struct{}

func (roundTrip) Publish(ctx context.Context, idb bun.IDB, _ events.Event) error {
	q, args := db.Prepared(idb, "SELECT 1")
	var one int
	return db.Raw(idb).QueryRowContext(ctx, q, args...).Scan(&one)
}
