package billing_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/ledger"
)

// BenchmarkConcurrentCreditSpends books one-hour machine slots for one
// member from 8 goroutines, each booking paid with hour credit inside the
// entitlement check (the member's holder row serialises them). The member
// holds credit for half of the attempts, so the other half are refused
// once the balance is empty. Reported: credit spends per second, booking
// attempts per second, and the (member, lot) balances below zero found in
// the ledger afterwards, which must be 0. Run with -benchtime Nx, N ≤ 15360
// (16 machines × 80 days × 12 hours of distinct slots).
func BenchmarkConcurrentCreditSpends(b *testing.B) {
	f := newFixture(b, 1)
	anne := f.users[0]
	var machines []*calendar.Resource
	for range 16 {
		machines = append(machines, f.resource(b, calendar.KindMachine, 0))
	}
	if b.N > 16*80*12 {
		b.Fatalf("at most %d bookings: -benchtime Nx", 16*80*12)
	}
	f.grant(b, anne, ledger.UnitMinutes, calendar.KindMachine, int64(60*((b.N+1)/2)), nil)
	var next, spent atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				m, day, hour := machines[i%16], 3+(i/16)%80, 8+i/(16*80)
				_, err := f.book(anne, m, day, hour, hour+1)
				switch {
				case err == nil:
					spent.Add(1)
				case code(err) != "membership_required":
					b.Errorf("booking %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	r, err := f.ledger.VerifyLedger(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if want := int64((b.N + 1) / 2); spent.Load() != want {
		b.Fatalf("%d spends, want %d", spent.Load(), want)
	}
	b.ReportMetric(float64(spent.Load())/elapsed, "spends/s")
	b.ReportMetric(float64(b.N)/elapsed, "attempts/s")
	b.ReportMetric(float64(r.NegativeBalances+len(r.Unbalanced)), "negative_balances")
}
