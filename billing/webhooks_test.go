package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
)

func (f *stripeFixture) deliver(t testing.TB, ev map[string]any) error {
	t.Helper()
	payload, header := stripetest.SignEvent(t, ev, testWebhookSecret)
	return f.bill.HandleWebhook(context.Background(), payload, header)
}

func (f *stripeFixture) mustDeliver(t testing.TB, ev map[string]any) {
	t.Helper()
	if err := f.deliver(t, ev); err != nil {
		t.Fatalf("deliver %s: %v", ev["type"], err)
	}
}

// Stripe ids of a checkout, derived from our payment id.
func subID(res *CheckoutResult) string          { return "sub_" + res.PaymentID }
func firstInvoiceID(res *CheckoutResult) string { return "in_" + res.PaymentID }
func intentID(res *CheckoutResult) string       { return "pi_" + res.PaymentID }

func metadata(res *CheckoutResult, purpose string) map[string]any {
	return map[string]any{"payment_id": res.PaymentID, "target_id": res.TargetID, "purpose": purpose}
}

// session is the Checkout Session of res as Stripe reports it.
func session(res *CheckoutResult, purpose, paymentStatus string) map[string]any {
	o := map[string]any{"id": res.SessionID, "object": "checkout.session", "client_reference_id": res.PaymentID,
		"payment_status": paymentStatus, "status": "complete", "customer": "cus_test", "metadata": metadata(res, purpose)}
	if purpose == PlanMembership {
		o["mode"], o["subscription"], o["invoice"] = "subscription", subID(res), firstInvoiceID(res)
	} else {
		o["mode"], o["payment_intent"] = "payment", intentID(res)
	}
	return o
}

func subscription(res *CheckoutResult, status string, start, end time.Time) map[string]any {
	return map[string]any{"id": subID(res), "object": "subscription", "status": status, "customer": "cus_test",
		"current_period_start": start.Unix(), "current_period_end": end.Unix(), "cancel_at_period_end": false,
		"metadata": metadata(res, PlanMembership)}
}

func invoice(res *CheckoutResult, id, reason string, start, end time.Time) map[string]any {
	return map[string]any{"id": id, "object": "invoice", "subscription": subID(res), "billing_reason": reason,
		"status": "paid", "amount_paid": 30000, "payment_intent": "pi_" + id, "customer": "cus_test",
		"subscription_details": map[string]any{"metadata": metadata(res, PlanMembership)},
		"lines": map[string]any{"object": "list", "data": []any{map[string]any{"id": "il_" + id, "object": "line_item",
			"type": "subscription", "amount": 30000, "period": map[string]any{"start": start.Unix(), "end": end.Unix()}}}}}
}

// paid checks out kind and delivers its paid completion at the fixture's
// clock.
func (f *stripeFixture) paid(t testing.TB, kind string) *CheckoutResult {
	t.Helper()
	res := f.checkout(t, f.users[0], kind)
	f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, session(res, kind, "paid")))
	return res
}

