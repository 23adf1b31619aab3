package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
)

// usePrice is the price of minutes of a resource at its hourly price (HT),
// rounded half up to the cent, and its VAT unless the site is exempt.
//
// It cannot overflow: a price is at most 1 000 000 cents an hour
// (calendar's validation), and a reservation lasts at most
// calendar.MaxBookingMinutes (744 000 000 cents HT at that price). Even
// the most minutes a time.Duration holds, about 1.5 × 10^8 (a machine's
// overrun is measured in one), keep perHourCents × minutes × 2 near
// 3 × 10^14, far below int64's 9.2 × 10^18.
func usePrice(perHourCents int64, vatExempt bool, minutes int) (ht, vat int64, rateBP int) {
	rateBP = 2000
	if vatExempt {
		rateBP = 0
	}
	ht = (perHourCents*int64(minutes)*2 + 60) / 120
	vat = (ht*int64(rateBP)*2 + 10000) / 20000
	return ht, vat, rateBP
}

// payWithCredits pays minutes of a booking with the member's credit usable
// at the resource's site: hour credits of the resource's kind first (they
// apply to no other kind), then money credit at the resource's pay-per-use
// price TTC for the rest — all of the rest or none of it, so a charge never
// pays for a fraction of a minute. Either way the soonest-expiring credit
// goes first. It returns the minutes still unpaid; with all, it spends
// nothing unless the credit pays every minute (the caller refuses the
// booking then, and a refused booking must leave nothing behind: series and
// waiting lists carry on in the same transaction).
//
// The member's holder row is locked first, so two bookings racing for the
// last credit are serialised and the balance never goes below zero.
func (s *Service) payWithCredits(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, vatExempt bool, minutes int, all bool) (int, error) {
	userID := *r.UserID
	held, err := lockHolder(ctx, tx, userID)
	if err != nil || !held {
		return minutes, err
	}
	now := s.now()
	acct := memberAccount(userID)
	hours, err := heldLots(ctx, tx, acct, &lotFilter{unit: UnitMinutes, kind: res.Kind, site: res.SiteID, now: now})
	if err != nil {
		return minutes, err
	}
	legs, got := take(hours, acct, acctSpent, int64(minutes))
	left := minutes - int(got)
	if left > 0 && res.PricePerHourCents > 0 {
		ht, vat, _ := usePrice(res.PricePerHourCents, vatExempt, left)
		money, err := heldLots(ctx, tx, acct, &lotFilter{unit: UnitCents, site: res.SiteID, now: now})
		if err != nil {
			return minutes, err
		}
		if mlegs, paid := take(money, acct, acctSpent, ht+vat); paid == ht+vat {
			legs, left = append(legs, mlegs...), 0
		}
	}
	if all && left > 0 {
		return left, nil
	}
	mv := &CreditMovement{Kind: MoveSpend, UserID: userID, ReservationID: &r.ID,
		Reason: fmt.Sprintf("%s — %d min", res.Name, minutes-left), CreatedAt: now}
	return left, post(ctx, tx, mv, legs)
}

// releaseCredits gives back percent of the credit reservation r still
// holds (all of it before the cancellation deadline; after it, the
// resource's late_cancel_refund_percent), rounded down, to the lots it came
// from. Credit whose date has passed in the meantime expires at once.
func (s *Service) releaseCredits(ctx context.Context, tx bun.IDB, r *calendar.Reservation, percent int) error {
	if r.UserID == nil || percent <= 0 {
		return nil
	}
	var spent []struct {
		LotID  string `bun:"lot_id"`
		Amount int64  `bun:"amount"`
	}
	if err := tx.NewSelect().TableExpr("credit_entries AS ce").Join("JOIN credit_movements AS cm ON cm.id = ce.movement_id").
		ColumnExpr("ce.lot_id, SUM(ce.amount) AS amount").
		Where("cm.reservation_id = ? AND ce.account = ?", r.ID, acctSpent).
		GroupExpr("ce.lot_id").Having("SUM(ce.amount) > 0").OrderExpr("ce.lot_id").Scan(ctx, &spent); err != nil {
		return fmt.Errorf("read credit spent on reservation: %w", err)
	}
	if len(spent) == 0 {
		return nil
	}
	userID := *r.UserID
	if _, err := lockHolder(ctx, tx, userID); err != nil {
		return err
	}
	var legs []leg
	for _, sp := range spent {
		if n := sp.Amount * int64(percent) / 100; n > 0 {
			legs = append(legs, leg{lot: sp.LotID, from: acctSpent, to: memberAccount(userID), amount: n})
		}
	}
	mv := &CreditMovement{Kind: MoveRelease, UserID: userID, ReservationID: &r.ID,
		Reason: fmt.Sprintf("cancellation, %d %% returned", percent), CreatedAt: s.now()}
	if err := post(ctx, tx, mv, legs); err != nil {
		return err
	}
	for _, l := range legs {
		var lot CreditLot
		if err := tx.NewSelect().Model(&lot).Where("id = ?", l.lot).Scan(ctx); err != nil {
			return fmt.Errorf("read credit lot: %w", err)
		}
		if err := s.expireIfDue(ctx, tx, &lot); err != nil {
			return err
		}
	}
	return nil
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
