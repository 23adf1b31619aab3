package billing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
)

// PurposeUsage is the purpose of a payment settling pay-per-use charges.
const PurposeUsage = "usage"

// chargesCheckoutTTL is how long the Checkout Session of a member's charges
// can be paid (Stripe's expires_at; at least 30 minutes). While it runs, and
// while a debit started in it is on its way, the charges are held: neither
// the desk nor another checkout takes them, so they cannot be paid twice.
const chargesCheckoutTTL = time.Hour

// heldCharges is the condition, on usage_charges, of a charge held by a
// pending online payment: one still payable, or completed with a debit on
// its way (its payment intent is known).
const heldCharges = `payment_id IN (SELECT p.id FROM payments p WHERE p.status = 'pending' AND p.provider = 'stripe'
	AND (p.created_at > ? OR p.stripe_payment_intent_id IS NOT NULL))`

// heldSince is the creation time after which a pending checkout of charges
// may still be paid (with a margin for clocks).
func (s *Service) heldSince() time.Time { return s.now().Add(-chargesCheckoutTTL - 5*time.Minute) }

// lockFreeCharges reads, locked, a member's open charges at a site that no
// pending online payment holds. On PostgreSQL a transaction that waited for
// the lock of a charge re-checks it against the snapshot it started with,
// which misses the payment that holds it now: the held ones are therefore
// dropped again by a second statement, which sees every committed payment.
func lockFreeCharges(ctx context.Context, tx bun.IDB, siteID, userID string, since time.Time) ([]UsageCharge, error) {
	var cs []UsageCharge
	q := tx.NewSelect().Model(&cs).Where("site_id = ? AND user_id = ? AND status = 'open'", siteID, userID).
		Where("payment_id IS NULL OR NOT "+heldCharges, since).Order("created_at", "id")
	if db.IsSQLite(tx) {
		if err := q.Scan(ctx); err != nil {
			return nil, fmt.Errorf("read charges: %w", err)
		}
		return cs, nil
	}
	if err := q.For("UPDATE").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read charges: %w", err)
	}
	var held []string
	if err := tx.NewSelect().Model((*UsageCharge)(nil)).Column("id").Where("site_id = ? AND user_id = ? AND status = 'open'", siteID, userID).
		Where(heldCharges, since).Scan(ctx, &held); err != nil {
		return nil, fmt.Errorf("read held charges: %w", err)
	}
	free := cs[:0]
	for _, c := range cs {
		if !slices.Contains(held, c.ID) {
			free = append(free, c)
		}
	}
	return free, nil
}

// ChargesCheckout is a member paying online their open pay-per-use charges
// at a site.
type ChargesCheckout struct {
	SiteID     string
	SuccessURL string
	CancelURL  string
	Buyer      *invoicing.Buyer
}

// ChargesCheckoutResult is where to send the member, and for how much.
type ChargesCheckoutResult struct {
	SessionID   string
	URL         string
	PaymentID   string
	AmountCents int64
	Charges     int
}

