package ateliers

// --- services-places --- what a registration costs.
//
// An atelier is free; or has a price TTC, owed by each confirmed
// participant as a usage charge that the desk settles (issuing the
// invoice) or the member pays online with their other charges; or is
// included in named plans, which a person must hold (a usable membership)
// to register; or costs credit_cents of money credit, spent from the
// member's ledger in the registration's transaction.
//
// A seat is paid when it is confirmed: at registration, or at promotion
// from the waiting list (where a person whose credit falls short by then
// is passed over and stays waiting). A cancellation before the atelier's
// deadline (cancel_before_minutes before the session) gives the credit
// back and voids the charge not yet paid; later, both stand. A cancelled
// session gives everything back. A charge already paid is refunded through
// the payments' refund path, as any payment.
//
// A host place issues no invoices, so an atelier there is not "price".

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/ledger"
)

// MaxPlans bounds plan_ids.
const MaxPlans = 20

var (
	errPlanRequired = errs.Problemf(errs.ErrPaymentRequired, "plan_required",
		"this atelier is included in plans this person does not hold: a membership of one of them is needed")
	errNotEnoughCredit = errs.Problemf(errs.ErrPaymentRequired, "not_enough_credit",
		"this atelier is paid with credit and this person does not have enough usable here")
)

// checkPricing validates the pricing and the amounts that go with it, and
// returns the pricing ("" resolved).
func checkPricing(v *errs.Validator, site *calendar.Site, in NewAtelier) string {
	p := in.Pricing
	if p == "" {
		p = PricingFree
		if in.PriceCents > 0 {
			p = PricingPrice
		}
	}
	v.Check(len(in.PlanIDs) <= MaxPlans, "plan_ids", "must be at most %d", MaxPlans)
	for i, pid := range in.PlanIDs {
		v.Check(id.Valid(pid), fmt.Sprintf("plan_ids[%d]", i), "must be a plan's id")
	}
	v.Check(in.CreditCents >= 0 && in.CreditCents <= MaxPrice, "credit_cents", "must be from 0 to %d", MaxPrice)
	switch p {
	case PricingFree:
		v.Check(in.PriceCents == 0, "price_cents", "must be 0 for a free atelier")
	case PricingPrice:
		v.Check(in.PriceCents > 0, "price_cents", "is required for a paid atelier")
		v.Check(!site.IsHost(), "pricing", "a host place issues no invoices: price the atelier at a site, or use credits or plans")
	case PricingIncluded:
		v.Check(len(in.PlanIDs) > 0, "plan_ids", "name the plans that include the atelier")
	case PricingCredits:
		v.Check(in.CreditCents > 0, "credit_cents", "is required for an atelier paid with credit")
	default:
		v.Add("pricing", "must be free, price, included or credits")
	}
	if p != PricingPrice && p != PricingFree {
		v.Check(in.PriceCents == 0, "price_cents", "goes only with pricing price")
	}
	if p != PricingCredits {
		v.Check(in.CreditCents == 0, "credit_cents", "goes only with pricing credits")
	}
	if p != PricingIncluded {
		v.Check(len(in.PlanIDs) == 0, "plan_ids", "go only with pricing included")
	}
	return p
}

// mayRegisterPriced: an atelier included in plans takes only their
// holders (whoever registers them).
func (s *Service) mayRegisterPriced(ctx context.Context, a *Atelier, userID string, now time.Time) error {
	if a.Pricing != PricingIncluded {
		return nil
	}
	ok, err := s.cfg.Payments.HoldsPlan(ctx, s.db, userID, a.PlanIDs, now)
	if err != nil {
		return err
	}
	if !ok {
		return errPlanRequired
	}
	return nil
}

// payForSeat takes, in tx, what a confirmed seat costs: a charge for a
// paid atelier, credit for one paid with credit (ok false, nothing spent,
// when it falls short).
func (s *Service) payForSeat(ctx context.Context, tx bun.IDB, a *Atelier, ss *Session, r *Registration) (ok bool, err error) {
	switch a.Pricing {
	case PricingPrice:
		site, err := s.cfg.Calendar.GetSite(ctx, a.SiteID)
		if err != nil {
			return false, err
		}
		rate := 2000
		if site.Legal.VATExempt {
			rate = 0
		}
		// The invoice line says the session's day and hours (its service dates).
		return true, s.cfg.Payments.ChargeAtelier(ctx, tx, billing.AtelierCharge{RegistrationID: r.ID, UserID: r.UserID, SiteID: a.SiteID,
			Description: "Atelier «\u00a0" + a.Title + "\u00a0»", AmountCents: a.PriceCents, VATRateBP: rate, Start: ss.StartsAt, End: ss.EndsAt})
	case PricingCredits:
		return s.cfg.Payments.PayAtelierWithCredit(ctx, tx, ledger.AtelierSpend{UserID: r.UserID, RegistrationID: r.ID,
			SiteID: a.SiteID, Title: a.Title, Cents: a.CreditCents})
	}
	return true, nil
}

// giveBack returns, in tx, what a cancelled confirmed seat paid: the
// credit, and the charge not yet paid.
func (s *Service) giveBack(ctx context.Context, tx bun.IDB, a *Atelier, r *Registration) error {
	switch a.Pricing {
	case PricingPrice:
		return s.cfg.Payments.VoidAtelierCharge(ctx, tx, r.ID)
	case PricingCredits:
		return s.cfg.Payments.RefundAtelierCredit(ctx, tx, r.UserID, r.ID)
	}
	return nil
}
