package invoicing_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
)

// BenchmarkIssueInvoice measures issuing for one entity, each invoice in its
// own transaction, from 1, 8 and 32 concurrent issuers: every issue of an
// entity serialises on its chain row, so this is the ceiling of one
// company's invoicing. After each run the numbers must be exactly 1..N.
// SQLite by default; PostgreSQL with RELAIS_TEST_DATABASE_URL.
func BenchmarkIssueInvoice(b *testing.B) {
	engine := "sqlite"
	if dbtest.Postgres() {
		engine = "postgres"
	}
	for _, issuers := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("%s/issuers=%d", engine, issuers), func(b *testing.B) {
			e := newInvEnv(b)
			ctx := context.Background()
			in := e.dayPass(e.site, 1)
			var next atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, issuers)
			b.ResetTimer()
			start := time.Now()
			for range issuers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						err := db.Tx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
							_, err := e.iv.Issue(ctx, tx, in)
							return err
						})
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "invoices/s")

			var seqs []int64
			if err := e.db.NewRaw("SELECT seq FROM invoices WHERE entity_key = ? ORDER BY seq", entityA).Scan(ctx, &seqs); err != nil {
				b.Fatal(err)
			}
			want := make([]int64, b.N)
			for i := range want {
				want[i] = int64(i + 1)
			}
			if !slices.Equal(seqs, want) {
				b.Fatalf("after %d issues the numbers are not 1..%d (%d stored)", b.N, b.N, len(seqs))
			}
		})
	}
}
