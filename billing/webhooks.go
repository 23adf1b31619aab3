package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/id"
)

// WebhookSignatureError says a webhook request is not a genuine Stripe
// event for our endpoint: signature missing or wrong, signed more than 5
// minutes before or after now, body not an event, or an API version other
// than stripe.APIVersion. The API answers 400 and nothing was changed.
type WebhookSignatureError struct{ Err error }

func (e *WebhookSignatureError) Error() string { return "stripe webhook rejected: " + e.Err.Error() }
func (e *WebhookSignatureError) Unwrap() error { return e.Err }

type stripeEventRow struct {
	bun.BaseModel `bun:"table:stripe_events"`

	ID         string    `bun:"id,pk"`
	Type       string    `bun:"type"`
	ReceivedAt time.Time `bun:"received_at"`
}

// HandleWebhook applies one Stripe event. Stripe delivers events at least
// once and in any order, so:
//   - the event id is stored in the transaction that applies it: a second
//     delivery finds it and does nothing;
//   - state comes from the object in the event, and a membership ignores a
//     subscription state older than the one it holds;
//   - money facts (a payment succeeded, a renewal paid, a refund) are
//     applied whatever the order, once each.
//
// An event about a payment or subscription we do not know is stored and
// ignored: answering an error would only make Stripe retry it for days.
// Any other error rolls everything back; Stripe retries.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) error {
	if s.stripe.webhookSecret == "" {
		return errOnlinePaymentUnavailable
	}
	ev, err := verifyWebhook(payload, signature, s.stripe.webhookSecret, time.Now())
	if err != nil {
		return &WebhookSignatureError{Err: err}
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		row := &stripeEventRow{ID: ev.ID, Type: string(ev.Type), ReceivedAt: s.now()}
		res, err := tx.NewInsert().Model(row).On("CONFLICT (id) DO NOTHING").Exec(ctx)
		if err != nil {
			return fmt.Errorf("record stripe event: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // delivered again: already applied
		}
		return s.applyEvent(ctx, tx, &ev)
	})
}

// webhookTolerance is how far a webhook's signed timestamp may be from now,
// in either direction: Stripe's own default, which stripe-go applies to the
// past only.
const webhookTolerance = webhook.DefaultTolerance

// verifyWebhook checks a webhook's signature and that its signed timestamp
// is within webhookTolerance of now, before or after. stripe-go refuses only
// timestamps too far in the past, so a signed request dated ahead (by a
// sender whose clock runs fast, or one captured and kept) would be accepted
// until its date had come and gone; here it is refused like a bad signature.
//
// now is the wall clock, not the service's clock: the timestamp is when
// Stripe sent the request, and tests that move the business clock still
// sign with the real time.
func verifyWebhook(payload []byte, header, secret string, now time.Time) (stripe.Event, error) {
	signed, ok := signedAt(header)
	if !ok {
		return stripe.Event{}, webhook.ErrInvalidHeader
	}
	if d := now.Sub(signed); d > webhookTolerance || d < -webhookTolerance {
		return stripe.Event{}, fmt.Errorf("%w: signed at %s", webhook.ErrTooOld, signed.UTC().Format(time.RFC3339))
	}
	// The timestamp is part of what is signed, so checking it before the
	// signature is checking the one the signature covers.
	return webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{IgnoreTolerance: true})
}

// signedAt reads the t= of a Stripe-Signature header
// ("t=1495999758,v1=…") as stripe-go does: the last t wins.
func signedAt(header string) (time.Time, bool) {
	var at time.Time
	found := false
	for _, pair := range strings.Split(header, ",") {
		key, value, _ := strings.Cut(pair, "=")
		if key != "t" {
			continue
		}
		sec, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		at, found = time.Unix(sec, 0), true
	}
	return at, found
}

