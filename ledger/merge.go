package ledger

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// MoveHistory gives every lot fromUserID holds a balance of to toUserID,
// in the tx of a guest's merge into an account (people.HistoryMover): as
// a gift does, one movement whose legs empty each lot into a new lot of
// the account, with the same unit, kind, site and expiry. Nothing is
// rewritten (the ledger is append-only): the guest's history stays theirs,
// the balance is the account's. No gift mail is told: the merge is the
// desk's, not the guest's.
func (s *Service) MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error {
	if err := lockHolders(ctx, tx, fromUserID, toUserID); err != nil {
		return err
	}
	lots, err := heldLots(ctx, tx, memberAccount(fromUserID), nil)
	if err != nil {
		return err
	}
	now := s.now()
	var legs []leg
	for _, l := range lots {
		if l.Balance <= 0 {
			continue
		}
		lot := &CreditLot{UserID: toUserID, Unit: l.Unit, ResourceKind: l.ResourceKind, SiteID: l.SiteID, Origin: OriginGift, OriginID: l.ID,
			ExpiresAt: l.ExpiresAt, CreatedAt: now}
		if err := s.newLot(ctx, tx, lot); err != nil {
			return err
		}
		legs = append(legs, leg{lot: l.ID, from: memberAccount(fromUserID), to: acctTransfer, amount: l.Balance},
			leg{lot: lot.ID, from: acctTransfer, to: memberAccount(toUserID), amount: l.Balance})
	}
	if len(legs) == 0 {
		return nil
	}
	mv := &CreditMovement{Kind: MoveGift, UserID: fromUserID, CounterpartID: &toUserID, Reason: "merged into this account", CreatedAt: now}
	if err := post(ctx, tx, mv, legs); err != nil {
		return fmt.Errorf("move credit: %w", err)
	}
	return nil
}
