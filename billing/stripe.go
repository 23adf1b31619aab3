package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/client"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
)

// StripeConfig connects billing to Stripe.
type StripeConfig struct {
	// SecretKey (sk_live_…, sk_test_…); without it online checkout is
	// unavailable.
	SecretKey string
	// WebhookSecret (whsec_…) signs the events of our webhook endpoint, which
	// must be created with stripe.APIVersion (2024-06-20).
	WebhookSecret string
	// APIURL replaces https://api.stripe.com, for stripe-mock in tests.
	APIURL string
}

type stripeClient struct {
	api           *client.API // nil without a secret key
	webhookSecret string
}

// Payment statuses.
const (
	payPending   = "pending"
	paySucceeded = "succeeded"
	payFailed    = "failed"
	payRefunded  = "refunded"
	payExpired   = "expired"
)

const (
	// stripeTimeout bounds one call to Stripe, stripe-go's retries
	// included: a member is waiting for the checkout page.
	stripeTimeout = 20 * time.Second
	// stripeMinimumCents is the smallest charge Stripe accepts in euros.
	stripeMinimumCents = 50
)

var errOnlinePaymentUnavailable = &errs.Problem{Kind: errs.ErrUnavailable, Code: "online_payment_unavailable",
	Detail: "online payment is not configured; pay on site"}

// newStripeClient connects to Stripe as cfg says. It uses its own client
// rather than stripe-go's global key and backends, so that several services
// (tests run in parallel) can talk to different Stripe endpoints.
func newStripeClient(cfg StripeConfig) *stripeClient {
	sc := &stripeClient{webhookSecret: cfg.WebhookSecret}
	if cfg.SecretKey != "" {
		backend := func(kind stripe.SupportedBackend, u string) stripe.Backend {
			bc := &stripe.BackendConfig{
				// We return Stripe's errors and log them with their context;
				// stripe-go's own logger would print them again to stderr.
				LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
			}
			if u != "" {
				bc.URL = stripe.String(u)
			}
			return stripe.GetBackendWithConfig(kind, bc)
		}
		sc.api = client.New(cfg.SecretKey, &stripe.Backends{
			API:     backend(stripe.APIBackend, cfg.APIURL),
			Connect: backend(stripe.ConnectBackend, ""),
			Uploads: backend(stripe.UploadsBackend, ""),
		})
	}
	return sc
}

// providerError is a failed call to Stripe (unreachable, too slow, or
// refusing): the member may try again later.
type providerError struct{ err error }

func (e *providerError) Error() string { return e.err.Error() }
func (e *providerError) Unwrap() error { return e.err }

// DayPassCheckout names the site and local day (YYYY-MM-DD) of a day pass.
type DayPassCheckout struct {
	SiteID string
	Date   string
}

// CheckoutRequest is what a member buys online: exactly one of a membership
// plan, a day pass (the site's day pass plan) or a pack plan.
type CheckoutRequest struct {
	PlanID     string
	DayPass    *DayPassCheckout
	PackID     string
	SuccessURL string
	CancelURL  string
	// SiteID, for a network-wide plan, is the site that sells it: its legal
	// entity issues the invoices.
	SiteID string
	// Buyer is who the invoices are made out to (the renewals' too):
	// required when invoicing is on, as for payments on site.
	Buyer *invoicing.Buyer
}

// CheckoutResult is where to send the member to pay.
type CheckoutResult struct {
	SessionID string
	URL       string
	PaymentID string
	// TargetID is the pending membership, day pass or pack.
	TargetID string
}

// Checkout opens a Stripe Checkout Session for a membership (a monthly
// subscription), a day pass or a pack. The membership, pass or pack and its
// payment are created pending; the webhook activates them once Stripe has
// the money. When Stripe cannot be reached nothing is left pending and the
// error is errs.ErrUnavailable.
func (s *Service) Checkout(ctx context.Context, userID string, req CheckoutRequest) (*CheckoutResult, error) {
	if s.stripe.api == nil {
		return nil, errOnlinePaymentUnavailable
	}
	var err error
	if req.Buyer, err = s.defaultBuyer(ctx, userID, req.Buyer); err != nil {
		return nil, err
	}
	p, day, err := s.checkoutPlan(ctx, req)
	if err != nil {
		return nil, err
	}
	pay, err := s.openCheckout(ctx, userID, p, day, req.SiteID, req.Buyer)
	if err != nil {
		return nil, err
	}
	// No transaction is held while Stripe answers: it can take seconds.
	sess, err := s.createCheckoutSession(ctx, userID, p, day, pay, req)
	if err != nil {
		s.abandonCheckout(context.WithoutCancel(ctx), pay)
		return nil, checkoutFailed(ctx, err, "payment_id", pay.ID)
	}
	// The session exists now: record it even if the member has gone. (The
	// webhook finds the payment by client_reference_id anyway.)
	if _, err := s.db.NewUpdate().Model((*Payment)(nil)).Set("stripe_checkout_session_id = ?", sess.ID).
		Where("id = ?", pay.ID).Exec(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("store checkout session: %w", err)
	}
	return &CheckoutResult{SessionID: sess.ID, URL: sess.URL, PaymentID: pay.ID, TargetID: *pay.TargetID}, nil
}

