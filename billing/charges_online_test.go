package billing

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// chargesFixture: a member on a pay-per-use membership paid at the desk,
// with two hours of meeting room booked beyond it (two charges of 24 € TTC),
// billing talking to Stripe at apiURL with the real invoicer.
func newChargesFixture(t *testing.T, apiURL string) (*stripeFixture, []UsageCharge) {
	t.Helper()
	ctx := context.Background()
	f := newStripeFixture(t, 2, apiURL)
	f.withInvoicer()
	buyer := f.checkoutRequest(PlanMembership).Buyer
	p, err := f.bill.CreatePlan(ctx, NewPlan{SiteID: &f.site.ID, Kind: PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: Includes{ResourceKinds: []string{calendar.KindDesk}, PayPerUse: true}})
	if err != nil {
		t.Fatal(err)
	}
	room, err := f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindRoom, Name: "Salle", Capacity: 8, PricePerHourCents: 2400})
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range f.users {
		if _, err := f.bill.RecordOnSitePayment(ctx, OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID, Method: MethodCash,
			AmountCents: 50000, RecordedBy: u, Buyer: buyer}); err != nil {
			t.Fatal(err)
		}
		for _, day := range []int{3, 4} {
			if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: room.ID, UserID: u, By: &identity.Principal{UserID: u},
				Start: time.Date(2026, 3, day, 9+i, 0, 0, 0, paris).Format(time.RFC3339),
				End:   time.Date(2026, 3, day, 10+i, 0, 0, 0, paris).Format(time.RFC3339)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	open, err := f.bill.OpenCharges(ctx, f.site.ID, f.users[0])
	if err != nil || len(open) != 2 || open[0].AmountCents != 2400 {
		t.Fatalf("open charges = %+v, %v", open, err)
	}
	return f, open
}

func (f *stripeFixture) chargesCheckout() ChargesCheckout {
	r := f.checkoutRequest(PlanPack)
	return ChargesCheckout{SiteID: f.site.ID, SuccessURL: r.SuccessURL, CancelURL: r.CancelURL, Buyer: r.Buyer}
}

// chargesSession is the Checkout Session of a charges checkout as Stripe reports it.
func chargesSession(res *ChargesCheckoutResult, paymentStatus string) map[string]any {
	return map[string]any{"id": res.SessionID, "object": "checkout.session", "client_reference_id": res.PaymentID, "mode": "payment",
		"payment_status": paymentStatus, "status": "complete", "customer": "cus_test", "payment_intent": "pi_" + res.PaymentID,
		"metadata": map[string]any{"payment_id": res.PaymentID, "purpose": PurposeUsage}}
}

