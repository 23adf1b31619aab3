package billing

// Plan changes of memberships paid by a Stripe subscription.
//
// A membership plan sold online has its own Stripe Product and monthly
// Price (stripePrice), and its subscription names that price: changing the
// plan swaps the subscription item's price, and every subscription and
// invoice object Stripe sends names the plan it is for (the price's
// plan_id metadata, or our stored price id).
//
//   - Upgrade (a dearer plan, or one at the same price): the price is
//     swapped at once with proration_behavior=always_invoice, so Stripe
//     invoices and charges the prorated difference for the rest of the
//     period right away — the member gets the better plan now and pays for
//     it now, and the invoice.paid webhook (billing_reason
//     subscription_update) yields our French invoice for exactly that
//     amount. (create_prorations would leave the difference on the next
//     renewal's invoice: a month of credit, and an invoice mixing two
//     services.) payment_behavior=pending_if_incomplete keeps the old price
//     at Stripe until that invoice is paid, so a declined card leaves the
//     member on their old plan rather than on a plan nobody paid for.
//   - Downgrade (a cheaper plan): the price is swapped at once with
//     proration_behavior=none, so nothing is charged or credited now and
//     the next renewal is billed at the new price. The member keeps the
//     dearer plan until the period ends: the membership records the new
//     plan as next_plan_id and switches when the renewal's invoice is paid.
//     (A subscription schedule would do the same at Stripe with two more
//     objects to keep in step, and it blocks cancel_at_period_end.)
//
// The membership row is never changed by the request itself: it follows
// the subscription and invoice objects in the webhooks, applied in any
// order and once each like every other Stripe state.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// stripePrice returns the Stripe Price of membership plan p, creating its
// Product and Price the first time. Both calls carry idempotency keys
// derived from the plan, so racing first checkouts get the same objects.
// A plan's price never changes (plans are retired, not repriced), nor does
// its Stripe Price.
func (s *Service) stripePrice(ctx context.Context, p *Plan) (string, error) {
	if p.StripePriceID != nil {
		return *p.StripePriceID, nil
	}
	prodParams := &stripe.ProductParams{Name: stripe.String(p.Name)}
	prodParams.AddMetadata("plan_id", p.ID)
	prodParams.Context = ctx
	prodParams.SetIdempotencyKey("relais-product-" + p.ID)
	prod, err := s.stripe.api.Products.New(prodParams)
	if err != nil {
		return "", &providerError{fmt.Errorf("create stripe product: %w", err)}
	}
	priceParams := &stripe.PriceParams{
		Product:    stripe.String(prod.ID),
		Currency:   stripe.String(string(stripe.CurrencyEUR)),
		UnitAmount: stripe.Int64(p.PriceCents), // TTC: our invoices derive HT and VAT
		Recurring:  &stripe.PriceRecurringParams{Interval: stripe.String(string(stripe.PriceRecurringIntervalMonth))},
	}
	priceParams.AddMetadata("plan_id", p.ID)
	priceParams.Context = ctx
	priceParams.SetIdempotencyKey("relais-price-" + p.ID)
	price, err := s.stripe.api.Prices.New(priceParams)
	if err != nil {
		return "", &providerError{fmt.Errorf("create stripe price: %w", err)}
	}
	// Whoever stored first wins; read it back.
	if _, err := s.db.NewUpdate().Model((*Plan)(nil)).Set("stripe_product_id = ?, stripe_price_id = ?", prod.ID, price.ID).
		Where("id = ? AND stripe_price_id IS NULL", p.ID).Exec(ctx); err != nil {
		return "", fmt.Errorf("store stripe price: %w", err)
	}
	var priceID string
	if err := s.db.NewSelect().Model((*Plan)(nil)).Column("stripe_price_id").Where("id = ?", p.ID).Scan(ctx, &priceID); err != nil {
		return "", fmt.Errorf("read stripe price: %w", err)
	}
	p.StripeProductID, p.StripePriceID = &prod.ID, &priceID
	return priceID, nil
}

