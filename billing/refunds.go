package billing

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stripe/stripe-go/v79"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// GetPayment returns one payment.
func (s *Service) GetPayment(ctx context.Context, paymentID string) (*Payment, error) {
	var p Payment
	if err := s.db.NewSelect().Model(&p).Where("id = ?", paymentID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errPaymentNotFound
		}
		return nil, fmt.Errorf("get payment: %w", err)
	}
	return &p, nil
}

// Refunded is what a refund gives back: the payment, and the credit note
// issued for it (nil for a Stripe payment, whose credit note follows
// Stripe's webhook, or a payment recorded before invoicing existed).
type Refunded struct {
	Payment    *Payment
	CreditNote *invoicing.Invoice
}

// Refund gives money back on a payment. An on-site payment is refunded at
// the desk here and now: the payment records it and a credit note
// (avoir) is issued against its invoice, in one transaction. A Stripe
// payment is refunded at Stripe; its charge.refunded webhook then records
// it and issues the credit note, exactly as for a refund made in Stripe's
// dashboard. reason (required, at most 500 characters) is printed on the
// credit note.
func (s *Service) Refund(ctx context.Context, paymentID string, amountCents int64, reason string) (*Refunded, error) {
	reason = strings.TrimSpace(reason)
	var pay stripePayment
	if err := s.db.NewSelect().Model(&pay).Where("id = ?", paymentID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errPaymentNotFound
		}
		return nil, fmt.Errorf("get payment: %w", err)
	}
	left := pay.AmountCents - pay.RefundedCents
	var v errs.Validator
	v.Check(amountCents > 0, "amount_cents", "must be positive")
	v.Check(amountCents <= left, "amount_cents", "at most %d cents are left to refund on this payment", left)
	v.Check(reason != "", "reason", "is required: it is printed on the credit note")
	v.Check(utf8.RuneCountInString(reason) <= maxRefundReason, "reason", "must be at most %d characters", maxRefundReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if pay.Status != paySucceeded && pay.Status != payRefunded {
		return nil, errs.Rule("payment_id", "not_refundable", "only a succeeded payment is refunded (this one is %s)", pay.Status)
	}
	if pay.Provider == SourceStripe {
		if s.stripe.api == nil || pay.StripePaymentIntentID == nil {
			return nil, refuseUnavailable("online_payment_unavailable", "online refunds need Stripe to be configured")
		}
		params := &stripe.RefundParams{PaymentIntent: pay.StripePaymentIntentID, Amount: stripe.Int64(amountCents)}
		params.SetIdempotencyKey(fmt.Sprintf("relais-refund-%s-%d", pay.ID, pay.RefundedCents+amountCents))
		// The webhook's credit note reads the reason kept on the payment.
		if _, err := s.db.NewUpdate().Model((*stripePayment)(nil)).Set("refund_reason = ?", reason).Where("id = ?", pay.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("keep refund reason: %w", err)
		}
		if _, err := s.stripe.api.Refunds.New(params); err != nil {
			return nil, refuseUnavailable("payment_provider_unavailable", "Stripe could not refund: %s", err.Error())
		}
		return &Refunded{Payment: &pay.Payment}, nil // the webhook records it
	}
	var cn *invoicing.Invoice
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		found, err := lockStripeRow(ctx, tx, &pay, "id = ?", paymentID)
		if err != nil || !found {
			return fmt.Errorf("lock payment: %w", err)
		}
		if amountCents > pay.AmountCents-pay.RefundedCents {
			return errs.Invalid("amount_cents", "at most %d cents are left to refund on this payment", pay.AmountCents-pay.RefundedCents)
		}
		pay.RefundReason = reason
		cn, err = s.recordRefund(ctx, tx, &pay, pay.RefundedCents+amountCents, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Refunded{Payment: &pay.Payment, CreditNote: cn}, nil
}

// maxRefundReason is the longest refund reason, in characters.
const maxRefundReason = 500

// recordRefund is the one path of every refund, at the desk (Refund) or at
// Stripe (its charge.refunded webhook): pay, locked in tx, has now had
// refundedCents given back in all, more than it recorded. It records that,
// withdraws a day pass or pack once its payment is fully refunded (or
// Stripe says so: full), and issues the credit note of the part not yet
// recorded. A membership follows its subscription: a refund does not
// cancel one. The credit note carries pay.RefundReason (the reason given
// to Relais), which is then cleared; a refund made in Stripe's dashboard
// has none and reads "Remboursement".
func (s *Service) recordRefund(ctx context.Context, tx bun.IDB, pay *stripePayment, refundedCents int64, full bool) (*invoicing.Invoice, error) {
	delta := refundedCents - pay.RefundedCents
	now := s.now()
	reason := pay.RefundReason
	pay.RefundedCents, pay.UpdatedAt, pay.RefundReason = refundedCents, now, ""
	if full || refundedCents >= pay.AmountCents {
		pay.Status = payRefunded
		if pay.Purpose == PlanDayPass || pay.Purpose == PlanPack {
			if _, err := tx.NewUpdate().Table(targetTable(pay.Purpose)).Set("status = ?, updated_at = ?", StatusCanceled, now).
				Where("id = ?", *pay.TargetID).Exec(ctx); err != nil {
				return nil, fmt.Errorf("cancel refunded %s: %w", pay.Purpose, err)
			}
		}
	}
	if err := saveStripeRow(ctx, tx, pay); err != nil {
		return nil, err
	}
	cn, err := s.issueCreditNote(ctx, tx, &pay.Payment, delta, reason)
	if err != nil {
		return nil, fmt.Errorf("credit note for payment %s: %w", pay.ID, err)
	}
	return cn, nil
}
