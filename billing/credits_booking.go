package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/ledger"
)

// usePrice is the TTC price of minutes of a resource, rounded half up to
// the cent, and its VAT rate: the resource's rate, 0 if the site is exempt.
// The hourly price is TTC (as plans); a resource migrated from an HT price
// keeps the old computation, HT rounded then VAT (see
// calendar.Resource.LegacyPriceHTCents), so that charges did not move.
//
// It cannot overflow: a price is at most 1 000 000 cents an hour
// (calendar's validation), and a reservation lasts at most
// calendar.MaxBookingMinutes (744 000 000 cents at that price). Even
// the most minutes a time.Duration holds, about 1.5 × 10^8 (a machine's
// overrun is measured in one), keep perHourCents × minutes × 2 near
// 3 × 10^14, far below int64's 9.2 × 10^18.
func usePrice(res *calendar.Resource, vatExempt bool, minutes int) (ttc int64, rateBP int) {
	rateBP = res.VATRateBP
	if vatExempt {
		rateBP = 0
	}
	if res.LegacyPriceHTCents != nil {
		ht := (*res.LegacyPriceHTCents*int64(minutes)*2 + 60) / 120
		return ht + (ht*int64(rateBP)*2+10000)/20000, rateBP
	}
	return (res.PricePerHourCents*int64(minutes)*2 + 60) / 120, rateBP
}

// payWithCredits pays minutes of a booking with the member's credit usable
// at the resource's site (see ledger.PayBooking): hour credits of the
// resource's kind first, then money credit at the resource's pay-per-use
// price TTC for the rest. It returns the minutes still unpaid; with all, it
// spends nothing unless the credit pays every minute. note, when not nil,
// adds up what was spent (see checkBooking).
func (s *Service) payWithCredits(ctx context.Context, tx bun.IDB, note *calendar.Price, r *calendar.Reservation, res *calendar.Resource, vatExempt bool, minutes int, all bool) (int, error) {
	b := ledger.BookingSpend{UserID: *r.UserID, ReservationID: r.ID, SiteID: res.SiteID, ResourceKind: res.Kind, ResourceName: res.Name,
		Minutes: minutes, All: all}
	// The ledger asks the price of the minutes its hour credit left unpaid,
	// once, and then pays all of them with money credit or none.
	var priced struct {
		asked   bool
		minutes int
		cents   int64
		rateBP  int
	}
	if res.PricePerHourCents > 0 {
		b.Price = func(minutes int) int64 {
			ttc, rate := usePrice(res, vatExempt, minutes)
			priced.asked, priced.minutes, priced.cents, priced.rateBP = true, minutes, ttc, rate
			return ttc
		}
	}
	left, err := s.ledger.PayBooking(ctx, tx, b)
	if err != nil || note == nil || (all && left > 0) {
		return left, err // with all and minutes unpaid, nothing was spent
	}
	byHours := minutes - left
	if priced.asked {
		byHours = minutes - priced.minutes
		if left == 0 {
			note.CreditCentsUsed += priced.cents
			note.VATRateBP = priced.rateBP
		}
	}
	note.CreditMinutesUsed += int64(byHours)
	return left, nil
}

// releaseCredits gives back percent of the credit reservation r still
// holds, to the lots it came from (see ledger.ReleaseBooking).
func (s *Service) releaseCredits(ctx context.Context, tx bun.IDB, r *calendar.Reservation, percent int) error {
	if r.UserID == nil || percent <= 0 {
		return nil
	}
	return s.ledger.ReleaseBooking(ctx, tx, *r.UserID, r.ID, percent)
}

// lateRefundPercent reads the resource rule that says how much credit a
// late cancellation gives back.
func lateRefundPercent(ctx context.Context, tx bun.IDB, resourceID string) (int, error) {
	var res calendar.Resource
	if err := tx.NewSelect().Model(&res).Column("rules").Where("id = ?", resourceID).Scan(ctx); err != nil {
		return 0, fmt.Errorf("read resource rules: %w", err)
	}
	return res.Rules.LateCancelRefundPercent, nil
}