func (s *Service) applyEvent(ctx context.Context, tx bun.IDB, ev *stripe.Event) error {
	at := time.Unix(ev.Created, 0).UTC()
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
		stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
			return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
		}
		return s.onCheckoutSession(ctx, tx, ev, at, &cs)
	case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentFailed:
		var inv stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
			return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
		}
		return s.onInvoice(ctx, tx, ev, at, &inv)
	case stripe.EventTypeCustomerSubscriptionCreated, stripe.EventTypeCustomerSubscriptionUpdated,
		stripe.EventTypeCustomerSubscriptionDeleted:
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
		}
		return s.onSubscription(ctx, tx, ev, at, &sub)
	case stripe.EventTypeChargeRefunded:
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
			return fmt.Errorf("decode %s %s: %w", ev.Type, ev.ID, err)
		}
		return s.onChargeRefunded(ctx, tx, ev, &ch)
	}
	return nil
}

// ignoreEvent logs an event about something we do not know (a warning:
// a misrouted webhook or lost data) or no longer apply (normal with
// unordered delivery).
func ignoreEvent(ctx context.Context, ev *stripe.Event, reason string, args ...any) {
	level := slog.LevelWarn
	if reason == reasonStale || reason == reasonCanceled {
		level = slog.LevelInfo
	}
	slog.Log(ctx, level, "stripe event ignored", append([]any{"event_id", ev.ID, "type", string(ev.Type), "reason", reason}, args...)...)
}

const (
	reasonStale    = "older than the membership's state"
	reasonCanceled = "membership canceled"
)

// stripePayment is a payment with the columns only Stripe uses.
type stripePayment struct {
	Payment         `bun:",extend"`
	StripeInvoiceID *string `bun:"stripe_invoice_id"`
	RefundedCents   int64   `bun:"refunded_cents"`
	// RefundReason is the reason of a refund asked through Relais, kept
	// until its credit note is issued.
	RefundReason string `bun:"refund_reason"`
}

// stripeMembership is a membership with the time of the Stripe state it
// holds.
type stripeMembership struct {
	Membership    `bun:",extend"`
	StripeStateAt *time.Time `bun:"stripe_state_at"`
}

// fresh reports whether a state observed at at is not older than the one m
// holds.
func (m *stripeMembership) fresh(at time.Time) bool {
	return m.StripeStateAt == nil || !at.Before(*m.StripeStateAt)
}

