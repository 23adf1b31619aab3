package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// The ledger's events, published in the transaction of the movement. They
// are for the member's mail (notify), not for integrators: serve gives the
// ledger notify's publisher alone, so webhooks never see them, and
// webhooks.EventTypes does not list them.
const (
	// EventGiftReceived: a member received credit from another.
	EventGiftReceived = "credit.gift_received"
	// EventCreditVested: a campaign reached its goal and a backer's pending
	// credit became spendable.
	EventCreditVested = "credit.vested"
)

// CreditEvent is the data of the ledger's events: who received how much,
// from whom (a gift) or from which campaign (vested credit).
type CreditEvent struct {
	MovementID string `json:"movement_id"`
	UserID     string `json:"user_id"`
	// FromUserID is the giver of a gift.
	FromUserID string `json:"from_user_id,omitempty"`
	CampaignID string `json:"campaign_id,omitempty"`
	Unit       string `json:"unit"`
	// ResourceKind is what the credit may book, "" for any.
	ResourceKind string `json:"resource_kind,omitempty"`
	Amount       int64  `json:"amount"`
	// ExpiresAt is when the soonest of the credit expires; nil: never.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// SiteID is where the credit may be spent, "" for the whole network.
	SiteID string `json:"site_id,omitempty"`
}

// publish tells s.events of typ about c, in tx.
func (s *Service) publish(ctx context.Context, tx bun.IDB, typ string, c CreditEvent) error {
	return s.events.Publish(ctx, tx, events.New(typ, c.SiteID, s.now(), c))
}

// soonest is the earlier of two expiries, nil meaning never.
func soonest(a, b *time.Time) *time.Time {
	switch {
	case a == nil:
		return b
	case b == nil || a.Before(*b):
		return a
	}
	return b
}

// ExpiringLot is what a member still holds of a lot that expires soon.
type ExpiringLot struct {
	LotID        string    `bun:"lot_id"`
	UserID       string    `bun:"user_id"`
	Unit         string    `bun:"unit"`
	ResourceKind string    `bun:"resource_kind"`
	SiteID       *string   `bun:"site_id"`
	ExpiresAt    time.Time `bun:"expires_at"`
	CreatedAt    time.Time `bun:"created_at"`
	Amount       int64     `bun:"amount"`
}

// ExpiringLots lists the lots that expire after from and at the latest at
// to, of which their holder still holds spendable credit, and that were
// created at least lead before they expire (a lot given for three days is
// not "about to expire" the day it is given): notify's reminder a week
// ahead.
func (s *Service) ExpiringLots(ctx context.Context, idb bun.IDB, from, to time.Time, lead time.Duration) ([]ExpiringLot, error) {
	var rows []ExpiringLot
	if err := idb.NewSelect().TableExpr("credit_lots AS cl").Join("JOIN credit_entries AS ce ON ce.lot_id = cl.id").
		ColumnExpr("cl.id AS lot_id, cl.user_id, cl.unit, cl.resource_kind, cl.site_id, cl.expires_at, cl.created_at, SUM(ce.amount) AS amount").
		Where("cl.expires_at > ? AND cl.expires_at <= ?", from.UTC(), to.UTC()).
		Where("ce.account = 'member:' || cl.user_id").
		GroupExpr("cl.id, cl.user_id, cl.unit, cl.resource_kind, cl.site_id, cl.expires_at, cl.created_at").
		Having("SUM(ce.amount) > 0").OrderExpr("cl.expires_at, cl.id").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("read expiring credit: %w", err)
	}
	kept := rows[:0]
	for _, r := range rows {
		if !r.CreatedAt.After(r.ExpiresAt.Add(-lead)) {
			kept = append(kept, r)
		}
	}
	return kept, nil
}
