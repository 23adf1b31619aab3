package ledger

import (
	"context"
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
