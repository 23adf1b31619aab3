package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/identity"
)

// latencies collects per-request durations from parallel clients and
// reports requests per second and percentiles beside ns/op.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// benchHarness is the real API with production password hashing and no
// rate limits (they would refuse a benchmark from one address).
func benchHarness(b *testing.B) *harness {
	h := newHarness(b, func(c *identity.Config) {
		c.Hash = identity.DefaultHashParams
		c.RateLimits = identity.RateLimits{}
	})
	h.clock.Advance(0)
	return h
}

// runParallel spreads b.N requests over exactly `clients` goroutines, each a
// client waiting for its answer before sending the next request.
func runParallel(b *testing.B, clients int, do func(c *http.Client) error) {
	var (
		lat  latencies
		next atomic.Int64
		wg   sync.WaitGroup
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := do(client); err != nil {
					b.Error(err)
					return
				}
				lat.add(time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	lat.report(b, elapsed)
}

// BenchmarkLogin measures POST /v1/auth/login with argon2id at its
// production cost (19 MiB, 2 passes): the hash dominates by design.
func BenchmarkLogin(b *testing.B) {
	h := benchHarness(b)
	h.member("bench@example.fr")
	body := []byte(`{"email":"bench@example.fr","password":"` + password + `"}`)
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			runParallel(b, clients, func(c *http.Client) error {
				resp, err := c.Post(h.srv.URL+"/v1/auth/login", "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body) // read to EOF so the connection is reused
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("login: %d", resp.StatusCode)
				}
				return nil
			})
		})
	}
}

// BenchmarkGetMe measures an authenticated GET /v1/me: JWT check, session
// and account lookup, managed sites, account read, JSON.
func BenchmarkGetMe(b *testing.B) {
	h := benchHarness(b)
	_, token, _ := h.member("bench@example.fr")
	for _, clients := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			runParallel(b, clients, func(c *http.Client) error {
				req, _ := http.NewRequest("GET", h.srv.URL+"/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body) // read to EOF so the connection is reused
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("me: %d", resp.StatusCode)
				}
				return nil
			})
		})
	}
}
