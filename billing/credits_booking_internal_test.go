package billing

import (
	"math"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
)

// A pay-per-use price stays exact at the bounds of its inputs: the dearest
// hour for the longest booking, and for the most minutes a duration holds.
func TestUsePriceAtItsBounds(t *testing.T) {
	const dearest = 1_000_000 // cents an hour TTC, calendar's bound
	tests := []struct {
		name     string
		minutes  int
		ttc      int64
		exempt   bool
		wantRate int
	}{
		{"the longest booking", calendar.MaxBookingMinutes, 744_000_000, false, 2000},
		{"the longest booking, exempt", calendar.MaxBookingMinutes, 744_000_000, true, 0},
		{"a minute", 1, 16_667, false, 2000},
		{"the longest duration", int(math.MaxInt64 / int64(time.Minute)), 2_562_047_783_333, false, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &calendar.Resource{PricePerHourCents: dearest, VATRateBP: 2000}
			ttc, rate := usePrice(res, tt.exempt, tt.minutes)
			if ttc != tt.ttc || rate != tt.wantRate {
				t.Fatalf("usePrice(%d, %v, %d) = %d TTC at %d, want %d at %d", dearest, tt.exempt, tt.minutes, ttc, rate, tt.ttc, tt.wantRate)
			}
		})
	}
}

// oldCharge is what a pay-per-use charge cost before prices were TTC
// (until migration 20261207000700): HT rounded half up, then 20 % VAT
// rounded half up, none on an exempt site.
func oldCharge(htPerHour int64, exempt bool, minutes int) int64 {
	ht := (htPerHour*int64(minutes)*2 + 60) / 120
	if exempt {
		return ht
	}
	return ht + (ht*2000*2+10000)/20000
}

// TestMigratedPricesChargeTheSame: a resource priced HT before the
// migration, as the migration leaves it (TTC price, legacy HT price on a
// VAT-liable site; the same price at rate 0 on an exempt one), charges to
// the cent what it charged before, for every duration up to a day; and its
// TTC price is what one hour costs.
func TestMigratedPricesChargeTheSame(t *testing.T) {
	for _, ht := range []int64{1, 7, 999, 1000, 1001, 1003, 1250, 1499, 1500, 2000, 4166, 99_999, 1_000_000} {
		liable := &calendar.Resource{PricePerHourCents: db.TTCFromHT(ht, 2000), VATRateBP: 2000, LegacyPriceHTCents: &ht}
		exempt := &calendar.Resource{PricePerHourCents: ht, VATRateBP: 0}
		if got, _ := usePrice(liable, false, 60); got != liable.PricePerHourCents {
			t.Fatalf("HT %d: one hour costs %d, the TTC price shown is %d", ht, got, liable.PricePerHourCents)
		}
		for minutes := 1; minutes <= 24*60; minutes++ {
			if got, _ := usePrice(liable, false, minutes); got != oldCharge(ht, false, minutes) {
				t.Fatalf("HT %d, %d min: %d, charged %d before", ht, minutes, got, oldCharge(ht, false, minutes))
			}
			if got, _ := usePrice(exempt, true, minutes); got != oldCharge(ht, true, minutes) {
				t.Fatalf("HT %d exempt, %d min: %d, charged %d before", ht, minutes, got, oldCharge(ht, true, minutes))
			}
		}
	}
}

// TestTTCPrice: a price set as TTC is charged pro rata, rounded half up,
// whatever the rate; one hour costs exactly the price typed.
func TestTTCPrice(t *testing.T) {
	for _, c := range []struct {
		price   int64
		rate    int
		minutes int
		want    int64
	}{{1204, 2000, 60, 1204}, {1204, 2000, 120, 2408}, {1204, 550, 30, 602}, {1005, 2000, 30, 503}, {1500, 1000, 1, 25}} {
		res := &calendar.Resource{PricePerHourCents: c.price, VATRateBP: c.rate}
		if got, rate := usePrice(res, false, c.minutes); got != c.want || rate != c.rate {
			t.Errorf("%d TTC at %d, %d min = %d at %d, want %d", c.price, c.rate, c.minutes, got, rate, c.want)
		}
	}
}
