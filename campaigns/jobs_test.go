package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// TestCreditJobsRunOnTheQueue runs the real River queue on the real clock:
// credit expires at its date and a campaign settles at its deadline, by
// themselves.
func TestCreditJobsRunOnTheQueue(t *testing.T) {
	ctx := context.Background()
	d := dbtest.New(t)
	queue := jobstest.Queue(t, d)
	accounts, err := identity.New(d, identity.Config{JWTSecret: []byte("campaigns-test-secret-of-at-least-32-bytes"), Jobs: queue})
	if err != nil {
		t.Fatal(err)
	}
	credits := ledger.New(d, ledger.Config{Jobs: queue, Accounts: accounts, Sites: calendar.DevicePlaces{}})
	invoicer := invoicing.NewInvoicer(d, nil)
	contributions := campaigns.NewContributions(d, campaigns.Config{Events: events.Discard, Jobs: queue, Ledger: credits, Accounts: accounts, Invoicer: invoicer})
	bill := billing.New(d, billing.Config{Events: events.Discard, Ledger: credits, Contributions: contributions, Invoicer: invoicer, Accounts: accounts})
	camp := campaigns.New(contributions, bill)
	workers := river.NewWorkers()
	if err := credits.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	if err := camp.AddWorkers(workers); err != nil {
		t.Fatal(err)
	}
	jc, err := jobs.New(d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jc.Stop(context.Background()) })

	cal := calendar.New(d, calendar.Config{Events: events.Discard, Jobs: queue, Accounts: accounts})
	site, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	anne := dbtest.User(t, d, "m0@example.fr", "Anne")
	soon := time.Now().Add(6 * time.Second)
	if _, err := credits.Grant(ctx, identity.System(), ledger.CreditGrant{UserID: anne, SiteID: site.ID, ActorID: anne, Unit: ledger.UnitCents,
		Amount: 500, ExpiresAt: &soon, Reason: "bienvenue"}); err != nil {
		t.Fatal(err)
	}
	c, err := camp.CreateCampaign(ctx, identity.System(), campaigns.NewCampaign{SiteID: site.ID, Title: "Four", GoalCents: 1000,
		Deadline: time.Now().Add(7 * time.Second), Mode: campaigns.ModeAllOrNothing,
		Tiers: []campaigns.Tier{{Name: "A", MinCents: 1000, CreditUnit: ledger.UnitCents, CreditAmount: 1200}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;amount;date\nq1;m0@example.fr;10;"+time.Now().Format(time.RFC3339)+"\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(40 * time.Second)
	for {
		got, _ := camp.GetCampaign(ctx, c.ID)
		bs, _ := credits.Balances(ctx, &identity.Principal{UserID: anne})
		var available int64
		for _, b := range bs {
			available += b.Available
		}
		if got.Status == campaigns.CampaignSucceeded && available == 1200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s, available %d: want succeeded and 1200 (the 500 expired)", got.Status, available)
		}
		time.Sleep(200 * time.Millisecond)
	}
	mvs, err := credits.Movements(ctx, &identity.Principal{UserID: anne}, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, m := range mvs {
		kinds = append(kinds, m.Kind)
	}
	want := []string{ledger.MoveGrant, ledger.MoveCredit, ledger.MoveExpire, ledger.MoveVest}
	if len(kinds) != 4 || kinds[0] != want[0] || kinds[1] != want[1] {
		t.Fatalf("movements = %v, want %v (expire and vest in either order)", kinds, want)
	}
}
