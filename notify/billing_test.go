package notify_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	stdmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/internal/mail/mailtest"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/notify"
)

const testWebhookSecret = "whsec_notify_test"

// domains is every domain that notify mails about, wired as serve wires
// them: their events go to notify's publisher, whose jobs a running job
// client works, mailing a real SMTP server.
type domains struct {
	d        *bun.DB
	clock    *clock
	accounts *identity.Service
	cal      *calendar.Service
	bill     *billing.Service
	ledger   *ledger.Service
	camp     *campaigns.Service
	dev      *devices.Service
	presence *access.Events
	gate     *access.Gate
	notify   *notify.Service
	jc       *jobs.Client
	smtp     *mailtest.Server
	site     *calendar.Site
	paris    *time.Location
}

// newDomains builds them over one test database; stripeURL, when set, is
// stripe-mock's, for billing's online payments and webhooks.
func newDomains(t *testing.T, stripeURL string) *domains {
	t.Helper()
	paris, _ := time.LoadLocation("Europe/Paris")
	f := &domains{d: dbtest.New(t), paris: paris, smtp: mailtest.Start(t),
		clock: &clock{t: time.Date(2026, 3, 2, 7, 0, 0, 0, paris)}}
	queue := jobstest.Queue(t, f.d)
	pub := notify.NewPublisher(queue)
	pub.DeviceOfflineAlert = 10 * time.Minute
	// An https public URL, as in production, so that mails carry
	// List-Unsubscribe.
	var err error
	f.accounts, err = identity.New(f.d, identity.Config{JWTSecret: []byte("notify-test-secret-of-at-least-32-bytes"), Jobs: queue,
		PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	f.ledger = ledger.New(f.d, ledger.Config{Now: f.clock.now, Jobs: queue, Accounts: f.accounts, Sites: calendar.DevicePlaces{}, Events: pub})
	invoicer := invoicing.NewInvoicer(f.d, f.clock.now)
	contributions := campaigns.NewContributions(f.d, campaigns.Config{Now: f.clock.now, Events: events.Discard, Jobs: queue,
		Ledger: f.ledger, Invoicer: invoicer, Accounts: f.accounts})
	billCfg := billing.Config{Events: pub, Now: f.clock.now, Invoicer: invoicer, Accounts: f.accounts, Ledger: f.ledger, Contributions: contributions}
	if stripeURL != "" {
		billCfg.Stripe = billing.StripeConfig{SecretKey: "sk_test_relais", WebhookSecret: testWebhookSecret, APIURL: stripeURL}
	}
	f.bill = billing.New(f.d, billCfg)
	f.camp = campaigns.New(contributions, f.bill)
	f.cal = calendar.New(f.d, calendar.Config{Now: f.clock.now, Jobs: queue, Accounts: f.accounts, Events: pub})
	f.dev = devices.New(f.d, devices.Config{Now: f.clock.now, Places: calendar.DevicePlaces{}})
	gateCfg := access.GateConfig{Now: f.clock.now, Jobs: queue, Accounts: f.accounts, Publisher: pub, Notices: pub}
	f.presence = access.NewEvents(f.d, gateCfg)
	gateCfg.Events = f.presence
	f.gate = access.NewGate(f.d, f.cal, f.bill, f.dev, gateCfg)
	sender, err := mail.NewSMTP(f.smtp.URL, "Relais <relais@example.fr>")
	if err != nil {
		t.Fatal(err)
	}
	f.notify, err = notify.New(f.d, notify.Config{PublicURL: publicURL, Calendar: f.cal, Accounts: f.accounts, Mailer: sender, Jobs: queue,
		Organizer: "no-reply@example.fr", Now: f.clock.now, Billing: f.bill, Invoices: invoicer, Credits: f.ledger,
		Campaigns: f.camp, Devices: f.dev, Managers: f.accounts})
	if err != nil {
		t.Fatal(err)
	}
	f.startJobs(t)
	f.site = f.newSite(t)
	return f
}

func (f *domains) startJobs(t *testing.T) {
	t.Helper()
	workers := river.NewWorkers()
	for _, add := range []func(*river.Workers) error{f.notify.AddWorkers, f.cal.AddWorkers, f.accounts.AddWorkers} {
		if err := add(workers); err != nil {
			t.Fatal(err)
		}
	}
	jc, err := jobs.New(f.d, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	if err := jc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		jc.Stop(stop)
	})
	f.jc = jc
}

func (f *domains) newSite(t *testing.T) *calendar.Site {
	t.Helper()
	in := calendar.NewSite{Name: "La Fabrique du Bourg", Timezone: "Europe/Paris", OpeningHours: calendar.OpeningHours{}, ContactEmail: siteContact,
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIREN: "732 829 320", SIRET: "73282932000074", VATNumber: "FR44732829320"}}
	for _, day := range calendar.Weekdays {
		in.OpeningHours[day] = [][2]string{{"08:00", "20:00"}}
	}
	site, err := f.cal.CreateSite(context.Background(), identity.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	return site
}

// member adds an account in lang with these notification choices.
func (f *domains) member(t *testing.T, email, name, lang string, n identity.NotificationsPatch) string {
	t.Helper()
	userID := dbtest.User(t, f.d, email, name)
	if _, err := f.accounts.UpdateMe(context.Background(), &identity.Principal{UserID: userID},
		identity.MeUpdate{Language: &lang, Notifications: &n}, identity.ClientInfo{}); err != nil {
		t.Fatal(err)
	}
	return userID
}

// wait waits for n completed jobs of kind.
func (f *domains) wait(t *testing.T, kind string, n int) {
	t.Helper()
	jobstest.WaitCompleted(t, f.jc.River(), kind, n)
}

// notice is a received mail, read back with the standard library alone.
type notice struct {
	header              stdmail.Header
	subject, text, html string
	// alternative: text and HTML came as multipart/alternative.
	alternative bool
	attachments []attachment
}

type attachment struct {
	contentType, filename string
	data                  []byte
}

func readNotice(t *testing.T, r mailtest.Received) notice {
	t.Helper()
	m, err := stdmail.ReadMessage(strings.NewReader(r.Data))
	if err != nil {
		t.Fatal(err)
	}
	out := notice{header: m.Header}
	if out.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	var walk func(ctype, cte, disposition string, body io.Reader)
	walk = func(ctype, cte, disposition string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(ctype)
		if err != nil {
			t.Fatalf("content type %q: %v", ctype, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			out.alternative = out.alternative || mt == "multipart/alternative"
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p)
			}
		}
		if strings.EqualFold(cte, "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case mt == "text/plain" && disposition == "":
			out.text = string(b)
		case mt == "text/html" && disposition == "":
			out.html = string(b)
		default:
			_, dp, _ := mime.ParseMediaType(disposition)
			out.attachments = append(out.attachments, attachment{contentType: mt, filename: dp["filename"], data: b})
		}
	}
	walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
	return out
}

