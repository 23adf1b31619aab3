package billing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/internal/stripetest"
)

// BenchmarkWebhook measures verified, applied Stripe events per second on
// the configured database (SQLite, or PostgreSQL with
// RELAIS_TEST_DATABASE_URL): a mix of subscription updates, renewals paid
// (a payment row each) and failed payments over 50 memberships, one
// delivery in five a duplicate of an earlier event. Subscriptions and
// invoice lines carry the plan's price, as Stripe's do. "parallel" delivers
// from GOMAXPROCS goroutines, as Stripe does over several connections.
// Events are signed before the clock starts; keep -benchtime well under
// the webhook's 5-minute tolerance (webhookTolerance).
func BenchmarkWebhook(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := map[bool]string{false: "serial", true: "parallel"}[parallel]
		b.Run(name, func(b *testing.B) {
			f := newStripeFixture(b, 1, "")
			f.withStripe(StripeConfig{WebhookSecret: testWebhookSecret})
			subs := benchMemberships(b, f, 50)
			type delivery struct {
				payload []byte
				header  string
			}
			// Signed up front: signing is Stripe's work, verifying is ours.
			ds := make([]delivery, b.N)
			rng := rand.New(rand.NewPCG(1, 2))
			base := f.clock.Add(time.Hour)
			for i := range ds {
				if i%5 == 4 {
					ds[i] = ds[rng.IntN(i)]
					continue
				}
				res := subs[i%len(subs)]
				at := base.Add(time.Duration(i) * time.Second)
				var ev map[string]any
				switch i % 3 {
				// As Stripe sends them, naming the plan's price (the plan is
				// looked up on every event).
				case 0:
					ev = stripetest.Event("customer.subscription.updated", at, subscriptionAt(res, f.membership, "active", at, at.AddDate(0, 1, 0)))
				case 1:
					ev = stripetest.Event("invoice.paid", at, renewalInvoice(res, fmt.Sprintf("in_bench_%d", i), f.membership, at, at.AddDate(0, 1, 0)))
				default:
					ev = stripetest.Event("invoice.payment_failed", at, renewalInvoice(res, fmt.Sprintf("in_failed_%d", i), f.membership, at, at.AddDate(0, 1, 0)))
				}
				ds[i].payload, ds[i].header = stripetest.SignEvent(b, ev, testWebhookSecret)
			}
			ctx := context.Background()
			b.ResetTimer()
			if parallel {
				var next atomic.Int64
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						d := ds[next.Add(1)-1]
						if err := f.bill.HandleWebhook(ctx, d.payload, d.header); err != nil {
							b.Error(err)
						}
					}
				})
			} else {
				for _, d := range ds {
					if err := f.bill.HandleWebhook(ctx, d.payload, d.header); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchMemberships creates n active memberships tied to Stripe
// subscriptions, as the event builders name them.
func benchMemberships(b *testing.B, f *stripeFixture, n int) []*CheckoutResult {
	b.Helper()
	ctx := context.Background()
	out := make([]*CheckoutResult, n)
	for i := range out {
		m, err := f.bill.createMembership(ctx, f.db, f.users[0], f.membership, SourceStripe)
		if err != nil {
			b.Fatal(err)
		}
		res := &CheckoutResult{PaymentID: fmt.Sprintf("bench_%d", i), TargetID: m.ID}
		if _, err := f.db.NewUpdate().Model((*Membership)(nil)).Set("status = ?, stripe_subscription_id = ?", StatusActive, subID(res)).
			Where("id = ?", m.ID).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		out[i] = res
	}
	return out
}