// changePlanAtStripe swaps the price of the membership's subscription (see
// the package comment above). Nothing changes here: the webhooks do it.
func (s *Service) changePlanAtStripe(ctx context.Context, m *Membership, cur, next *Plan) error {
	if s.stripe.api == nil {
		return refuseUnavailable("online_payment_unavailable", "online payment is not configured; the plan cannot be changed at Stripe")
	}
	ctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	priceID, err := s.stripePrice(ctx, next)
	if err != nil {
		return stripeRefusal(err, "Stripe could not prepare the new plan")
	}
	getParams := &stripe.SubscriptionParams{}
	getParams.Context = ctx
	sub, err := s.stripe.api.Subscriptions.Get(*m.StripeSubscriptionID, getParams)
	if err != nil {
		return stripeRefusal(&providerError{err}, "Stripe could not read the subscription")
	}
	if sub.Items == nil || len(sub.Items.Data) != 1 {
		return errs.Rule("membership_id", "subscription_not_changeable", "the Stripe subscription of this membership does not have exactly one item")
	}
	params := &stripe.SubscriptionParams{
		Items: []*stripe.SubscriptionItemsParams{{ID: stripe.String(sub.Items.Data[0].ID), Price: stripe.String(priceID)}},
	}
	if next.PriceCents >= cur.PriceCents && next.ID != m.PlanID {
		params.ProrationBehavior = stripe.String("always_invoice")
		params.PaymentBehavior = stripe.String("pending_if_incomplete")
	} else {
		// A downgrade, or back to the current plan (undoing a pending
		// downgrade): nothing to charge for this period.
		params.ProrationBehavior = stripe.String("none")
	}
	params.Context = ctx
	// Retries of this call are the same change; the next change (even back
	// and forth) has another key, since the membership's state moved.
	params.SetIdempotencyKey(fmt.Sprintf("relais-plan-%s-%s-%d", m.ID, next.ID, m.UpdatedAt.UnixNano()))
	if _, err := s.stripe.api.Subscriptions.Update(*m.StripeSubscriptionID, params); err != nil {
		return stripeRefusal(&providerError{err}, "Stripe could not change the subscription")
	}
	return nil
}

// stripeRefusal maps a failed call to Stripe: a declined card is the
// member's to fix (402); anything else is Stripe being unavailable (503).
func stripeRefusal(err error, detail string) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.Type == stripe.ErrorTypeCard {
		return errs.Problemf(errs.ErrPaymentRequired, "payment_declined", "the payment was declined: %s", se.Msg)
	}
	var pe *providerError
	if !errors.As(err, &pe) {
		return err // our database
	}
	return refuseUnavailable("payment_provider_unavailable", "%s: %s", errs.Msg(detail), err.Error())
}

// planOfPrice is the membership plan a Stripe price stands for: the
// plan_id its metadata carries, or the plan whose price it is. Nil for a
// price we did not create (subscriptions from before plans had prices).
func planOfPrice(ctx context.Context, tx bun.IDB, price *stripe.Price) (*Plan, error) {
	if price == nil {
		return nil, nil
	}
	if planID := price.Metadata["plan_id"]; planID != "" {
		p, err := getPlan(ctx, tx, planID)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil
		}
		return p, err
	}
	if price.ID == "" {
		return nil, nil
	}
	var p Plan
	if err := tx.NewSelect().Model(&p).Where("stripe_price_id = ? AND kind = ?", price.ID, PlanMembership).Limit(1).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("find plan of price %s: %w", price.ID, err)
	}
	return &p, nil
}

// followPlan applies to m the plan its subscription is billed at now
// (Stripe's state observed in an event). A dearer plan (or one at the same
// price) is an upgrade, in effect at once; a cheaper one a downgrade, in
// effect from the next period — or now if periodStart says that period has
// begun (later than the one m holds).
func followPlan(ctx context.Context, tx bun.IDB, m *stripeMembership, billed *Plan, periodStart *time.Time) error {
	if billed == nil || billed.Kind != PlanMembership {
		return nil
	}
	if billed.ID == m.PlanID {
		m.NextPlanID = nil // a pending downgrade was undone
		return nil
	}
	cur, err := getPlan(ctx, tx, m.PlanID)
	if err != nil {
		return err
	}
	newPeriod := periodStart != nil && m.CurrentPeriodStart != nil && periodStart.After(*m.CurrentPeriodStart)
	if billed.PriceCents >= cur.PriceCents || newPeriod {
		m.PlanID, m.NextPlanID = billed.ID, nil
		return nil
	}
	m.NextPlanID = &billed.ID
	return nil
}

// subscriptionPrice is the price a subscription bills (its one item's).
func subscriptionPrice(sub *stripe.Subscription) *stripe.Price {
	if sub.Items == nil || len(sub.Items.Data) == 0 || sub.Items.Data[0] == nil {
		return nil
	}
	return sub.Items.Data[0].Price
}

// prorationPrices are the prices of the lines of a plan change's invoice:
// the new plan's (charged for the rest of the period) and the old one's
// (credited for the unused time), and the period charged.
func prorationPrices(inv *stripe.Invoice) (to, from *stripe.Price, start, end *time.Time) {
	if inv.Lines == nil {
		return nil, nil, nil, nil
	}
	for _, l := range inv.Lines.Data {
		if l == nil {
			continue
		}
		switch {
		case l.Amount > 0 && to == nil:
			to = l.Price
			if l.Period != nil && l.Period.Start > 0 && l.Period.End > 0 {
				s, e := time.Unix(l.Period.Start, 0).UTC(), time.Unix(l.Period.End, 0).UTC()
				start, end = &s, &e
			}
		case l.Amount < 0 && from == nil:
			from = l.Price
		}
	}
	return to, from, start, end
}