// checkoutPlan validates req and finds the plan it buys (and, for a day
// pass, the day).
func (s *Service) checkoutPlan(ctx context.Context, req CheckoutRequest) (*Plan, string, error) {
	var v errs.Validator
	n := 0
	for _, given := range []bool{req.PlanID != "", req.DayPass != nil, req.PackID != ""} {
		if given {
			n++
		}
	}
	v.Check(n == 1, "plan_id", "give exactly one of plan_id, day_pass and pack_id")
	v.Check(validReturnURL(req.SuccessURL), "success_url", "must be an absolute http(s) URL")
	v.Check(validReturnURL(req.CancelURL), "cancel_url", "must be an absolute http(s) URL")
	if req.DayPass != nil {
		v.Check(req.DayPass.SiteID != "", "day_pass.site_id", "is required")
		v.Check(req.DayPass.Date != "", "day_pass.date", "is required")
	}
	// The invoice is issued when the webhook arrives; it must not fail then.
	if err := v.Merge(checkBuyer(req.Buyer)); err != nil {
		return nil, "", err
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	var (
		p     *Plan
		field string
		kind  string
		day   string
	)
	plan := func(planID string) (*Plan, error) {
		p, err := getPlan(ctx, s.db, planID)
		if errors.Is(err, errs.ErrNotFound) {
			return nil, nil
		}
		return p, err
	}
	var err error
	switch {
	case req.PlanID != "":
		field, kind = "plan_id", PlanMembership
		p, err = plan(req.PlanID)
	case req.PackID != "":
		field, kind = "pack_id", PlanPack
		p, err = plan(req.PackID)
	default:
		field, kind, day = "day_pass.site_id", PlanDayPass, req.DayPass.Date
		var dp Plan
		err = s.db.NewSelect().Model(&dp).Where("site_id = ? AND kind = ? AND active", req.DayPass.SiteID, PlanDayPass).
			Order("price_cents", "id").Limit(1).Scan(ctx)
		switch {
		case err == nil:
			p = &dp
		case !isNoRows(err):
			return nil, "", fmt.Errorf("find day pass plan: %w", err)
		default:
			return nil, "", errs.Invalid(field, "this site sells no day pass")
		}
	}
	switch {
	case err != nil:
		return nil, "", err
	case p == nil:
		return nil, "", errs.Invalid(field, "no such plan")
	case p.Kind != kind:
		return nil, "", errs.Invalid(field, "is a %s plan, not a %s plan", p.Kind, kind)
	case !p.Active:
		return nil, "", errs.Invalid(field, "this plan is no longer on sale")
	case p.PriceCents < stripeMinimumCents:
		return nil, "", errs.Rule(field, "price_too_low_for_online_payment", "online payment needs a price of at least 0,50 €")
	}
	if p.SiteID == nil {
		// The invoice is issued by the legal entity of the site that sells.
		if _, err := calendar.LoadSite(ctx, s.db, req.SiteID); err != nil {
			return nil, "", errs.Rule("site_id", "selling_site_required", "a network-wide plan names the site that sells it (its entity issues the invoice)")
		}
	}
	return p, day, nil
}

func validReturnURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= 2000 && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// openCheckout creates, in one transaction, the pending membership, day
// pass or pack and its pending payment.
func (s *Service) openCheckout(ctx context.Context, userID string, p *Plan, day, sellingSite string, buyer *invoicing.Buyer) (*Payment, error) {
	var pay *Payment
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var (
			target string
			site   = p.SiteID
		)
		if site == nil && sellingSite != "" {
			site = &sellingSite
		}
		switch p.Kind {
		case PlanMembership:
			m, err := s.createMembership(ctx, tx, userID, p, SourceStripe)
			if err != nil {
				return err
			}
			target = m.ID
		case PlanDayPass:
			dp, err := s.createDayPass(ctx, tx, userID, p, day)
			if err != nil {
				return renameField(err, "date", "day_pass.date")
			}
			target, site = dp.ID, &dp.SiteID
		case PlanPack:
			pk, err := s.createPack(ctx, tx, userID, p)
			if err != nil {
				return err
			}
			target = pk.ID
		}
		if p.Kind != PlanMembership {
			// createDayPass and createPack serve the desk too; mark the source.
			if _, err := tx.NewUpdate().Table(targetTable(p.Kind)).Set("source = ?", SourceStripe).Where("id = ?", target).Exec(ctx); err != nil {
				return fmt.Errorf("mark %s source: %w", p.Kind, err)
			}
		}
		now := s.now()
		pay = &Payment{ID: id.New(), UserID: userID, SiteID: site, Purpose: p.Kind, TargetID: &target, PlanID: &p.ID,
			AmountCents: p.PriceCents, Method: MethodCard, Provider: SourceStripe, Status: payPending, Buyer: buyer, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(pay).Exec(ctx); err != nil {
			return fmt.Errorf("insert payment: %w", err)
		}
		return nil
	})
	return pay, err
}