func TestChargesCheckout(t *testing.T) {
	t.Parallel()
	apiURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f, open := newChargesFixture(t, apiURL)
	ctx := context.Background()
	member := f.users[0]

	res, err := f.bill.CheckoutCharges(ctx, member, f.chargesCheckout())
	if err != nil {
		t.Fatal(err)
	}
	if res.AmountCents != 4800 || res.Charges != 2 || res.URL == "" {
		t.Fatalf("checkout = %+v", res)
	}
	sessions := rec.Posts("/v1/checkout/sessions")
	sent := sessions[len(sessions)-1]
	for key, want := range map[string]string{
		"mode":                                          "payment",
		"client_reference_id":                           res.PaymentID,
		"metadata[payment_id]":                          res.PaymentID,
		"metadata[purpose]":                             "usage",
		"payment_intent_data[metadata][purpose]":        "usage",
		"line_items[0][price_data][unit_amount]":        "4800",
		"line_items[0][price_data][currency]":           "eur",
		"line_items[0][price_data][product_data][name]": "Utilisation — La Fabrique, 2 réservations",
		"expires_at":                                    fmt.Sprint(f.clock.Add(time.Hour).Unix()),
	} {
		if got := sent.Form.Get(key); got != want {
			t.Errorf("session %s = %q, want %q", key, got, want)
		}
	}
	if sent.IdempotencyKey != "relais-checkout-"+res.PaymentID {
		t.Errorf("idempotency key %q", sent.IdempotencyKey)
	}
	pay := f.payment(t, res.PaymentID)
	if pay.Status != payPending || pay.Purpose != PurposeUsage || pay.AmountCents != 4800 || pay.StripeCheckoutSessionID == nil {
		t.Fatalf("payment = %+v", pay.Payment)
	}
	if n := f.count(t, "usage_charges", "payment_id = ? AND status = 'open'", res.PaymentID); n != 2 {
		t.Fatalf("%d charges held", n)
	}

	// Held: neither a second checkout nor the desk takes them.
	if _, err := f.bill.CheckoutCharges(ctx, member, f.chargesCheckout()); !errors.Is(err, errs.ErrConflict) || problemCode(err) != "charges_checkout_pending" {
		t.Fatalf("second checkout: %v", err)
	}
	settle := Settlement{SiteID: f.site.ID, UserID: member, Method: MethodCash, RecordedBy: member, Buyer: f.chargesCheckout().Buyer}
	if _, err := f.bill.SettleCharges(ctx, settle); problemCode(err) != "nothing_to_settle" {
		t.Fatalf("desk settlement of held charges: %v", err)
	}

	// Paid: settled and invoiced once, whatever the deliveries.
	done := stripetest.Event("checkout.session.completed", *f.clock, chargesSession(res, "paid"))
	f.mustDeliver(t, done)
	f.mustDeliver(t, done)
	f.mustDeliver(t, stripetest.Event("checkout.session.completed", f.clock.Add(time.Second), chargesSession(res, "paid")))
	pay = f.payment(t, res.PaymentID)
	if pay.Status != paySucceeded || pay.InvoiceID == nil || *pay.StripePaymentIntentID != "pi_"+res.PaymentID {
		t.Fatalf("payment after the webhook = %+v", pay.Payment)
	}
	if n := f.count(t, "usage_charges", "payment_id = ? AND status = 'invoiced'", res.PaymentID); n != len(open) {
		t.Fatalf("%d charges settled, want %d", n, len(open))
	}
	doc, err := invoicing.NewInvoicer(f.db, nil).Get(ctx, *pay.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if doc.TotalTTCCents != 4800 || doc.TotalHTCents != 4000 || len(doc.Lines) != 2 || doc.PaymentMethod != MethodCard || doc.BuyerUserID != member {
		t.Fatalf("invoice = %d TTC, %d lines", doc.TotalTTCCents, len(doc.Lines))
	}
	if n := f.count(t, "invoices", "buyer_user_id = ? AND total_ttc_cents = 4800", member); n != 1 {
		t.Fatalf("%d invoices of the charges", n)
	}
	if _, err := f.bill.CheckoutCharges(ctx, member, f.chargesCheckout()); problemCode(err) != "nothing_to_pay" {
		t.Fatalf("checkout with nothing owed: %v", err)
	}
	// The other member's charges were never touched.
	if n := f.count(t, "usage_charges", "user_id = ? AND status = 'open' AND payment_id IS NULL", f.users[1]); n != 2 {
		t.Fatalf("other member: %d open charges", n)
	}
}

func TestChargesCheckoutSEPAAndFailures(t *testing.T) {
	t.Parallel()
	mock := stripetest.Start(t)
	ctx := context.Background()

	t.Run("SEPA settles after days", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			settle  string
			payment string
			charges string
		}{
			{"checkout.session.async_payment_succeeded", paySucceeded, "invoiced"},
			{"checkout.session.async_payment_failed", payFailed, "open"},
		} {
			f, _ := newChargesFixture(t, mock)
			res, err := f.bill.CheckoutCharges(ctx, f.users[0], f.chargesCheckout())
			if err != nil {
				t.Fatal(err)
			}
			f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, chargesSession(res, "unpaid")))
			// Days later, Lifecycle has run: the debit on its way still holds them.
			*f.clock = f.clock.AddDate(0, 0, 3)
			if _, err := f.bill.Lifecycle(ctx, *f.clock); err != nil {
				t.Fatal(err)
			}
			if pay := f.payment(t, res.PaymentID); pay.Status != payPending {
				t.Fatalf("Lifecycle expired a debit on its way: %s", pay.Status)
			}
			settle := Settlement{SiteID: f.site.ID, UserID: f.users[0], Method: MethodCash, RecordedBy: f.users[0], Buyer: f.chargesCheckout().Buyer}
			if _, err := f.bill.SettleCharges(ctx, settle); problemCode(err) != "nothing_to_settle" {
				t.Fatalf("desk settlement during the debit: %v", err)
			}
			f.mustDeliver(t, stripetest.Event(tc.settle, *f.clock, chargesSession(res, "paid")))
			if pay := f.payment(t, res.PaymentID); pay.Status != tc.payment {
				t.Fatalf("%s: payment %s", tc.settle, pay.Status)
			}
			if n := f.count(t, "usage_charges", "user_id = ? AND status = ?", f.users[0], tc.charges); n != 2 {
				t.Fatalf("%s: %d charges %s", tc.settle, n, tc.charges)
			}
			if tc.payment == payFailed {
				// Freed: the desk (or a new checkout) takes them.
				if _, err := f.bill.SettleCharges(ctx, settle); err != nil {
					t.Fatalf("desk settlement after a failed debit: %v", err)
				}
			}
		}
	})

	t.Run("abandoned checkout frees the charges", func(t *testing.T) {
		t.Parallel()
		f, _ := newChargesFixture(t, mock)
		first, err := f.bill.CheckoutCharges(ctx, f.users[0], f.chargesCheckout())
		if err != nil {
			t.Fatal(err)
		}
		*f.clock = f.clock.Add(2 * time.Hour) // the session has expired at Stripe
		second, err := f.bill.CheckoutCharges(ctx, f.users[0], f.chargesCheckout())
		if err != nil || second.AmountCents != 4800 {
			t.Fatalf("checkout after an abandoned one: %+v, %v", second, err)
		}
		// Stripe never completes an expired session; should it, the charges
		// belong to the newer payment and are not invoiced twice.
		f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, chargesSession(second, "paid")))
		f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, chargesSession(first, "paid")))
		if n := f.count(t, "invoices", "total_ttc_cents = 4800"); n != 1 {
			t.Fatalf("%d invoices for the charges", n)
		}
	})

	t.Run("Stripe down", func(t *testing.T) {
		t.Parallel()
		f, _ := newChargesFixture(t, closedURL(t))
		if _, err := f.bill.CheckoutCharges(ctx, f.users[0], f.chargesCheckout()); !errors.Is(err, errs.ErrUnavailable) {
			t.Fatalf("checkout with Stripe down: %v", err)
		}
		if n := f.count(t, "payments", "purpose = 'usage' AND status <> ?", payExpired); n != 0 {
			t.Fatalf("%d usage payments left pending", n)
		}
		settle := Settlement{SiteID: f.site.ID, UserID: f.users[0], Method: MethodCash, RecordedBy: f.users[0], Buyer: f.chargesCheckout().Buyer}
		if _, err := f.bill.SettleCharges(ctx, settle); err != nil {
			t.Fatalf("desk settlement after a failed checkout: %v", err)
		}
	})

	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		f, _ := newChargesFixture(t, mock)
		for _, change := range []func(*ChargesCheckout){
			func(c *ChargesCheckout) { c.SiteID = "" },
			func(c *ChargesCheckout) { c.SuccessURL = "/ok" },
			func(c *ChargesCheckout) { c.Buyer = nil },
			func(c *ChargesCheckout) { c.SiteID = "01a20000-0000-7000-8000-000000000000" },
		} {
			in := f.chargesCheckout()
			change(&in)
			if _, err := f.bill.CheckoutCharges(ctx, f.users[0], in); !errors.Is(err, errs.ErrInvalid) && !isValidation(err) {
				t.Errorf("checkout %+v: %v", in, err)
			}
		}
		if n := f.count(t, "payments", "purpose = 'usage'"); n != 0 {
			t.Fatalf("%d payments after refusals", n)
		}
	})

	t.Run("concurrent checkouts hold once", func(t *testing.T) {
		t.Parallel()
		f, _ := newChargesFixture(t, mock)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, conflicts int
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.bill.CheckoutCharges(ctx, f.users[0], f.chargesCheckout())
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case problemCode(err) == "charges_checkout_pending":
					conflicts++
				default:
					t.Errorf("checkout: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflicts != 3 {
			t.Fatalf("%d checkouts opened, %d refused; want 1 and 3", ok, conflicts)
		}
	})
}

func isValidation(err error) bool {
	var ve *errs.ValidationError
	return errors.As(err, &ve)
}
