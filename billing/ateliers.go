package billing

// --- services-places --- what package ateliers asks of billing to price
// its registrations, inside the registration's transaction.

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/ledger"
)

// AtelierCharge is a paid atelier's price (TTC) owed for a registration:
// a usage charge, settled at the desk (POST /v1/sites/{site}/charges/settle,
// which issues the invoice) or online with the member's other charges.
type AtelierCharge struct {
	RegistrationID, UserID, SiteID string
	Description                    string
	AmountCents                    int64
	VATRateBP                      int
	// Start and End are the session's: the service dates of the invoice.
	Start, End time.Time
}

// ChargeAtelier records what a registration owes, in idb.
func (s *Service) ChargeAtelier(ctx context.Context, idb bun.IDB, c AtelierCharge) error {
	reg, start, end := c.RegistrationID, c.Start.UTC(), c.End.UTC()
	uc := &UsageCharge{ID: id.New(), RegistrationID: &reg, ServiceStartsAt: &start, ServiceEndsAt: &end, UserID: c.UserID, SiteID: c.SiteID, Description: c.Description,
		AmountCents: c.AmountCents, VATRateBP: c.VATRateBP, Status: "open", CreatedAt: s.now()}
	if _, err := idb.NewInsert().Model(uc).Exec(ctx); err != nil {
		return fmt.Errorf("record atelier charge: %w", err)
	}
	return nil
}

// VoidAtelierCharge voids what a cancelled registration still owes; a
// charge already paid stays (its refund is the payments' refund path).
func (s *Service) VoidAtelierCharge(ctx context.Context, idb bun.IDB, registrationID string) error {
	if _, err := idb.NewUpdate().Model((*UsageCharge)(nil)).Set("status = 'void'").
		Where("registration_id = ? AND status = 'open' AND payment_id IS NULL", registrationID).Exec(ctx); err != nil {
		return fmt.Errorf("void atelier charge: %w", err)
	}
	return nil
}

// HoldsPlan reports whether userID holds, at t, a usable membership of one
// of planIDs (pricing "included").
func (s *Service) HoldsPlan(ctx context.Context, idb bun.IDB, userID string, planIDs []string, t time.Time) (bool, error) {
	if len(planIDs) == 0 {
		return false, nil
	}
	var ms []Membership
	if err := idb.NewSelect().Model(&ms).Where("user_id = ? AND plan_id IN (?)", userID, bun.In(planIDs)).Scan(ctx); err != nil {
		return false, fmt.Errorf("read memberships: %w", err)
	}
	for i := range ms {
		if ms[i].Usable(t, s.grace) {
			return true, nil
		}
	}
	return false, nil
}

// CheckPlans checks that every one of planIDs names a plan, naming
// field[i] otherwise.
func (s *Service) CheckPlans(ctx context.Context, idb bun.IDB, field string, planIDs []string) error {
	for i, pid := range planIDs {
		n, err := idb.NewSelect().Model((*Plan)(nil)).Where("id = ?", pid).Count(ctx)
		if err != nil {
			return fmt.Errorf("find plan: %w", err)
		}
		if n == 0 {
			return errs.Invalid(fmt.Sprintf("%s[%d]", field, i), "no such plan")
		}
	}
	return nil
}

// PayAtelierWithCredit spends the member's money credit on a registration
// (all or nothing; see ledger.PayAtelier).
func (s *Service) PayAtelierWithCredit(ctx context.Context, idb bun.IDB, a ledger.AtelierSpend) (bool, error) {
	return s.ledger.PayAtelier(ctx, idb, a)
}

// RefundAtelierCredit gives back the credit a registration holds.
func (s *Service) RefundAtelierCredit(ctx context.Context, idb bun.IDB, userID, registrationID string) error {
	return s.ledger.ReleaseAtelier(ctx, idb, userID, registrationID)
}