// renameField points a validation error at the request's own field name.
func renameField(err error, from, to string) error {
	var fields []errs.FieldError
	var ve *errs.ValidationError
	var pr *errs.Problem
	switch {
	case errors.As(err, &ve):
		fields = ve.Fields
	case errors.As(err, &pr):
		fields = pr.Fields
	}
	for i := range fields {
		if fields[i].Field == from {
			fields[i].Field = to
		}
	}
	return err
}

func targetTable(kind string) string {
	switch kind {
	case PlanMembership:
		return "memberships"
	case PlanDayPass:
		return "day_passes"
	default:
		return "packs"
	}
}

// createCheckoutSession gets the member's Stripe customer and opens the
// session. Both calls carry idempotency keys, so stripe-go's retries (and a
// member's double click) never create two.
func (s *Service) createCheckoutSession(ctx context.Context, userID string, p *Plan, day string, pay *Payment, req CheckoutRequest) (*stripe.CheckoutSession, error) {
	ctx, cancel := context.WithTimeout(ctx, stripeTimeout)
	defer cancel()
	customerID, err := s.stripeCustomer(ctx, userID)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"payment_id": pay.ID, "user_id": userID, "target_id": *pay.TargetID, "purpose": p.Kind}
	name := p.Name
	if day != "" {
		name += " – " + day
	}
	params := &stripe.CheckoutSessionParams{
		Customer:          stripe.String(customerID),
		ClientReferenceID: stripe.String(pay.ID),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		Metadata:          meta,
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(string(stripe.CurrencyEUR)),
				UnitAmount:  stripe.Int64(p.PriceCents), // TTC: our invoices derive HT and VAT
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(name)},
			},
		}},
	}
	if p.Kind == PlanMembership {
		// A subscription bills the plan's own Stripe Price, so that a plan
		// change can swap it and every event names the plan. One-off
		// payments keep an inline price: their line names the day.
		priceID, err := s.stripePrice(ctx, p)
		if err != nil {
			return nil, err
		}
		params.LineItems[0].PriceData, params.LineItems[0].Price = nil, stripe.String(priceID)
		params.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		// Subscription and invoice events carry these, so they find the
		// membership even when they arrive before checkout.session.completed.
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta}
	} else {
		params.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		params.PaymentIntentData = &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta}
	}
	params.Context = ctx
	params.SetIdempotencyKey("relais-checkout-" + pay.ID)
	sess, err := s.stripe.api.CheckoutSessions.New(params)
	if err != nil {
		return nil, &providerError{fmt.Errorf("create checkout session: %w", err)}
	}
	return sess, nil
}

type stripeCustomerRow struct {
	bun.BaseModel `bun:"table:stripe_customers"`

	UserID     string    `bun:"user_id,pk"`
	CustomerID string    `bun:"customer_id"`
	CreatedAt  time.Time `bun:"created_at"`
}

