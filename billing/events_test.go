package billing_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/billing"
)

// TestBillingEvents: an on-site membership payment tells integrators of
// the membership, the payment and its invoice; a renewal, the unpaid
// period and the suspension follow.
func TestBillingEvents(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000})
	m := f.pay(t, u, p, "").Membership
	if got, want := f.events.Types(), []string{"membership.created", "payment.succeeded", "invoice.issued"}; !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	for _, e := range f.events.Events() {
		if e.SiteID != f.site.ID || e.ID == "" {
			t.Fatalf("event %+v", e)
		}
	}
	pay := f.events.Events()[1].Data.(billing.PaymentEvent)
	if pay.UserID != u || pay.AmountCents != 30000 || pay.InvoiceID == "" {
		t.Fatalf("payment event %+v", pay)
	}
	f.events.Reset()
	f.pay(t, u, p, "")
	if got := f.events.Types(); !slices.Equal(got, []string{"membership.renewed", "payment.succeeded", "invoice.issued"}) {
		t.Fatalf("renewal events = %v", got)
	}
	f.events.Reset()
	// Two periods paid; the second ends unpaid, then the grace runs out.
	*f.clock = m.CurrentPeriodEnd.AddDate(0, 1, 1)
	if _, err := f.bill.Lifecycle(ctx, *f.clock); err != nil {
		t.Fatal(err)
	}
	*f.clock = f.clock.Add(time.Duration(billing.DefaultGraceDays+1) * 24 * time.Hour)
	if _, err := f.bill.Lifecycle(ctx, *f.clock); err != nil {
		t.Fatal(err)
	}
	if got := f.events.Types(); !slices.Equal(got, []string{"membership.past_due", "membership.suspended"}) {
		t.Fatalf("lifecycle events = %v", got)
	}
	if ev := f.events.Events()[1].Data.(billing.MembershipEvent); ev.MembershipID != m.ID || ev.Status != billing.StatusSuspended {
		t.Fatalf("suspension event %+v", ev)
	}
}