// mailsTo reads every mail addr received so far.
func (f *domains) mailsTo(t *testing.T, addr string) []notice {
	t.Helper()
	var out []notice
	for _, r := range f.smtp.All(addr) {
		out = append(out, readNotice(t, r))
	}
	return out
}

// only is the one mail addr received whose subject starts with prefix.
func (f *domains) only(t *testing.T, addr, prefix string) notice {
	t.Helper()
	var found []notice
	for _, n := range f.mailsTo(t, addr) {
		if strings.HasPrefix(n.subject, prefix) {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d mails to %s starting %q, want 1", len(found), addr, prefix)
	}
	return found[0]
}

func (f *domains) plan(t *testing.T, in billing.NewPlan) *billing.Plan {
	t.Helper()
	in.SiteID = &f.site.ID
	p, err := f.bill.CreatePlan(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var buyer = &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}

func (f *domains) payOnSite(t *testing.T, userID string, p *billing.Plan, date string) *billing.Purchase {
	t.Helper()
	out, err := f.bill.RecordOnSitePayment(context.Background(), billing.OnSitePayment{SiteID: f.site.ID, UserID: userID, PlanID: p.ID,
		Date: date, Method: billing.MethodCash, AmountCents: p.PriceCents, RecordedBy: userID, Buyer: buyer})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A payment at the desk mails its member, in their language, the amount,
// what it paid and the invoice as a PDF; a member who turned membership
// mail off gets none.
func TestPaymentMailCarriesTheInvoice(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	off := false
	anne := f.member(t, "anne@example.fr", "Anne Martin", identity.LanguageFrench, identity.NotificationsPatch{})
	emma := f.member(t, "emma@example.fr", "Emma Jones", identity.LanguageEnglish, identity.NotificationsPatch{})
	paul := f.member(t, "paul@example.fr", "Paul", identity.LanguageFrench, identity.NotificationsPatch{Membership: &off})
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500})
	big := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée équipe", PriceCents: 123456})
	f.payOnSite(t, anne, pass, "2026-03-04")
	f.payOnSite(t, emma, big, "2026-03-04")
	f.payOnSite(t, paul, pass, "2026-03-04")
	f.wait(t, notify.PaymentMailArgs{}.Kind(), 3)

	for _, tc := range []struct {
		to, subject, text, html string
	}{
		{"anne@example.fr", "Paiement reçu\u00a0: 25,00\u00a0€", "Nous avons bien reçu votre paiement de 25,00\u00a0€ à La Fabrique du Bourg", "La Fabrique du Bourg — 2 place de la Mairie, 23000 Guéret"},
		{"emma@example.fr", "Payment received: €1,234.56", "We have received your payment of €1,234.56 to La Fabrique du Bourg", "Hello Emma Jones,"},
	} {
		m := f.only(t, tc.to, "")
		checkHeaders(t, f.accounts, m.header, map[string]string{"anne@example.fr": anne, "emma@example.fr": emma}[tc.to], identity.CategoryMembership)
		if m.subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.to, m.subject, tc.subject)
		}
		if !strings.Contains(m.text, tc.text) || !strings.Contains(m.text, "Journée") || !m.alternative || !strings.Contains(m.html, tc.html) {
			t.Errorf("%s: text lacks %q or what it paid, or no HTML alternative with %q:\n%s\n%s", tc.to, tc.text, tc.html, m.text, m.html)
		}
		if len(m.attachments) != 1 || m.attachments[0].contentType != "application/pdf" || !bytes.HasPrefix(m.attachments[0].data, []byte("%PDF")) ||
			!strings.HasPrefix(m.attachments[0].filename, "facture-") {
			t.Errorf("%s: attachments %+v, want the invoice as a PDF", tc.to, m.attachments)
		}
	}
	if n := f.smtp.Count("paul@example.fr"); n != 0 {
		t.Errorf("%d mails to a member who turned membership mail off", n)
	}
}