// stripeCustomer returns the member's Stripe customer, creating it the
// first time: one customer per member, so Stripe shows one history.
func (s *Service) stripeCustomer(ctx context.Context, userID string) (string, error) {
	var customerID string
	err := s.db.NewSelect().Table("stripe_customers").Column("customer_id").Where("user_id = ?", userID).Scan(ctx, &customerID)
	if err == nil {
		return customerID, nil
	}
	if !isNoRows(err) {
		return "", fmt.Errorf("find stripe customer: %w", err)
	}
	user, err := s.accounts.Contact(ctx, s.db, userID)
	if err != nil {
		return "", fmt.Errorf("read member: %w", err)
	}
	params := &stripe.CustomerParams{Email: stripe.String(user.Email), Name: stripe.String(user.Name)}
	params.AddMetadata("user_id", userID)
	params.Context = ctx
	// Two concurrent first checkouts get the same customer from Stripe.
	params.SetIdempotencyKey("relais-customer-" + userID)
	c, err := s.stripe.api.Customers.New(params)
	if err != nil {
		return "", &providerError{fmt.Errorf("create stripe customer: %w", err)}
	}
	row := &stripeCustomerRow{UserID: userID, CustomerID: c.ID, CreatedAt: s.now()}
	if _, err := s.db.NewInsert().Model(row).On("CONFLICT (user_id) DO NOTHING").Exec(ctx); err != nil {
		return "", fmt.Errorf("store stripe customer: %w", err)
	}
	// Whoever stored first wins; read it back.
	if err := s.db.NewSelect().Table("stripe_customers").Column("customer_id").Where("user_id = ?", userID).Scan(ctx, &customerID); err != nil {
		return "", fmt.Errorf("read stripe customer: %w", err)
	}
	return customerID, nil
}

// abandonCheckout expires the payment and cancels its target when no
// session could be opened, so nothing stays pending. Should this fail too,
// Lifecycle expires them after a day.
func (s *Service) abandonCheckout(ctx context.Context, pay *Payment) {
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		if _, err := tx.NewUpdate().Model((*Payment)(nil)).Set("status = ?, updated_at = ?", payExpired, now).
			Where("id = ? AND status = ?", pay.ID, payPending).Exec(ctx); err != nil {
			return err
		}
		q := tx.NewUpdate().Table(targetTable(pay.Purpose)).Set("status = ?, updated_at = ?", StatusCanceled, now).
			Where("id = ? AND status = ?", *pay.TargetID, StatusPending)
		if pay.Purpose == PlanMembership {
			q = q.Set("canceled_at = ?", now)
		}
		_, err := q.Exec(ctx)
		return err
	})
	if err != nil {
		slog.ErrorContext(ctx, "abandon checkout", "payment_id", pay.ID, "error", err)
	}
}

// cancelAtStripe ends a subscription at Stripe: at the period's end, or now.
func (s *Service) cancelAtStripe(subscriptionID, membershipID string, atPeriodEnd bool) error {
	if s.stripe.api == nil {
		return refuseUnavailable("online_payment_unavailable", "online payment is not configured; the membership cannot be cancelled at Stripe")
	}
	var err error
	if atPeriodEnd {
		params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(true)}
		params.SetIdempotencyKey("relais-cancel-" + membershipID)
		_, err = s.stripe.api.Subscriptions.Update(subscriptionID, params)
	} else {
		params := &stripe.SubscriptionCancelParams{}
		params.SetIdempotencyKey("relais-cancel-now-" + membershipID)
		_, err = s.stripe.api.Subscriptions.Cancel(subscriptionID, params)
	}
	if err != nil {
		return refuseUnavailable("payment_provider_unavailable", "Stripe could not cancel the subscription: %s", err.Error())
	}
	return nil
}

// checkoutFailed is the answer to a Checkout session Stripe could not
// open: a 503 naming the provider when Stripe failed, the error itself
// (a 500) when our database did.
func checkoutFailed(ctx context.Context, err error, key, id string) error {
	var pe *providerError
	if !errors.As(err, &pe) {
		return err
	}
	slog.WarnContext(ctx, "stripe checkout failed", key, id, "error", err)
	return fmt.Errorf("%w: %w", &errs.Problem{Kind: errs.ErrUnavailable, Code: "payment_provider_unavailable",
		Detail: "the payment provider cannot be reached; try again in a minute"}, err)
}

func refuseUnavailable(code, format string, args ...any) error {
	return errs.Problemf(errs.ErrUnavailable, code, format, args...)
}
