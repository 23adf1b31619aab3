package campaigns

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// One stripe-mock serves every test of the package (it keeps no state).
func TestMain(m *testing.M) { stripetest.Main(m) }

const testWebhookSecret = "whsec_relais_test"

// fixture is a site, members, and campaigns taking payments through
// billing, which talks to Stripe at the fixture's apiURL ("" leaves Stripe
// unconfigured) and delivers its webhooks' contribution events to them.
type fixture struct {
	db     *bun.DB
	bill   *billing.Service
	camp   *Service
	ledger *ledger.Service
	site   *calendar.Site
	users  []string
	clock  *time.Time
	events *events.Recorder
}

func newCampaignFixture(t testing.TB, members int, apiURL string) *fixture {
	t.Helper()
	ctx := context.Background()
	d := dbtest.New(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, paris)
	clock := &now
	nowFn := func() time.Time { return *clock }
	queue := jobstest.Queue(t, d)
	accounts, err := identity.New(d, identity.Config{JWTSecret: []byte("campaigns-test-secret-of-at-least-32-bytes"), Jobs: queue})
	if err != nil {
		t.Fatal(err)
	}
	credits := ledger.New(d, ledger.Config{Now: nowFn, Jobs: queue, Accounts: accounts, Sites: calendar.DevicePlaces{}})
	invoicer := invoicing.NewInvoicer(d, nowFn)
	rec := &events.Recorder{}
	contributions := NewContributions(d, Config{Events: rec, Now: nowFn, Jobs: queue, Ledger: credits, Invoicer: invoicer, Accounts: accounts})
	billCfg := billing.Config{Events: events.Discard, Now: nowFn, Ledger: credits, Contributions: contributions, Invoicer: invoicer, Accounts: accounts}
	if apiURL != "" {
		billCfg.Stripe = billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: testWebhookSecret, APIURL: apiURL}
	}
	bill := billing.New(d, billCfg)
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Now: nowFn, Jobs: queue, Accounts: accounts, Guard: bill})
	site, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: d, bill: bill, camp: New(contributions, bill), ledger: credits, site: site, clock: clock, events: rec}
	for i := range members {
		f.users = append(f.users, dbtest.User(t, d, fmt.Sprintf("m%d@example.fr", i), fmt.Sprintf("Membre %d", i)))
	}
	return f
}

func (f *fixture) count(t testing.TB, table, where string, args ...any) int {
	t.Helper()
	n, err := f.db.NewSelect().Table(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func problemCode(err error) string {
	var p *errs.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return fmt.Sprint(err)
}

// mustDeliver signs ev as Stripe would and delivers it to billing's
// webhook, which hands contributions' events to the campaigns.
func (f *fixture) mustDeliver(t testing.TB, ev map[string]any) {
	t.Helper()
	payload, header := stripetest.SignEvent(t, ev, testWebhookSecret)
	if err := f.bill.HandleWebhook(context.Background(), payload, header); err != nil {
		t.Fatalf("deliver %s: %v", ev["type"], err)
	}
}

// runBy is the principal of an administrator, who runs every site's
// campaigns.
func runBy(userID string) *identity.Principal {
	return &identity.Principal{UserID: userID, Role: identity.RoleAdmin}
}