func TestStripeWebhooks(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	ctx := context.Background()
	paris, _ := time.LoadLocation("Europe/Paris")
	day := func(month, d int) time.Time { return time.Date(2026, time.Month(month), d, 7, 0, 0, 0, paris) }

	t.Run("signature", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.checkout(t, f.users[0], PlanDayPass)
		good := stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanDayPass, "paid"))
		goodBody, goodHeader := stripetest.SignEvent(t, good, testWebhookSecret)
		oldVersion := stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanDayPass, "paid"))
		oldVersion["api_version"] = "2023-10-16"
		oldBody, oldHeader := stripetest.SignEvent(t, oldVersion, testWebhookSecret)
		otherBody, otherHeader := stripetest.SignEvent(t, good, "whsec_someone_else")
		signedAt := func(d time.Duration) *webhook.SignedPayload {
			return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: goodBody, Secret: testWebhookSecret,
				Timestamp: time.Now().Add(d)})
		}
		late, early := signedAt(-10*time.Minute), signedAt(10*time.Minute)
		// Two t= entries: the signature covers the last one, which is
		// the one checked.
		twoTimes := signedAt(10 * time.Minute)
		twoTimes.Header = fmt.Sprintf("t=%d,%s", time.Now().Unix(), twoTimes.Header)
		junk := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte("{not json"), Secret: testWebhookSecret})
		for _, tc := range []struct {
			name    string
			payload []byte
			header  string
		}{
			{"missing signature", goodBody, ""},
			{"garbage signature", goodBody, "t=1,v1=deadbeef"},
			{"other secret", otherBody, otherHeader},
			{"body changed after signing", append([]byte(" "), goodBody...), goodHeader},
			{"too old", late.Payload, late.Header},
			{"10 minutes ahead", early.Payload, early.Header},
			{"10 minutes ahead after a current t", twoTimes.Payload, twoTimes.Header},
			{"no timestamp", goodBody, goodHeader[strings.Index(goodHeader, ",")+1:]},
			{"other API version", oldBody, oldHeader},
			{"not an event", junk.Payload, junk.Header},
		} {
			err := f.bill.HandleWebhook(ctx, tc.payload, tc.header)
			var se *WebhookSignatureError
			if !errors.As(err, &se) {
				t.Errorf("%s: err = %v, want a WebhookSignatureError", tc.name, err)
			}
		}
		if pay := f.payment(t, res.PaymentID); pay.Status != payPending || f.count(t, "stripe_events", "TRUE") != 0 || len(f.issued.invoices()) != 0 {
			t.Fatalf("a rejected webhook changed something: payment %s", pay.Status)
		}
		// The genuine event goes through, and so does one signed within the
		// 5 minutes' tolerance either way (a clock a little ahead).
		if err := f.bill.HandleWebhook(ctx, goodBody, goodHeader); err != nil {
			t.Fatal(err)
		}
		for _, d := range []time.Duration{4 * time.Minute, -4 * time.Minute} {
			ev := stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanDayPass, "paid"))
			payload, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: testWebhookSecret, Timestamp: time.Now().Add(d)})
			if err := f.bill.HandleWebhook(ctx, sp.Payload, sp.Header); err != nil {
				t.Fatalf("signed %s from now: %v", d, err)
			}
		}
		// Without a webhook secret nothing can be verified: 503, Stripe retries.
		f.withStripe(StripeConfig{SecretKey: "sk_test_relais", APIURL: mock})
		if err := f.bill.HandleWebhook(ctx, goodBody, goodHeader); !errors.Is(err, errs.ErrUnavailable) {
			t.Fatalf("without a webhook secret: %v", err)
		}
	})

	t.Run("completed paid", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		for _, kind := range []string{PlanMembership, PlanDayPass, PlanPack} {
			res := f.checkout(t, f.users[0], kind)
			ev := stripetest.Event("checkout.session.completed", *f.clock, session(res, kind, "paid"))
			before := len(f.issued.invoices())
			f.mustDeliver(t, ev)
			f.mustDeliver(t, ev) // delivered twice: applied once
			pay := f.payment(t, res.PaymentID)
			if pay.Status != paySucceeded || pay.PaidAt == nil || !pay.PaidAt.Equal(*f.clock) || pay.InvoiceID == nil {
				t.Fatalf("%s payment = %+v", kind, pay.Payment)
			}
			if got := f.targetStatus(t, kind, res.TargetID); got != StatusActive {
				t.Fatalf("%s is %s, want active", kind, got)
			}
			invoices := f.issued.invoices()
			if len(invoices) != before+1 {
				t.Fatalf("%s: %d invoices issued, want 1", kind, len(invoices)-before)
			}
			// The payment carries the invoice just issued, and that invoice
			// is for what was bought.
			what := invoices[len(invoices)-1]
			prefix := map[string]string{PlanMembership: "Abonnement Nomade — du 02/03/2026 au 01/04/2026",
				PlanDayPass: "Journée — ", PlanPack: "10 h de salle — 10 h de room"}[kind]
			if *pay.InvoiceID != fmt.Sprintf("inv_%d", len(invoices)) || len(what.Lines) != 1 || !strings.HasPrefix(what.Lines[0].Description, prefix) {
				t.Fatalf("%s invoiced %+v", kind, what)
			}
			switch kind {
			case PlanMembership:
				m := f.membershipRow(t, res.TargetID)
				if *m.StripeSubscriptionID != subID(res) || !m.CurrentPeriodStart.Equal(*f.clock) || !m.CurrentPeriodEnd.Equal(day(4, 2)) ||
					*pay.StripeInvoiceID != firstInvoiceID(res) {
					t.Fatalf("membership = %+v, payment invoice %v", m.Membership, pay.StripeInvoiceID)
				}
			default:
				if *pay.StripePaymentIntentID != intentID(res) {
					t.Fatalf("payment intent = %v", pay.StripePaymentIntentID)
				}
			}
		}
		if n := f.count(t, "stripe_events", "TRUE"); n != 3 {
			t.Fatalf("%d events stored, want 3", n)
		}
	})

	t.Run("with the real invoicer", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		f.withInvoicer()
		res := f.paid(t, PlanMembership)
		f.mustDeliver(t, stripetest.Event("invoice.paid", day(4, 2), invoice(res, "in_april", "subscription_cycle", day(4, 2), day(5, 2))))
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(4, 3), stripetest.Charge("pi_in_april", "", 30000, 30000)))
		if n := f.count(t, "invoices", "buyer_user_id = ? AND kind = ?", f.users[0], invoicing.KindInvoice); n != 2 {
			t.Fatalf("%d invoices issued, want the checkout's and the renewal's", n)
		}
		if n := f.count(t, "invoices", "buyer_user_id = ? AND kind = ?", f.users[0], invoicing.KindCreditNote); n != 1 {
			t.Fatalf("%d credit notes issued, want the refund's", n)
		}
		if n := f.count(t, "payments", "invoice_id IS NOT NULL"); n != 2 {
			t.Fatalf("%d payments linked to their invoice, want 2", n)
		}
	})

	t.Run("concurrent duplicates", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.checkout(t, f.users[0], PlanPack)
		payload, header := stripetest.SignEvent(t, stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanPack, "paid")), testWebhookSecret)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.bill.HandleWebhook(ctx, payload, header); err != nil {
					t.Errorf("delivery: %v", err)
				}
			}()
		}
		wg.Wait()
		if n := len(f.issued.invoices()); n != 1 || f.payment(t, res.PaymentID).Status != paySucceeded {
			t.Fatalf("%d invoices for 8 deliveries of one event, want 1", n)
		}
	})

	t.Run("redelivery after a newer event of the same second", func(t *testing.T) {
		t.Parallel()
		// Timestamps cannot order these two; only the stored event id
		// keeps the old one from applying twice.
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanMembership)
		at := day(4, 2)
		active := stripetest.Event("customer.subscription.updated", at, subscription(res, "active", day(4, 2), day(5, 2)))
		f.mustDeliver(t, active)
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", at, subscription(res, "past_due", day(4, 2), day(5, 2))))
		f.mustDeliver(t, active)
		if m := f.membershipRow(t, res.TargetID); m.Status != StatusPastDue {
			t.Fatalf("status %s after the redelivery, want past_due", m.Status)
		}
	})

	t.Run("SEPA: unpaid then settled", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			settle        string
			payment, pass string
			invoices      int
		}{
			{"checkout.session.async_payment_succeeded", paySucceeded, StatusActive, 1},
			{"checkout.session.async_payment_failed", payFailed, StatusCanceled, 0},
		} {
			f := newStripeFixture(t, 1, mock)
			res := f.checkout(t, f.users[0], PlanDayPass)
			f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, session(res, PlanDayPass, "unpaid")))
			if pay := f.payment(t, res.PaymentID); pay.Status != payPending || f.targetStatus(t, PlanDayPass, res.TargetID) != StatusPending ||
				len(f.issued.invoices()) != 0 || *pay.StripePaymentIntentID != intentID(res) {
				t.Fatalf("after an unpaid completion: payment %+v", pay.Payment)
			}
			// The debit settles three days later, after Lifecycle gave up on
			// the checkout: the money still counts.
			settled := f.clock.AddDate(0, 0, 3)
			if _, err := f.bill.Lifecycle(ctx, settled); err != nil {
				t.Fatal(err)
			}
			if pay := f.payment(t, res.PaymentID); pay.Status != payExpired {
				t.Fatalf("Lifecycle left the payment %s", pay.Status)
			}
			f.mustDeliver(t, stripetest.Event(tc.settle, settled, session(res, PlanDayPass, "paid")))
			if pay := f.payment(t, res.PaymentID); pay.Status != tc.payment || len(f.issued.invoices()) != tc.invoices {
				t.Fatalf("%s: payment %s, %d invoices", tc.settle, pay.Status, len(f.issued.invoices()))
			}
			if got := f.targetStatus(t, PlanDayPass, res.TargetID); got != tc.pass {
				t.Fatalf("%s: day pass %s, want %s", tc.settle, got, tc.pass)
			}
		}
	})

	t.Run("out of order", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanMembership)
		t2 := day(4, 2)
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", t2, subscription(res, "active", day(4, 2), day(5, 2))))
		// An older past_due, delivered late, loses against the newer active.
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", t2.Add(-time.Hour), subscription(res, "past_due", day(3, 2), day(4, 2))))
		m := f.membershipRow(t, res.TargetID)
		if m.Status != StatusActive || !m.CurrentPeriodEnd.Equal(day(5, 2)) || !m.StripeStateAt.Equal(t2) {
			t.Fatalf("after a stale past_due: %s until %v", m.Status, m.CurrentPeriodEnd)
		}
		// A newer one applies.
		t3 := t2.Add(24 * time.Hour)
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", t3, subscription(res, "past_due", day(4, 2), day(5, 2))))
		if m := f.membershipRow(t, res.TargetID); m.Status != StatusPastDue || !m.PastDueSince.Equal(t3) {
			t.Fatalf("after a newer past_due: %s since %v", m.Status, m.PastDueSince)
		}

		// Subscription events can overtake the checkout's completion: the
		// metadata finds the membership, and the late completion still
		// records the payment without undoing the newer state.
		res2 := f.checkout(t, f.users[0], PlanMembership)
		start := f.clock.Add(time.Second)
		f.mustDeliver(t, stripetest.Event("customer.subscription.created", start, subscription(res2, "active", start, start.AddDate(0, 1, 0))))
		if m := f.membershipRow(t, res2.TargetID); m.Status != StatusActive || m.StripeSubscriptionID == nil || *m.StripeSubscriptionID != subID(res2) {
			t.Fatalf("membership after an early subscription event: %+v", m.Membership)
		}
		f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, session(res2, PlanMembership, "paid")))
		m = f.membershipRow(t, res2.TargetID)
		if pay := f.payment(t, res2.PaymentID); pay.Status != paySucceeded || m.Status != StatusActive || !m.CurrentPeriodStart.Equal(start) {
			t.Fatalf("after the late completion: payment %s, membership %s from %v", pay.Status, m.Status, m.CurrentPeriodStart)
		}
	})

	t.Run("renewal", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanMembership)
		// The first invoice is the checkout's payment: Stripe's period, no new payment.
		f.mustDeliver(t, stripetest.Event("invoice.paid", f.clock.Add(time.Second), invoice(res, firstInvoiceID(res), "subscription_create", day(3, 2), day(4, 2))))
		if n := f.count(t, "payments", "TRUE"); n != 1 || len(f.issued.invoices()) != 1 {
			t.Fatalf("%d payments after the first invoice, want 1", n)
		}
		renewal := invoice(res, "in_april", "subscription_cycle", day(4, 2), day(5, 2))
		f.mustDeliver(t, stripetest.Event("invoice.paid", day(4, 2), renewal))
		f.mustDeliver(t, stripetest.Event("invoice.paid", day(4, 2), renewal)) // the same invoice in another event
		m := f.membershipRow(t, res.TargetID)
		if m.Status != StatusActive || !m.CurrentPeriodStart.Equal(day(4, 2)) || !m.CurrentPeriodEnd.Equal(day(5, 2)) {
			t.Fatalf("membership after the renewal: %s %v–%v", m.Status, m.CurrentPeriodStart, m.CurrentPeriodEnd)
		}
		var pays []stripePayment
		if err := f.db.NewSelect().Model(&pays).Where("stripe_invoice_id = ?", "in_april").Scan(ctx); err != nil || len(pays) != 1 {
			t.Fatalf("renewal payments: %d, %v", len(pays), err)
		}
		if p := pays[0]; p.Status != paySucceeded || p.AmountCents != 30000 || *p.TargetID != m.ID || p.InvoiceID == nil || *p.StripePaymentIntentID != "pi_in_april" ||
			p.Buyer == nil || p.Buyer.Address.City != "Guéret" {
			t.Fatalf("renewal payment = %+v", p.Payment)
		}
		invoices := f.issued.invoices()
		if len(invoices) != 2 || invoices[1].ServiceFrom != "2026-04-02" || invoices[1].ServiceTo != "2026-05-01" ||
			!strings.HasPrefix(invoices[1].Lines[0].Description, "Abonnement Nomade — du 02/04/2026 au 01/05/2026") {
			t.Fatalf("%d invoices, want the renewal's for April", len(invoices))
		}
	})

	t.Run("payment failed, grace, suspended", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanMembership)
		failed := day(4, 2)
		f.mustDeliver(t, stripetest.Event("invoice.payment_failed", failed, invoice(res, "in_april", "subscription_cycle", day(4, 2), day(5, 2))))
		if m := f.membershipRow(t, res.TargetID); m.Status != StatusPastDue || !m.PastDueSince.Equal(failed) {
			t.Fatalf("after a failed renewal: %s since %v", m.Status, m.PastDueSince)
		}
		for _, tc := range []struct {
			after time.Duration
			want  string
		}{
			{6 * 24 * time.Hour, StatusPastDue},
			{7*24*time.Hour + time.Hour, StatusSuspended},
		} {
			if _, err := f.bill.Lifecycle(ctx, failed.Add(tc.after)); err != nil {
				t.Fatal(err)
			}
			if m := f.membershipRow(t, res.TargetID); m.Status != tc.want {
				t.Fatalf("%v after the failure: %s, want %s", tc.after, m.Status, tc.want)
			}
		}
		// Stripe still retrying (past_due) does not reopen the grace period.
		f.mustDeliver(t, stripetest.Event("customer.subscription.updated", failed.AddDate(0, 0, 8), subscription(res, "past_due", day(4, 2), day(5, 2))))
		if m := f.membershipRow(t, res.TargetID); m.Status != StatusSuspended {
			t.Fatalf("a past_due update reopened a suspended membership: %s", m.Status)
		}
		// The retry succeeds.
		f.mustDeliver(t, stripetest.Event("invoice.paid", failed.AddDate(0, 0, 9), invoice(res, "in_april", "subscription_cycle", day(4, 2), day(5, 2))))
		if m := f.membershipRow(t, res.TargetID); m.Status != StatusActive || m.PastDueSince != nil {
			t.Fatalf("after the retry: %s", m.Status)
		}
	})

	t.Run("subscription deleted", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanMembership)
		ended := day(3, 20)
		sub := subscription(res, "canceled", day(3, 2), day(4, 2))
		sub["ended_at"] = ended.Unix()
		f.mustDeliver(t, stripetest.Event("customer.subscription.deleted", ended, sub))
		m := f.membershipRow(t, res.TargetID)
		if m.Status != StatusCanceled || !m.CanceledAt.Equal(ended) {
			t.Fatalf("after deletion: %s at %v", m.Status, m.CanceledAt)
		}
		// An ended subscription never comes back, whatever arrives after.
		for _, at := range []time.Time{ended.Add(-time.Hour), ended.Add(time.Hour)} {
			f.mustDeliver(t, stripetest.Event("customer.subscription.updated", at, subscription(res, "active", day(3, 2), day(4, 2))))
			if m := f.membershipRow(t, res.TargetID); m.Status != StatusCanceled {
				t.Fatalf("an update at %v revived a deleted subscription: %s", at, m.Status)
			}
		}
	})

	t.Run("refund reason", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanDayPass)
		// Asked through Relais: the reason waits on the payment for the
		// webhook's credit note.
		out, err := f.bill.Refund(context.Background(), res.PaymentID, 1000, "Machine en panne")
		if err != nil || out.CreditNote != nil {
			t.Fatalf("refund at Stripe = %+v, %v", out, err)
		}
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(3, 3), stripetest.Charge(intentID(res), "", 2500, 1000)))
		// Then one made in Stripe's dashboard, without a reason.
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(3, 4), stripetest.Charge(intentID(res), "", 2500, 2500)))
		if got := f.issued.creditReasons(); len(got) != 2 || got[0] != "Machine en panne" || got[1] != "Remboursement partiel" {
			t.Fatalf("credit note reasons %q", got)
		}
	})

	t.Run("refunds", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.paid(t, PlanDayPass)
		pi := intentID(res)
		partial := stripetest.Event("charge.refunded", day(3, 3), stripetest.Charge(pi, "", 2500, 1000))
		f.mustDeliver(t, partial)
		if pay := f.payment(t, res.PaymentID); pay.Status != paySucceeded || pay.RefundedCents != 1000 || f.targetStatus(t, PlanDayPass, res.TargetID) != StatusActive {
			t.Fatalf("after a partial refund: %s, %d refunded", pay.Status, pay.RefundedCents)
		}
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(3, 4), stripetest.Charge(pi, "", 2500, 2500)))
		// The partial view again, as another event: older, nothing to add.
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(3, 3), stripetest.Charge(pi, "", 2500, 1000)))
		if pay := f.payment(t, res.PaymentID); pay.Status != payRefunded || pay.RefundedCents != 2500 || f.targetStatus(t, PlanDayPass, res.TargetID) != StatusCanceled {
			t.Fatalf("after the full refund: %s, %d refunded", pay.Status, pay.RefundedCents)
		}
		if got := f.issued.credits(); len(got) != 2 || got[0] != 1000 || got[1] != 1500 {
			t.Fatalf("credit notes %v, want [1000 1500]", got)
		}
		// A subscription's first payment is found by its invoice; the
		// membership follows its subscription, not the refund.
		res2 := f.paid(t, PlanMembership)
		f.mustDeliver(t, stripetest.Event("charge.refunded", day(3, 5), stripetest.Charge("pi_unknown", firstInvoiceID(res2), 30000, 30000)))
		if pay := f.payment(t, res2.PaymentID); pay.Status != payRefunded || f.targetStatus(t, PlanMembership, res2.TargetID) != StatusActive {
			t.Fatalf("membership refund: payment %s", pay.Status)
		}
		if got := f.issued.credits(); len(got) != 3 || got[2] != 30000 {
			t.Fatalf("credit notes %v", got)
		}
	})

	t.Run("unknown objects are ignored", func(t *testing.T) {
		t.Parallel()
		f := newStripeFixture(t, 1, mock)
		res := f.checkout(t, f.users[0], PlanMembership)
		stranger := &CheckoutResult{SessionID: "cs_stranger", PaymentID: "01a20000-0000-7000-8000-000000000000", TargetID: "01a20000-0000-7000-8000-000000000001"}
		events := []map[string]any{
			stripetest.Event("checkout.session.completed", *f.clock, session(stranger, PlanDayPass, "paid")),
			stripetest.Event("customer.subscription.updated", *f.clock, subscription(stranger, "past_due", day(3, 2), day(4, 2))),
			stripetest.Event("invoice.paid", *f.clock, invoice(stranger, "in_stranger", "subscription_cycle", day(3, 2), day(4, 2))),
			stripetest.Event("invoice.payment_failed", *f.clock, invoice(stranger, "in_stranger", "subscription_cycle", day(3, 2), day(4, 2))),
			stripetest.Event("charge.refunded", *f.clock, stripetest.Charge("pi_stranger", "in_stranger", 2500, 2500)),
			stripetest.Event("invoice.paid", *f.clock, map[string]any{"id": "in_oneoff", "object": "invoice", "amount_paid": 100}),
			stripetest.Event("customer.created", *f.clock, map[string]any{"id": "cus_new", "object": "customer"}),
		}
		for _, ev := range events {
			if err := f.deliver(t, ev); err != nil {
				t.Fatalf("%s about a stranger: %v", ev["type"], err)
			}
		}
		if n := f.count(t, "stripe_events", "TRUE"); n != len(events) {
			t.Fatalf("%d events stored, want %d", n, len(events))
		}
		if pay := f.payment(t, res.PaymentID); pay.Status != payPending || f.count(t, "payments", "TRUE") != 1 || len(f.issued.invoices()) != 0 {
			t.Fatalf("a stranger's event changed our data")
		}
	})
}