// CheckoutCharges opens a Stripe Checkout Session (mode payment) for every
// open charge of the member at the site, held by a pending payment. The
// webhook settles them and issues their invoice once paid (see
// succeedCharges); a failed or abandoned payment frees them again.
func (s *Service) CheckoutCharges(ctx context.Context, userID string, in ChargesCheckout) (*ChargesCheckoutResult, error) {
	if s.stripe.api == nil {
		return nil, errOnlinePaymentUnavailable
	}
	var v errs.Validator
	v.Check(in.SiteID != "", "site_id", "is required")
	v.Check(validReturnURL(in.SuccessURL), "success_url", "must be an absolute http(s) URL")
	v.Check(validReturnURL(in.CancelURL), "cancel_url", "must be an absolute http(s) URL")
	var err error
	if in.Buyer, err = s.defaultBuyer(ctx, userID, in.Buyer); err != nil {
		return nil, err
	}
	if err := v.Merge(checkBuyer(in.Buyer)); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	site, err := calendar.LoadSite(ctx, s.db, in.SiteID)
	if err != nil {
		return nil, errs.Invalid("site_id", "no such site")
	}
	var (
		pay *Payment
		cs  []UsageCharge
	)
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		var err error
		if cs, err = lockFreeCharges(ctx, tx, in.SiteID, userID, s.heldSince()); err != nil {
			return err
		}
		var total int64
		ids := make([]string, len(cs))
		for i, c := range cs {
			total += c.AmountCents
			ids[i] = c.ID
		}
		switch {
		case len(cs) == 0:
			held, err := tx.NewSelect().Model((*UsageCharge)(nil)).Where("site_id = ? AND user_id = ? AND status = 'open'", in.SiteID, userID).Count(ctx)
			if err != nil {
				return fmt.Errorf("count charges: %w", err)
			}
			if held > 0 {
				return &errs.Problem{Kind: errs.ErrConflict, Code: "charges_checkout_pending",
					Detail: "these charges are already being paid online; finish that payment, or try again in an hour"}
			}
			return errs.Rule("site_id", "nothing_to_pay", "you owe nothing at this site")
		case total < stripeMinimumCents:
			return errs.Rule("site_id", "price_too_low_for_online_payment", "online payment needs at least 0,50 €; pay at the desk")
		}
		site := in.SiteID
		pay = &Payment{ID: id.New(), UserID: userID, SiteID: &site, Purpose: PurposeUsage, AmountCents: total, Method: MethodCard,
			Provider: SourceStripe, Status: payPending, Buyer: in.Buyer, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(pay).Exec(ctx); err != nil {
			return fmt.Errorf("insert payment: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*UsageCharge)(nil)).Set("payment_id = ?", pay.ID).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("hold charges: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sess, err := s.createChargesSession(ctx, userID, site, pay, len(cs), in)
	if err != nil {
		// Nothing stays held: the payment expires, the charges are free.
		if _, uerr := s.db.NewUpdate().Model((*Payment)(nil)).Set("status = ?, updated_at = ?", payExpired, s.now()).
			Where("id = ? AND status = ?", pay.ID, payPending).Exec(context.WithoutCancel(ctx)); uerr != nil {
			slog.ErrorContext(ctx, "abandon charges checkout", "payment_id", pay.ID, "error", uerr)
		}
		return nil, checkoutFailed(ctx, err, "payment_id", pay.ID)
	}
	if _, err := s.db.NewUpdate().Model((*Payment)(nil)).Set("stripe_checkout_session_id = ?", sess.ID).
		Where("id = ?", pay.ID).Exec(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("store checkout session: %w", err)
	}
	return &ChargesCheckoutResult{SessionID: sess.ID, URL: sess.URL, PaymentID: pay.ID, AmountCents: pay.AmountCents, Charges: len(cs)}, nil
}

// createChargesSession opens the Checkout Session of held charges: one
// line for their total (Checkout takes at most 100 lines; our invoice has
// one per charge).
func (s *Service) createChargesSession(ctx context.Context, userID string, site *calendar.Site, pay *Payment, n int, in ChargesCheckout) (*stripe.CheckoutSession, error) {
	ctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	customerID, err := s.stripeCustomer(ctx, userID)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"payment_id": pay.ID, "user_id": userID, "purpose": PurposeUsage}
	name := fmt.Sprintf("Utilisation — %s, %d réservation", site.Name, n)
	if n > 1 {
		name += "s"
	}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		Customer:          stripe.String(customerID),
		ClientReferenceID: stripe.String(pay.ID),
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
		ExpiresAt:         stripe.Int64(s.now().Add(chargesCheckoutTTL).Unix()),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(string(stripe.CurrencyEUR)),
				UnitAmount:  stripe.Int64(pay.AmountCents), // TTC
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
	}
	params.Context = ctx
	params.SetIdempotencyKey("relais-checkout-" + pay.ID)
	sess, err := s.stripe.api.CheckoutSessions.New(params)
	if err != nil {
		return nil, &providerError{fmt.Errorf("create checkout session: %w", err)}
	}
	return sess, nil
}

// succeedCharges records an online payment of charges: the charges it
// holds are settled and invoiced, once. Should some have been settled
// otherwise meanwhile (only possible if the payment had expired here
// first), the member paid them twice: the difference is logged for a
// refund rather than invoiced twice.
func (s *Service) succeedCharges(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, pay *stripePayment) error {
	if pay.Status != payPending && pay.Status != payExpired {
		if pay.Status == payFailed {
			ignoreEvent(ctx, ev, "payment already failed", "payment_id", pay.ID)
		}
		return saveStripeRow(ctx, tx, pay)
	}
	pay.Status, pay.PaidAt, pay.UpdatedAt = paySucceeded, &at, s.now()
	var cs []UsageCharge
	q := tx.NewSelect().Model(&cs).Where("payment_id = ? AND status = 'open'", pay.ID).Order("created_at", "id")
	if err := db.ForUpdate(q).Scan(ctx); err != nil {
		return fmt.Errorf("read held charges: %w", err)
	}
	var total int64
	ids := make([]string, len(cs))
	for i, c := range cs {
		total += c.AmountCents
		ids[i] = c.ID
	}
	if total != pay.AmountCents {
		slog.ErrorContext(ctx, "online payment of charges settled elsewhere meanwhile: refund the difference",
			"payment_id", pay.ID, "paid_cents", pay.AmountCents, "still_owed_cents", total)
	}
	if len(cs) > 0 {
		if _, err := tx.NewUpdate().Model((*UsageCharge)(nil)).Set("status = 'invoiced'").Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("settle charges: %w", err)
		}
		if pay.InvoiceID == nil {
			invoiceID, err := s.issueChargesInvoice(ctx, tx, &pay.Payment, cs)
			if err != nil {
				return fmt.Errorf("invoice payment %s: %w", pay.ID, err)
			}
			pay.InvoiceID = &invoiceID
		}
	}
	return saveStripeRow(ctx, tx, pay)
}