// lockStripeRow reads one row into model, locked until the transaction ends on
// PostgreSQL (SQLite transactions hold the write lock from the start). It
// reports false when there is no such row.
func lockStripeRow(ctx context.Context, tx bun.IDB, model any, where string, args ...any) (bool, error) {
	q := tx.NewSelect().Model(model).Where(where, args...).Limit(1)
	if err := db.ForUpdate(q).Scan(ctx); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func saveStripeRow(ctx context.Context, tx bun.IDB, model any) error {
	if _, err := tx.NewUpdate().Model(model).WherePK().ExcludeColumn("id", "user_id", "created_at").Exec(ctx); err != nil {
		return fmt.Errorf("save %T: %w", model, err)
	}
	return nil
}

// onCheckoutSession records the outcome of a checkout. A card payment
// completes paid; a SEPA debit completes unpaid and settles days later
// with async_payment_succeeded or _failed.
func (s *Service) onCheckoutSession(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, cs *stripe.CheckoutSession) error {
	if cs.Metadata["purpose"] == PurposeContribution {
		return s.contributions.OnContributionSession(ctx, tx, ev, at, cs)
	}
	payID := cs.ClientReferenceID
	if payID == "" {
		payID = cs.Metadata["payment_id"]
	}
	var pay stripePayment
	found, err := lockStripeRow(ctx, tx, &pay, "id = ? AND provider = ?", payID, SourceStripe)
	if err != nil {
		return fmt.Errorf("find payment: %w", err)
	}
	if !found {
		ignoreEvent(ctx, ev, "unknown payment", "payment_id", payID, "session_id", cs.ID)
		return nil
	}
	if pay.StripeCheckoutSessionID != nil && *pay.StripeCheckoutSessionID != cs.ID {
		ignoreEvent(ctx, ev, "session of another checkout", "payment_id", payID, "session_id", cs.ID)
		return nil
	}
	pay.StripeCheckoutSessionID = &cs.ID
	if cs.PaymentIntent != nil && cs.PaymentIntent.ID != "" {
		pay.StripePaymentIntentID = &cs.PaymentIntent.ID
	}
	if cs.Invoice != nil && cs.Invoice.ID != "" {
		// A subscription's first invoice: its charge is how a refund finds us.
		pay.StripeInvoiceID = &cs.Invoice.ID
	}
	switch {
	case ev.Type == stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		return s.failCheckout(ctx, tx, &pay)
	case ev.Type == stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded,
		cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid,
		cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		var subID string
		if cs.Subscription != nil {
			subID = cs.Subscription.ID
		}
		return s.succeedCheckout(ctx, tx, ev, at, &pay, subID)
	default:
		// Unpaid: a debit is on its way. Keep the ids; wait.
		return saveStripeRow(ctx, tx, &pay)
	}
}

// succeedCheckout records the money and grants what it paid for. An
// expired payment is revived too: a SEPA debit can settle after Lifecycle
// gave up on it, and the member has paid.
func (s *Service) succeedCheckout(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, pay *stripePayment, subID string) error {
	if pay.Purpose == PurposeUsage {
		return s.succeedCharges(ctx, tx, ev, at, pay)
	}
	if pay.Status != payPending && pay.Status != payExpired {
		if pay.Status == payFailed {
			ignoreEvent(ctx, ev, "payment already failed", "payment_id", pay.ID)
		}
		return saveStripeRow(ctx, tx, pay)
	}
	now := s.now()
	pay.Status, pay.PaidAt, pay.UpdatedAt = paySucceeded, &at, now
	plan, err := getPlan(ctx, tx, *pay.PlanID)
	if err != nil {
		return err
	}
	what := &Purchase{Payment: &pay.Payment}
	switch pay.Purpose {
	case PlanMembership:
		var m stripeMembership
		found, err := lockStripeRow(ctx, tx, &m, "id = ?", *pay.TargetID)
		if err != nil || !found {
			return fmt.Errorf("membership %s of payment %s: found %v: %w", *pay.TargetID, pay.ID, found, err)
		}
		if subID != "" && m.StripeSubscriptionID == nil {
			m.StripeSubscriptionID = &subID
		}
		// A newer subscription event may already have set the state.
		if m.fresh(at) && (m.Status == StatusPending || m.Status == StatusCanceled) {
			end := addMonths(at, 1, siteLocation(ctx, tx, m.SiteID)).UTC()
			m.Status, m.CurrentPeriodStart, m.CurrentPeriodEnd = StatusActive, &at, &end
			m.PastDueSince, m.CanceledAt, m.CancelAtPeriodEnd, m.StripeStateAt = nil, nil, false, &at
		}
		m.UpdatedAt = now
		if err := s.saveStripeMembership(ctx, tx, &m); err != nil {
			return err
		}
		what.Membership = &m.Membership
	case PlanDayPass:
		var dp DayPass
		if err := tx.NewSelect().Model(&dp).Where("id = ?", *pay.TargetID).Scan(ctx); err != nil {
			return fmt.Errorf("day pass of payment %s: %w", pay.ID, err)
		}
		dp.Status, dp.UpdatedAt = StatusActive, now
		if err := saveStripeRow(ctx, tx, &dp); err != nil {
			return err
		}
		what.DayPass = &dp
	case PlanPack:
		var pk Pack
		if err := tx.NewSelect().Model(&pk).Where("id = ?", *pay.TargetID).Scan(ctx); err != nil {
			return fmt.Errorf("pack of payment %s: %w", pay.ID, err)
		}
		pk.Status, pk.UpdatedAt = StatusActive, now
		if err := saveStripeRow(ctx, tx, &pk); err != nil {
			return err
		}
		what.Pack = &pk
	}
	if err := s.invoice(ctx, tx, pay, plan, what); err != nil {
		return err
	}
	return saveStripeRow(ctx, tx, pay)
}

// invoice issues the invoice of a payment through the invoicing hook.
func (s *Service) invoice(ctx context.Context, tx bun.IDB, pay *stripePayment, plan *Plan, what *Purchase) error {
	if pay.InvoiceID != nil {
		return nil
	}
	invoiceID, err := s.issueInvoice(ctx, tx, &pay.Payment, plan, what)
	if err != nil {
		return fmt.Errorf("invoice payment %s: %w", pay.ID, err)
	}
	pay.InvoiceID = &invoiceID
	return nil
}

// failCheckout records a debit that bounced and cancels what was still
// waiting for it.
func (s *Service) failCheckout(ctx context.Context, tx bun.IDB, pay *stripePayment) error {
	if pay.Status != payPending && pay.Status != payExpired {
		return saveStripeRow(ctx, tx, pay)
	}
	now := s.now()
	pay.Status, pay.UpdatedAt = payFailed, now
	if pay.TargetID == nil {
		// Charges: no longer held once their payment is not pending.
		return saveStripeRow(ctx, tx, pay)
	}
	q := tx.NewUpdate().Table(targetTable(pay.Purpose)).Set("status = ?, updated_at = ?", StatusCanceled, now).
		Where("id = ? AND status = ?", *pay.TargetID, StatusPending)
	if pay.Purpose == PlanMembership {
		q = q.Set("canceled_at = ?", now)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("cancel %s: %w", pay.Purpose, err)
	}
	return saveStripeRow(ctx, tx, pay)
}

// subscriptionMembership finds the membership of a Stripe subscription: by
// its id, or, for events that overtake checkout.session.completed, by the
// metadata the checkout put on the subscription. It links the two.
func subscriptionMembership(ctx context.Context, tx bun.IDB, subID string, meta map[string]string) (*stripeMembership, error) {
	var m stripeMembership
	if subID != "" {
		found, err := lockStripeRow(ctx, tx, &m, "stripe_subscription_id = ?", subID)
		if err != nil || found {
			return &m, err
		}
	}
	target := meta["target_id"]
	if meta["purpose"] != PlanMembership || !id.Valid(target) {
		return nil, nil
	}
	found, err := lockStripeRow(ctx, tx, &m, "id = ? AND source = ?", target, SourceStripe)
	if err != nil || !found {
		return nil, err
	}
	if m.StripeSubscriptionID != nil && *m.StripeSubscriptionID != subID {
		return nil, nil // the membership belongs to another subscription
	}
	if subID != "" {
		m.StripeSubscriptionID = &subID
	}
	return &m, nil
}

// onSubscription mirrors a subscription's state on its membership.
func (s *Service) onSubscription(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, sub *stripe.Subscription) error {
	m, err := subscriptionMembership(ctx, tx, sub.ID, sub.Metadata)
	if err != nil {
		return fmt.Errorf("find membership: %w", err)
	}
	if m == nil {
		ignoreEvent(ctx, ev, "unknown subscription", "subscription_id", sub.ID)
		return nil
	}
	now := s.now()
	m.UpdatedAt = now
	ended := ev.Type == stripe.EventTypeCustomerSubscriptionDeleted ||
		sub.Status == stripe.SubscriptionStatusCanceled || sub.Status == stripe.SubscriptionStatusIncompleteExpired
	switch {
	case ended:
		// A subscription never comes back once ended: apply whatever the order.
		if m.Status != StatusCanceled {
			canceled := at
			if sub.EndedAt > 0 {
				canceled = time.Unix(sub.EndedAt, 0).UTC()
			}
			m.Status, m.CanceledAt = StatusCanceled, &canceled
		}
		if m.fresh(at) {
			m.StripeStateAt = &at
		}
		return s.saveStripeMembership(ctx, tx, m)
	case !m.fresh(at):
		ignoreEvent(ctx, ev, reasonStale, "membership_id", m.ID)
		return s.saveStripeMembership(ctx, tx, m) // keeps a link just made
	case m.Status == StatusCanceled:
		ignoreEvent(ctx, ev, reasonCanceled, "membership_id", m.ID)
		return s.saveStripeMembership(ctx, tx, m)
	}
	switch sub.Status {
	case stripe.SubscriptionStatusActive, stripe.SubscriptionStatusTrialing:
		m.Status, m.PastDueSince = StatusActive, nil
	case stripe.SubscriptionStatusPastDue:
		s.markPastDue(m, at)
	case stripe.SubscriptionStatusUnpaid, stripe.SubscriptionStatusPaused:
		m.Status = StatusSuspended
	}
	// incomplete: the first payment is under way; the checkout events tell.
	m.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
	var periodStart *time.Time
	if sub.CurrentPeriodStart > 0 && sub.CurrentPeriodEnd > 0 {
		start := time.Unix(sub.CurrentPeriodStart, 0).UTC()
		periodStart = &start
	}
	// The plan the subscription bills now: an upgrade or a pending downgrade
	// (see planchange.go). Judged against the period m held until now.
	billed, err := planOfPrice(ctx, tx, subscriptionPrice(sub))
	if err != nil {
		return err
	}
	if err := followPlan(ctx, tx, m, billed, periodStart); err != nil {
		return err
	}
	if periodStart != nil {
		end := time.Unix(sub.CurrentPeriodEnd, 0).UTC()
		m.CurrentPeriodStart, m.CurrentPeriodEnd = periodStart, &end
	}
	m.StripeStateAt = &at
	return s.saveStripeMembership(ctx, tx, m)
}

// markPastDue starts the grace period, unless it runs already or is over
// (Lifecycle suspended the membership: Stripe still retrying does not
// reopen it).
func (s *Service) markPastDue(m *stripeMembership, at time.Time) {
	switch m.Status {
	case StatusActive:
		m.Status, m.PastDueSince = StatusPastDue, &at
	case StatusPastDue:
		if m.PastDueSince == nil {
			m.PastDueSince = &at
		}
	}
}

// onInvoice handles a subscription invoice paid (the first or a renewal)
// or unpaid.
func (s *Service) onInvoice(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, inv *stripe.Invoice) error {
	var subID string
	if inv.Subscription != nil {
		subID = inv.Subscription.ID
	}
	var meta map[string]string
	if inv.SubscriptionDetails != nil {
		meta = inv.SubscriptionDetails.Metadata
	}
	if subID == "" {
		ignoreEvent(ctx, ev, "not a subscription invoice", "invoice_id", inv.ID)
		return nil
	}
	m, err := subscriptionMembership(ctx, tx, subID, meta)
	if err != nil {
		return fmt.Errorf("find membership: %w", err)
	}
	if m == nil {
		ignoreEvent(ctx, ev, "unknown subscription", "subscription_id", subID, "invoice_id", inv.ID)
		return nil
	}
	m.UpdatedAt = s.now()
	if ev.Type == stripe.EventTypeInvoicePaymentFailed {
		// The first invoice failing is the checkout's business; a renewal
		// failing opens the grace period. An upgrade's invoice failing
		// leaves the subscription as it was (pending_if_incomplete).
		if m.fresh(at) && (m.Status == StatusActive || m.Status == StatusPastDue) &&
			inv.BillingReason != stripe.InvoiceBillingReasonSubscriptionUpdate {
			s.markPastDue(m, at)
			m.StripeStateAt = &at
		}
		return s.saveStripeMembership(ctx, tx, m)
	}
	if inv.BillingReason == stripe.InvoiceBillingReasonSubscriptionUpdate {
		return s.onPlanChangeInvoice(ctx, tx, m, inv, at)
	}
	start, end, price := invoicePeriod(inv)
	if m.fresh(at) && m.Status != StatusCanceled && m.Status != StatusPending && start != nil {
		newPeriod := m.CurrentPeriodStart == nil || start.After(*m.CurrentPeriodStart)
		// The plan this invoice bills is the plan of its period: a downgrade
		// starts with the new period even if its subscription event is late.
		billed, err := planOfPrice(ctx, tx, price)
		if err != nil {
			return err
		}
		switch {
		case billed != nil && newPeriod:
			m.PlanID, m.NextPlanID = billed.ID, nil
		case billed != nil:
			if err := followPlan(ctx, tx, m, billed, start); err != nil {
				return err
			}
		case m.NextPlanID != nil && newPeriod:
			m.PlanID, m.NextPlanID = *m.NextPlanID, nil // a downgrade starts with the new period
		}
		m.Status, m.PastDueSince, m.CurrentPeriodStart, m.CurrentPeriodEnd, m.StripeStateAt = StatusActive, nil, start, end, &at
	}
	if err := s.saveStripeMembership(ctx, tx, m); err != nil {
		return err
	}
	// The first invoice is the checkout's payment, recorded by
	// checkout.session.completed.
	if inv.BillingReason == stripe.InvoiceBillingReasonSubscriptionCreate || inv.AmountPaid <= 0 {
		return nil
	}
	return s.recordRenewal(ctx, tx, m, inv, at, start, end)
}

// invoicePeriod is the service period of a subscription invoice: its
// subscription line's. (The invoice's own period_start/period_end cover
// the period before, for usage billing.)
func invoicePeriod(inv *stripe.Invoice) (start, end *time.Time, price *stripe.Price) {
	if inv.Lines == nil {
		return nil, nil, nil
	}
	for _, l := range inv.Lines.Data {
		if l.Period != nil && l.Period.Start > 0 && l.Period.End > 0 && !l.Proration &&
			(l.Type == stripe.InvoiceLineItemTypeSubscription || l.Subscription != nil) {
			s, e := time.Unix(l.Period.Start, 0).UTC(), time.Unix(l.Period.End, 0).UTC()
			return &s, &e, l.Price
		}
	}
	return nil, nil, nil
}

// recordRenewal records the payment of a renewal invoice and invoices it,
// once per Stripe invoice whatever events carry it.
func (s *Service) recordRenewal(ctx context.Context, tx bun.IDB, m *stripeMembership, inv *stripe.Invoice, at time.Time, start, end *time.Time) error {
	plan, err := getPlan(ctx, tx, m.PlanID)
	if err != nil {
		return err
	}
	// Invoice the period this invoice paid for, even when a newer event
	// has already moved the membership further.
	billed := m.Membership
	if start != nil {
		billed.CurrentPeriodStart, billed.CurrentPeriodEnd = start, end
	}
	return s.recordSubscriptionPayment(ctx, tx, m, inv, at, plan, &Purchase{Membership: &billed})
}

// onPlanChangeInvoice handles the invoice Stripe issues when a membership
// is upgraded (billing_reason subscription_update, see planchange.go): the
// prorated difference for the rest of the period, paid now. Being paid,
// the upgrade is in effect (whether or not its subscription event came);
// the payment is recorded and invoiced once.
func (s *Service) onPlanChangeInvoice(ctx context.Context, tx bun.IDB, m *stripeMembership, inv *stripe.Invoice, at time.Time) error {
	toPrice, fromPrice, start, end := prorationPrices(inv)
	to, err := planOfPrice(ctx, tx, toPrice)
	if err != nil {
		return err
	}
	from, err := planOfPrice(ctx, tx, fromPrice)
	if err != nil {
		return err
	}
	if to != nil && m.fresh(at) && m.Status != StatusCanceled && m.Status != StatusPending {
		if err := followPlan(ctx, tx, m, to, nil); err != nil {
			return err
		}
		m.StripeStateAt = &at
	}
	if err := s.saveStripeMembership(ctx, tx, m); err != nil {
		return err
	}
	if inv.AmountPaid <= 0 {
		return nil
	}
	if to == nil {
		if to, err = getPlan(ctx, tx, m.PlanID); err != nil {
			return err
		}
	}
	change := &PlanChange{From: from, To: to}
	if start != nil {
		change.Start, change.End = *start, *end
	} else if m.CurrentPeriodEnd != nil {
		change.Start, change.End = at, *m.CurrentPeriodEnd
	}
	billed := m.Membership
	return s.recordSubscriptionPayment(ctx, tx, m, inv, at, to, &Purchase{Membership: &billed, PlanChange: change})
}

// recordSubscriptionPayment records the payment of a subscription invoice
// (beyond the first, which is the checkout's) and invoices it, once per
// Stripe invoice whatever events carry it.
func (s *Service) recordSubscriptionPayment(ctx context.Context, tx bun.IDB, m *stripeMembership, inv *stripe.Invoice, at time.Time, plan *Plan, what *Purchase) error {
	n, err := tx.NewSelect().Model((*Payment)(nil)).Where("stripe_invoice_id = ?", inv.ID).Count(ctx)
	if err != nil || n > 0 {
		return err
	}
	// The buyer given at checkout is the renewals' buyer too.
	var prev Payment
	err = tx.NewSelect().Model(&prev).Column("buyer", "site_id").Where("target_id = ? AND buyer IS NOT NULL", m.ID).
		Order("created_at DESC").Limit(1).Scan(ctx)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("find buyer: %w", err)
	}
	// A network-wide membership is invoiced by the site that sold it.
	site := m.SiteID
	if site == nil {
		site = prev.SiteID
	}
	now := s.now()
	pay := &stripePayment{Payment: Payment{ID: id.New(), UserID: m.UserID, SiteID: site, Purpose: PlanMembership,
		TargetID: &m.ID, PlanID: &plan.ID, AmountCents: inv.AmountPaid, Method: MethodCard, Provider: SourceStripe,
		Status: paySucceeded, Buyer: prev.Buyer, CreatedAt: now, PaidAt: &at, UpdatedAt: now}, StripeInvoiceID: &inv.ID}
	if inv.PaymentIntent != nil && inv.PaymentIntent.ID != "" {
		pay.StripePaymentIntentID = &inv.PaymentIntent.ID
	}
	if _, err := tx.NewInsert().Model(pay).Exec(ctx); err != nil {
		return fmt.Errorf("insert subscription payment: %w", err)
	}
	what.Payment = &pay.Payment
	if err := s.invoice(ctx, tx, pay, plan, what); err != nil {
		return err
	}
	return saveStripeRow(ctx, tx, pay)
}

