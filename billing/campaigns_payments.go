package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/invoicing"
)

// What campaigns (above billing) ask of billing's payments, and what
// billing's webhooks hand to campaigns. billing cannot import campaigns:
// it declares ContributionEvents, which campaigns.Contributions implements
// and cmd/relais gives billing in its Config.

// PurposeContribution marks the Checkout Sessions of campaign
// contributions in their metadata, so the webhook tells them from plan
// payments.
const PurposeContribution = "contribution"

// ContributionEvents records what Stripe reports about contributions,
// inside the webhook's transaction.
type ContributionEvents interface {
	// OnContributionSession records the outcome of a contribution's
	// checkout (a session whose metadata purpose is PurposeContribution).
	OnContributionSession(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, cs *stripe.CheckoutSession) error
	// OnContributionRefunded records a refund of a charge no payment of
	// billing's knows; it reports whether the charge was a contribution's.
	OnContributionRefunded(ctx context.Context, tx bun.IDB, ev *stripe.Event, ch *stripe.Charge) (bool, error)
}

// noContributions is billing without campaigns (tests of plans and
// payments): a contribution's events are those of an unknown payment.
type noContributions struct{}

func (noContributions) OnContributionSession(ctx context.Context, _ bun.IDB, ev *stripe.Event, _ time.Time, cs *stripe.CheckoutSession) error {
	ignoreEvent(ctx, ev, "unknown contribution", "session_id", cs.ID)
	return nil
}

func (noContributions) OnContributionRefunded(context.Context, bun.IDB, *stripe.Event, *stripe.Charge) (bool, error) {
	return false, nil
}

// StripeMinimumCents is the smallest charge Stripe accepts in euros.
const StripeMinimumCents = stripeMinimumCents

// OnlinePaymentReady answers online_payment_unavailable (503) when Stripe
// is not configured.
func (s *Service) OnlinePaymentReady() error {
	if s.stripe.api == nil {
		return errOnlinePaymentUnavailable
	}
	return nil
}

// CheckoutSession opens a Stripe Checkout Session of params for the
// member userID, as their Stripe customer (created the first time).
func (s *Service) CheckoutSession(ctx context.Context, userID string, params *stripe.CheckoutSessionParams) (*stripe.CheckoutSession, error) {
	if err := s.OnlinePaymentReady(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	customerID, err := s.stripeCustomer(ctx, userID)
	if err != nil {
		return nil, err
	}
	params.Customer = stripe.String(customerID)
	params.Context = ctx
	sess, err := s.stripe.api.CheckoutSessions.New(params)
	if err != nil {
		return nil, &providerError{fmt.Errorf("create checkout session: %w", err)}
	}
	return sess, nil
}

// StripeRefund asks Stripe to refund amount of a payment intent, once per key
// however often it is asked.
func (s *Service) StripeRefund(ctx context.Context, paymentIntent string, amount int64, key string) error {
	if err := s.OnlinePaymentReady(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	params := &stripe.RefundParams{PaymentIntent: stripe.String(paymentIntent), Amount: stripe.Int64(amount)}
	params.Context = ctx
	params.SetIdempotencyKey(key)
	if _, err := s.stripe.api.Refunds.New(params); err != nil {
		return &providerError{fmt.Errorf("refund %s: %w", paymentIntent, err)}
	}
	return nil
}

// CheckoutFailed turns a failed checkout into what the member is told:
// a provider's failure becomes a bad gateway, logged with key and id.
func CheckoutFailed(ctx context.Context, err error, key, id string) error {
	return checkoutFailed(ctx, err, key, id)
}

// ValidReturnURL is the rule of a checkout's success and cancel URLs.
func ValidReturnURL(raw string) bool { return validReturnURL(raw) }

// CheckBuyer checks who an invoice is made out to.
func CheckBuyer(b *invoicing.Buyer) error { return checkBuyer(b) }

// LockStripeRow locks the row of model that where selects, in tx, the
// way webhooks do; it reports whether there was one.
func LockStripeRow(ctx context.Context, tx bun.IDB, model any, where string, args ...any) (bool, error) {
	return lockStripeRow(ctx, tx, model, where, args...)
}

// IgnoreEvent logs an event about something unknown or no longer applied.
func IgnoreEvent(ctx context.Context, ev *stripe.Event, reason string, args ...any) {
	ignoreEvent(ctx, ev, reason, args...)
}

// SiteLocation is the site's time zone (Paris when unknown), in which a
// day of service is counted.
func SiteLocation(ctx context.Context, idb bun.IDB, siteID string) *time.Location {
	return siteLocation(ctx, idb, &siteID)
}