// A membership paid at the desk and paid again is renewed; its next
// period left unpaid makes it past due, then suspended; each is mailed.
// Cancelled at once, it ends, with its date.
func TestMembershipMailsFollowItsLife(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	ctx := context.Background()
	anne := f.member(t, "anne@example.fr", "Anne Martin", identity.LanguageFrench, identity.NotificationsPatch{})
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000})
	m := f.payOnSite(t, anne, p, "").Membership
	f.payOnSite(t, anne, p, "")
	kind := notify.MembershipMailArgs{}.Kind()
	f.wait(t, kind, 1)
	renewed := f.only(t, "anne@example.fr", "Abonnement renouvelé")
	if renewed.subject != "Abonnement renouvelé\u00a0: Nomade" || !strings.Contains(renewed.text, "«\u00a0Nomade\u00a0» à La Fabrique du Bourg est renouvelé jusqu’au") {
		t.Errorf("renewal mail %q:\n%s", renewed.subject, renewed.text)
	}
	f.clock.set(m.CurrentPeriodEnd.AddDate(0, 1, 1))
	if _, err := f.bill.Lifecycle(ctx, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	f.wait(t, kind, 2)
	pastDue := f.only(t, "anne@example.fr", "Paiement en attente")
	if !strings.Contains(pastDue.text, "mettez à jour votre carte dans l’application, ou payez à l’accueil") {
		t.Errorf("past-due mail does not say what to do:\n%s", pastDue.text)
	}
	f.clock.add(time.Duration(billing.DefaultGraceDays+1) * 24 * time.Hour)
	if _, err := f.bill.Lifecycle(ctx, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	f.wait(t, kind, 3)
	if s := f.only(t, "anne@example.fr", "Abonnement suspendu").subject; s != "Abonnement suspendu\u00a0: Nomade" {
		t.Errorf("suspension subject %q", s)
	}

	bob := f.member(t, "bob@example.fr", "Bob", identity.LanguageFrench, identity.NotificationsPatch{})
	m2 := f.payOnSite(t, bob, p, "").Membership
	if _, err := f.bill.CancelMembership(ctx, m2.ID, false); err != nil {
		t.Fatal(err)
	}
	f.wait(t, kind, 4)
	ended := f.only(t, "bob@example.fr", "Abonnement terminé")
	if want := "a pris fin le " + frenchDate(f.clock.now()); !strings.Contains(ended.text, want) {
		t.Errorf("cancellation mail lacks %q:\n%s", want, ended.text)
	}
}

// frenchDate is how the mails write t's day in Paris, as notify's own
// tests check it ("lundi 2 mars 2026").
func frenchDate(t time.Time) string {
	days := []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	months := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	paris, _ := time.LoadLocation("Europe/Paris")
	t = t.In(paris)
	day := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return days[t.Weekday()] + " " + day + " " + months[t.Month()-1] + " " + fmt.Sprint(t.Year())
}

// A renewal that Stripe fails to charge (invoice.payment_failed) makes the
// membership past due, and mails its member in English.
func TestStripeFailedRenewalMailsPastDue(t *testing.T) {
	t.Parallel()
	f := newDomains(t, stripetest.Start(t))
	ctx := context.Background()
	emma := f.member(t, "emma@example.fr", "Emma Jones", identity.LanguageEnglish, identity.NotificationsPatch{})
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000})
	res, err := f.bill.Checkout(ctx, emma, billing.CheckoutRequest{PlanID: p.ID, SuccessURL: "https://relais.example.fr/ok",
		CancelURL: "https://relais.example.fr/ko", Buyer: buyer})
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]any{"payment_id": res.PaymentID, "target_id": res.TargetID, "purpose": billing.PlanMembership}
	sub := "sub_" + res.PaymentID
	f.deliver(t, stripetest.Event("checkout.session.completed", f.clock.now(), map[string]any{"id": res.SessionID, "object": "checkout.session",
		"client_reference_id": res.PaymentID, "payment_status": "paid", "status": "complete", "customer": "cus_test", "metadata": meta,
		"mode": "subscription", "subscription": sub, "invoice": "in_" + res.PaymentID}))
	f.wait(t, notify.PaymentMailArgs{}.Kind(), 1)
	failed := f.clock.now().AddDate(0, 1, 0)
	f.deliver(t, stripetest.Event("invoice.payment_failed", failed, map[string]any{"id": "in_april", "object": "invoice",
		"subscription": sub, "billing_reason": "subscription_cycle", "status": "open", "amount_paid": 0, "customer": "cus_test",
		"subscription_details": map[string]any{"metadata": meta}}))
	f.wait(t, notify.MembershipMailArgs{}.Kind(), 1)
	m := f.only(t, "emma@example.fr", "Payment pending")
	if m.subject != "Payment pending: Nomade" || !strings.Contains(m.text, "update your card in the app, or pay at the front desk") {
		t.Errorf("past-due mail %q:\n%s", m.subject, m.text)
	}
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (f *domains) deliver(t *testing.T, ev map[string]any) {
	t.Helper()
	payload, header := stripetest.SignEvent(t, ev, testWebhookSecret)
	if err := f.bill.HandleWebhook(context.Background(), payload, header); err != nil {
		t.Fatalf("deliver %s: %v", ev["type"], err)
	}
}
