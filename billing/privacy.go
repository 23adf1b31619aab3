package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// What billing does for personal data (the privacy package orchestrates):
// what a member still owes, ending their memberships when their account is
// erased, and their export. Payments stay: they are accounting records
// (invoices and payments are kept ten years).

// UnpaidBalance is what the member userID owes, in cents: their open
// pay-per-use charges and, for each membership past due, its plan's
// monthly price.
func (s *Service) UnpaidBalance(ctx context.Context, idb bun.IDB, userID string) (int64, error) {
	var charges int64
	if err := idb.NewSelect().Model((*UsageCharge)(nil)).ColumnExpr("COALESCE(SUM(amount_cents), 0)").
		Where("user_id = ? AND status = 'open'", userID).Scan(ctx, &charges); err != nil {
		return 0, fmt.Errorf("sum open charges: %w", err)
	}
	var pastDue int64
	if err := idb.NewSelect().Model((*Membership)(nil)).ColumnExpr("COALESCE(SUM(pl.price_cents), 0)").
		Join("JOIN plans AS pl ON pl.id = m.plan_id").
		Where("m.user_id = ? AND m.status = ?", userID, StatusPastDue).Scan(ctx, &pastDue); err != nil {
		return 0, fmt.Errorf("sum past-due memberships: %w", err)
	}
	return charges + pastDue, nil
}

// CancelSubscriptions cancels at Stripe, now, every subscription of the
// member userID's memberships that are not cancelled yet. It runs before
// the erasure's transaction (see privacy.Erase): if Stripe cannot be
// reached nothing is erased and the caller may retry; if the transaction
// then failed, Stripe's webhook would cancel the membership anyway, and a
// retry cancels nothing twice (the calls carry idempotency keys).
func (s *Service) CancelSubscriptions(ctx context.Context, userID string) error {
	var ms []Membership
	if err := s.db.NewSelect().Model(&ms).Where("user_id = ? AND status <> ? AND stripe_subscription_id IS NOT NULL", userID, StatusCanceled).
		Scan(ctx); err != nil {
		return fmt.Errorf("find subscriptions: %w", err)
	}
	for _, m := range ms {
		if err := s.cancelAtStripe(*m.StripeSubscriptionID, m.ID, false); err != nil {
			return err
		}
	}
	return nil
}

// ForgetMember, inside tx, cancels at once every membership of userID not
// cancelled yet (their events follow, as a cancellation's do).
func (s *Service) ForgetMember(ctx context.Context, tx bun.IDB, userID string) error {
	var ms []Membership
	if err := tx.NewSelect().Model(&ms).Where("user_id = ? AND status <> ?", userID, StatusCanceled).Order("id").Scan(ctx); err != nil {
		return fmt.Errorf("find memberships: %w", err)
	}
	now := s.now()
	for i := range ms {
		m := &ms[i]
		m.Status, m.CanceledAt, m.CancelAtPeriodEnd, m.UpdatedAt = StatusCanceled, &now, false, now
		if err := s.saveMembership(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// MemberExport is what billing holds about a member.
type MemberExport struct {
	Memberships []Membership  `json:"memberships"`
	DayPasses   []DayPass     `json:"day_passes"`
	Packs       []Pack        `json:"packs"`
	Payments    []Payment     `json:"payments"`
	Charges     []UsageCharge `json:"usage_charges"`
}

// ExportMember returns billing's records of userID.
func (s *Service) ExportMember(ctx context.Context, userID string) (*MemberExport, error) {
	out := &MemberExport{Memberships: []Membership{}, DayPasses: []DayPass{}, Packs: []Pack{}, Payments: []Payment{}, Charges: []UsageCharge{}}
	for name, dst := range map[string]any{"memberships": &out.Memberships, "day passes": &out.DayPasses, "packs": &out.Packs,
		"payments": &out.Payments, "charges": &out.Charges} {
		if err := s.db.NewSelect().Model(dst).Where("user_id = ?", userID).Order("created_at", "id").Scan(ctx); err != nil {
			return nil, fmt.Errorf("export %s: %w", name, err)
		}
	}
	return out, nil
}
