package billing

import (
	"math"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
)

// A pay-per-use price stays exact at the bounds of its inputs: the dearest
// hour for the longest booking, and for the most minutes a duration holds.
func TestUsePriceAtItsBounds(t *testing.T) {
	const dearest = 1_000_000 // cents an hour, calendar's bound
	tests := []struct {
		name     string
		minutes  int
		ht, vat  int64
		exempt   bool
		wantRate int
	}{
		{"the longest booking", calendar.MaxBookingMinutes, 744_000_000, 148_800_000, false, 2000},
		{"the longest booking, exempt", calendar.MaxBookingMinutes, 744_000_000, 0, true, 0},
		{"a minute", 1, 16_667, 3_333, false, 2000},
		{"the longest duration", int(math.MaxInt64 / int64(time.Minute)), 2_562_047_783_333, 512_409_556_667, false, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ht, vat, rate := usePrice(dearest, tt.exempt, tt.minutes)
			if ht != tt.ht || vat != tt.vat || rate != tt.wantRate {
				t.Fatalf("usePrice(%d, %v, %d) = %d HT + %d VAT at %d, want %d + %d at %d", dearest, tt.exempt, tt.minutes, ht, vat, rate, tt.ht, tt.vat, tt.wantRate)
			}
		})
	}
}
