package billing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// A payment that names no buyer is invoiced to the billing address the
// member keeps on their account, which billing asks identity for.
func TestDefaultBuyerFromTheAccount(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	withAddress, without := f.users[0], f.users[1]
	accounts := billing.AccountsForTest(t, f.db)
	if _, err := accounts.UpdateMe(ctx, &identity.Principal{UserID: withAddress, Role: identity.RoleMember}, identity.MeUpdate{
		BillingAddress: &identity.BillingAddress{Name: "Atelier Lilas SARL", Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret",
			Country: "FR", IsBusiness: true, SIREN: "552 100 554"},
	}, identity.ClientInfo{IP: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	pay := func(user string) (*billing.Purchase, error) {
		return f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: user, PlanID: pass.ID, Date: "2026-03-04",
			Method: billing.MethodCash, AmountCents: 2500, RecordedBy: user})
	}
	out, err := pay(withAddress)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := f.invoicer().Get(ctx, *out.Payment.InvoiceID)
	if err != nil {
		t.Fatal(err)
	}
	if inv.BuyerName != "Atelier Lilas SARL" || inv.BuyerSIREN != "552100554" || inv.BuyerAddress.City != "Guéret" {
		t.Fatalf("invoice buyer = %q %q %+v", inv.BuyerName, inv.BuyerSIREN, inv.BuyerAddress)
	}
	// Without one kept, the address is required as before.
	var ve *errs.ValidationError
	if _, err := pay(without); !errors.As(err, &ve) || ve.Fields[0].Field != "buyer.address" {
		t.Fatalf("payment without any billing address: %v", err)
	}
}
