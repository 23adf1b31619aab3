package ledger

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// What billing's booking guard asks of the ledger, inside the booking's
// transaction: pay a booking with credit, and give it back when the
// booking is cancelled.

// BookingSpend is a booking the member's credit may pay.
type BookingSpend struct {
	UserID        string
	ReservationID string
	// SiteID, ResourceKind and ResourceName are the booked resource's:
	// credit of another site or another kind does not pay for it.
	SiteID       string
	ResourceKind string
	ResourceName string
	Minutes      int
	// Price is what money credit pays for minutes, TTC in cents; nil when
	// the resource has no price, so money credit pays nothing of it.
	Price func(minutes int) int64
	// All spends nothing unless the credit pays every minute.
	All bool
}

// PayBooking pays minutes of a booking with the member's credit usable at
// the resource's site: hour credits of the resource's kind first (they
// apply to no other kind), then money credit at b.Price for the rest — all
// of the rest or none of it, so a charge never pays for a fraction of a
// minute. Either way the soonest-expiring credit goes first. It returns the
// minutes still unpaid; with b.All, it spends nothing unless the credit
// pays every minute (the caller refuses the booking then, and a refused
// booking must leave nothing behind: series and waiting lists carry on in
// the same transaction).
//
// The member's holder row is locked first, so two bookings racing for the
// last credit are serialised and the balance never goes below zero.
func (s *Service) PayBooking(ctx context.Context, tx bun.IDB, b BookingSpend) (int, error) {
	userID, minutes := b.UserID, b.Minutes
	held, err := lockHolder(ctx, tx, userID)
	if err != nil || !held {
		return minutes, err
	}
	now := s.now()
	acct := memberAccount(userID)
	hours, err := heldLots(ctx, tx, acct, &lotFilter{unit: UnitMinutes, kind: b.ResourceKind, site: b.SiteID, now: now})
	if err != nil {
		return minutes, err
	}
	legs, got := take(hours, acct, acctSpent, int64(minutes))
	left := minutes - int(got)
	if left > 0 && b.Price != nil {
		price := b.Price(left)
		money, err := heldLots(ctx, tx, acct, &lotFilter{unit: UnitCents, site: b.SiteID, now: now})
		if err != nil {
			return minutes, err
		}
		if mlegs, paid := take(money, acct, acctSpent, price); paid == price {
			legs, left = append(legs, mlegs...), 0
		}
	}
	if b.All && left > 0 {
		return left, nil
	}
	mv := &CreditMovement{Kind: MoveSpend, UserID: userID, ReservationID: &b.ReservationID,
		Reason: fmt.Sprintf("%s — %d min", b.ResourceName, minutes-left), CreatedAt: now}
	return left, post(ctx, tx, mv, legs)
}

// ReleaseBooking gives back percent of the credit reservation
// reservationID of userID still holds (all of it before the cancellation
// deadline; after it, the resource's late_cancel_refund_percent), rounded
// down, to the lots it came from. Credit whose date has passed in the
// meantime expires at once.
func (s *Service) ReleaseBooking(ctx context.Context, tx bun.IDB, userID, reservationID string, percent int) error {
	return s.release(ctx, tx, userID, "cm.reservation_id", reservationID, percent)
}

// release gives back percent of the credit spent on refID (a reservation,
// or an atelier registration: column names which) to the lots it came
// from.
func (s *Service) release(ctx context.Context, tx bun.IDB, userID, column, refID string, percent int) error {
	if percent <= 0 {
		return nil
	}
	reservationID := refID
	var spent []struct {
		LotID  string `bun:"lot_id"`
		Amount int64  `bun:"amount"`
	}
	if err := tx.NewSelect().TableExpr("credit_entries AS ce").Join("JOIN credit_movements AS cm ON cm.id = ce.movement_id").
		ColumnExpr("ce.lot_id, SUM(ce.amount) AS amount").
		Where("? = ? AND ce.account = ?", bun.Ident(column), refID, acctSpent).
		GroupExpr("ce.lot_id").Having("SUM(ce.amount) > 0").OrderExpr("ce.lot_id").Scan(ctx, &spent); err != nil {
		return fmt.Errorf("read credit spent on reservation: %w", err)
	}
	if len(spent) == 0 {
		return nil
	}
	if _, err := lockHolder(ctx, tx, userID); err != nil {
		return err
	}
	var legs []leg
	for _, sp := range spent {
		if n := sp.Amount * int64(percent) / 100; n > 0 {
			legs = append(legs, leg{lot: sp.LotID, from: acctSpent, to: memberAccount(userID), amount: n})
		}
	}
	mv := &CreditMovement{Kind: MoveRelease, UserID: userID, Reason: fmt.Sprintf("cancellation, %d %% returned", percent), CreatedAt: s.now()}
	if column == "cm.reservation_id" {
		mv.ReservationID = &reservationID
	} else {
		mv.AtelierRegistrationID = &reservationID
	}
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

// --- services-places ---

// AtelierSpend is a registration to an atelier paid with money credit
// (pricing "credits").
type AtelierSpend struct {
	UserID, RegistrationID string
	// SiteID is the atelier's: credit of another site does not pay for it.
	SiteID, Title string
	Cents         int64
}

// PayAtelier spends a.Cents of the member's money credit usable at the
// atelier's site on a registration, the soonest-expiring first, in the
// registration's transaction: all of it, or nothing when the credit falls
// short (ok false). The member's holder row is locked first, as for
// bookings, so two registrations racing for the last credit are
// serialised.
func (s *Service) PayAtelier(ctx context.Context, tx bun.IDB, a AtelierSpend) (ok bool, err error) {
	held, err := lockHolder(ctx, tx, a.UserID)
	if err != nil || !held {
		return false, err
	}
	now := s.now()
	acct := memberAccount(a.UserID)
	money, err := heldLots(ctx, tx, acct, &lotFilter{unit: UnitCents, site: a.SiteID, now: now})
	if err != nil {
		return false, err
	}
	legs, paid := take(money, acct, acctSpent, a.Cents)
	if paid < a.Cents {
		return false, nil
	}
	mv := &CreditMovement{Kind: MoveSpend, UserID: a.UserID, AtelierRegistrationID: &a.RegistrationID,
		Reason: "Atelier «\u00a0" + a.Title + "\u00a0»", CreatedAt: now}
	return true, post(ctx, tx, mv, legs)
}

// ReleaseAtelier gives back all the credit an atelier registration still
// holds, to the lots it came from (a cancellation in time, a session
// cancelled).
func (s *Service) ReleaseAtelier(ctx context.Context, tx bun.IDB, userID, registrationID string) error {
	return s.release(ctx, tx, userID, "cm.atelier_registration_id", registrationID, 100)
}
