package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// What campaigns ask of the ledger, inside their own transactions: credit
// a contribution's reward, vest or void a campaign's pending credit when
// it settles, take back the credit of a refunded contribution.

// CampaignCredit is a contribution's reward.
type CampaignCredit struct {
	UserID       string
	CampaignID   string
	SiteID       string
	Unit         string
	ResourceKind string
	Amount       int64
	ExpiresAt    *time.Time
	// Pending credit waits for the campaign to reach its goal (SettlePending).
	Pending bool
	Reason  string
}

// CreditCampaign creates the reward's lot and credits it to the member,
// pending or spendable. It returns the lot's id.
func (s *Service) CreditCampaign(ctx context.Context, tx bun.IDB, c CampaignCredit) (string, error) {
	now := s.now()
	lot := &CreditLot{UserID: c.UserID, Unit: c.Unit, ResourceKind: c.ResourceKind, SiteID: &c.SiteID,
		Origin: OriginCampaign, OriginID: c.CampaignID, ExpiresAt: c.ExpiresAt, CreatedAt: now}
	if err := s.newLot(ctx, tx, lot); err != nil {
		return "", err
	}
	to := memberAccount(c.UserID)
	if c.Pending {
		to = pendingAccount(c.UserID)
	}
	mv := &CreditMovement{Kind: MoveCredit, UserID: c.UserID, CampaignID: &c.CampaignID, Reason: c.Reason, CreatedAt: now}
	if err := post(ctx, tx, mv, []leg{{lot: lot.ID, from: campaignAccount(c.CampaignID), to: to, amount: c.Amount}}); err != nil {
		return "", err
	}
	return lot.ID, nil
}

// SettlePending vests (pending → member) or, when void, voids (pending →
// voided) every pending credit of a campaign, one movement per member.
func (s *Service) SettlePending(ctx context.Context, tx bun.IDB, campaignID string, void bool, reason string) error {
	var rows []pendingRow
	if err := tx.NewSelect().TableExpr("credit_entries AS ce").Join("JOIN credit_lots AS cl ON cl.id = ce.lot_id").
		ColumnExpr("ce.lot_id, cl.user_id, cl.unit, cl.resource_kind, cl.site_id, cl.expires_at, SUM(ce.amount) AS amount").
		Where("cl.origin = ? AND cl.origin_id = ? AND ce.account = 'pending:' || cl.user_id", OriginCampaign, campaignID).
		GroupExpr("ce.lot_id, cl.user_id, cl.unit, cl.resource_kind, cl.site_id, cl.expires_at").Having("SUM(ce.amount) > 0").
		OrderExpr("cl.user_id, ce.lot_id").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read pending credit: %w", err)
	}
	kind := MoveVest
	if void {
		kind = MoveVoid
	}
	now := s.now()
	for i := 0; i < len(rows); {
		j := i
		var legs []leg
		for ; j < len(rows) && rows[j].UserID == rows[i].UserID; j++ {
			to := memberAccount(rows[j].UserID)
			if void {
				to = acctVoided
			}
			legs = append(legs, leg{lot: rows[j].LotID, from: pendingAccount(rows[j].UserID), to: to, amount: rows[j].Amount})
		}
		mv := &CreditMovement{Kind: kind, UserID: rows[i].UserID, CampaignID: &campaignID, Reason: reason, CreatedAt: now}
		if err := post(ctx, tx, mv, legs); err != nil {
			return err
		}
		if !void {
			if err := s.publishVested(ctx, tx, mv, rows[i:j]); err != nil {
				return err
			}
		}
		i = j
	}
	return nil
}

// pendingRow is what a member holds pending of one lot of a campaign.
type pendingRow struct {
	LotID        string     `bun:"lot_id"`
	UserID       string     `bun:"user_id"`
	Unit         string     `bun:"unit"`
	ResourceKind string     `bun:"resource_kind"`
	SiteID       *string    `bun:"site_id"`
	ExpiresAt    *time.Time `bun:"expires_at"`
	Amount       int64      `bun:"amount"`
}

// publishVested tells one member that the credit of vest movement mv is
// theirs: one event per unit (a campaign rewards in euros or minutes).
func (s *Service) publishVested(ctx context.Context, tx bun.IDB, mv *CreditMovement, rows []pendingRow) error {
	byUnit := map[string]*CreditEvent{}
	var units []string
	for _, r := range rows {
		ev := byUnit[r.Unit]
		if ev == nil {
			ev = &CreditEvent{MovementID: mv.ID, UserID: r.UserID, CampaignID: *mv.CampaignID, Unit: r.Unit, ResourceKind: r.ResourceKind}
			if r.SiteID != nil {
				ev.SiteID = *r.SiteID
			}
			byUnit[r.Unit] = ev
			units = append(units, r.Unit)
		}
		ev.Amount += r.Amount
		ev.ExpiresAt = soonest(ev.ExpiresAt, r.ExpiresAt)
	}
	for _, u := range units {
		if err := s.publish(ctx, tx, EventCreditVested, *byUnit[u]); err != nil {
			return err
		}
	}
	return nil
}

// ReclaimLot takes back what a member still holds of a lot: pending credit
// is voided, spendable credit withdrawn. Credit already spent stays spent.
func (s *Service) ReclaimLot(ctx context.Context, tx bun.IDB, lotID, userID, reason string) error {
	if _, err := lockHolder(ctx, tx, userID); err != nil {
		return err
	}
	var rows []struct {
		Account string `bun:"account"`
		Amount  int64  `bun:"amount"`
	}
	if err := tx.NewSelect().Table("credit_entries").ColumnExpr("account, SUM(amount) AS amount").
		Where("lot_id = ? AND account IN (?)", lotID, bun.In([]string{memberAccount(userID), pendingAccount(userID)})).
		GroupExpr("account").Having("SUM(amount) > 0").Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read lot balance: %w", err)
	}
	var legs []leg
	for _, r := range rows {
		to := acctWithdrawn
		if r.Account == pendingAccount(userID) {
			to = acctVoided
		}
		legs = append(legs, leg{lot: lotID, from: r.Account, to: to, amount: r.Amount})
	}
	return post(ctx, tx, &CreditMovement{Kind: MoveWithdraw, UserID: userID, Reason: reason, CreatedAt: s.now()}, legs)
}

// LotExpiry is when a lot expires (nil: never), for the receipt of the
// contribution that earned it.
func (s *Service) LotExpiry(ctx context.Context, idb bun.IDB, lotID string) (*time.Time, error) {
	var lot CreditLot
	if err := idb.NewSelect().Model(&lot).Column("expires_at").Where("id = ?", lotID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read credit lot: %w", err)
	}
	return lot.ExpiresAt, nil
}
