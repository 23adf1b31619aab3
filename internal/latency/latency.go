// Package latency reports the percentiles of round trips timed by a
// benchmark, which Go's ns/op (a mean) hides.
package latency

import (
	"slices"
	"testing"
	"time"
)

// Report sorts lat and reports its p50 and p99 in microseconds.
func Report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