// onChargeRefunded records a refund and issues its credit note. Stripe
// gives the cumulative amount refunded; only the part not yet recorded is
// credited, so partial refunds add up in any order.
func (s *Service) onChargeRefunded(ctx context.Context, tx bun.IDB, ev *stripe.Event, ch *stripe.Charge) error {
	var pay stripePayment
	found := false
	var err error
	if ch.PaymentIntent != nil && ch.PaymentIntent.ID != "" {
		found, err = lockStripeRow(ctx, tx, &pay, "stripe_payment_intent_id = ? AND provider = ?", ch.PaymentIntent.ID, SourceStripe)
	}
	if err == nil && !found && ch.Invoice != nil && ch.Invoice.ID != "" {
		found, err = lockStripeRow(ctx, tx, &pay, "stripe_invoice_id = ?", ch.Invoice.ID)
	}
	if err != nil {
		return fmt.Errorf("find refunded payment: %w", err)
	}
	if !found {
		if isContribution, err := s.contributions.OnContributionRefunded(ctx, tx, ev, ch); isContribution || err != nil {
			return err
		}
		ignoreEvent(ctx, ev, "unknown payment", "charge_id", ch.ID)
		return nil
	}
	if pay.Status != paySucceeded && pay.Status != payRefunded {
		// Its success has not been recorded yet (events out of order):
		// fail so that Stripe delivers this again later.
		return fmt.Errorf("refund of payment %s which is %s", pay.ID, pay.Status)
	}
	if ch.AmountRefunded <= pay.RefundedCents {
		return nil // an older view of the refunds
	}
	_, err = s.recordRefund(ctx, tx, &pay, ch.AmountRefunded, ch.Refunded)
	return err
}
