package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/notify"
)

// grant gives userID amount cents usable at the site, expiring at expires.
func (f *domains) grant(t *testing.T, userID string, amount int64, expires time.Time) {
	t.Helper()
	admin := identitytest.Admin()
	admin.UserID = dbtest.User(t, f.d, "admin-"+userID+"@example.fr", "Admin")
	if _, err := f.ledger.Grant(context.Background(), admin, ledger.CreditGrant{UserID: userID, SiteID: f.site.ID,
		Unit: ledger.UnitCents, Amount: amount, ExpiresAt: &expires, Reason: "bienvenue"}); err != nil {
		t.Fatal(err)
	}
}

func (f *domains) gift(t *testing.T, from, toEmail string, amount int64) {
	t.Helper()
	if _, err := f.ledger.Gift(context.Background(), identitytest.MemberNamed(from), ledger.CreditGift{ToEmail: toEmail,
		Unit: ledger.UnitCents, Amount: amount}); err != nil {
		t.Fatal(err)
	}
}

// Credit given by a member mails whoever receives it, in their language,
// with the giver's name, the amount and its expiry; not a member who
// turned credit mail off.
func TestGiftMail(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	off := false
	anne := f.member(t, "anne@example.fr", "Anne Martin", identity.LanguageFrench, identity.NotificationsPatch{})
	f.member(t, "bob@example.fr", "Bob", identity.LanguageFrench, identity.NotificationsPatch{})
	f.member(t, "emma@example.fr", "Emma", identity.LanguageEnglish, identity.NotificationsPatch{})
	f.member(t, "carol@example.fr", "Carol", identity.LanguageFrench, identity.NotificationsPatch{Credits: &off})
	expires := time.Date(2026, 5, 1, 0, 0, 0, 0, f.paris)
	f.grant(t, anne, 10000, expires)
	f.gift(t, anne, "bob@example.fr", 2500)
	f.gift(t, anne, "emma@example.fr", 1000)
	f.gift(t, anne, "carol@example.fr", 500)
	f.wait(t, notify.CreditMailArgs{}.Kind(), 3)

	for _, tc := range []struct{ to, subject, text string }{
		{"bob@example.fr", "Crédit reçu\u00a0: 25,00\u00a0€", "Anne Martin vous a offert 25,00\u00a0€ de crédit à utiliser à La Fabrique du Bourg.\n\nCe crédit expire le vendredi 1er mai 2026."},
		{"emma@example.fr", "Credit received: €10.00", "Anne Martin gave you €10.00 of credit to use at La Fabrique du Bourg.\n\nThis credit expires on Friday 1 May 2026."},
	} {
		m := f.only(t, tc.to, "")
		if m.subject != tc.subject || !strings.Contains(strings.ReplaceAll(m.text, "\r\n", "\n"), tc.text) || !m.alternative {
			t.Errorf("%s: %q, want %q with %q:\n%s", tc.to, m.subject, tc.subject, tc.text, m.text)
		}
		if strings.Contains(m.text, "anne@example.fr") || strings.Contains(m.html, "anne@example.fr") {
			t.Errorf("%s: the giver's address is shown", tc.to)
		}
	}
	if n := f.smtp.Count("carol@example.fr"); n != 0 {
		t.Errorf("%d mails to a member who turned credit mail off", n)
	}
}

// A campaign that reaches its goal vests its backers' credit, and mails
// each of them the campaign and the amount.
func TestVestedCreditMail(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	ctx := context.Background()
	bob := f.member(t, "bob@example.fr", "Bob", identity.LanguageFrench, identity.NotificationsPatch{})
	c, err := f.camp.CreateCampaign(ctx, identity.System(), campaigns.NewCampaign{SiteID: f.site.ID, Title: "Une découpeuse laser",
		GoalCents: 10000, Deadline: f.clock.now().AddDate(0, 1, 0), Mode: campaigns.ModeAllOrNothing,
		Tiers: []campaigns.Tier{{Name: "Soutien", MinCents: 2000, CreditUnit: ledger.UnitCents, CreditAmount: 2400}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;amount;date\nk1;bob@example.fr;100;2026-03-02\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.camp.ClaimContributions(ctx, bob); err != nil {
		t.Fatal(err)
	}
	f.clock.set(c.Deadline.Add(time.Second))
	if _, err := f.camp.SettleCampaign(ctx, c.ID, false); err != nil {
		t.Fatal(err)
	}
	f.wait(t, notify.CreditMailArgs{}.Kind(), 1)
	m := f.only(t, "bob@example.fr", "Votre crédit est disponible")
	if m.subject != "Votre crédit est disponible\u00a0: 24,00\u00a0€" ||
		!strings.Contains(m.text, "La campagne «\u00a0Une découpeuse laser\u00a0» a atteint son objectif\u202f! Les 24,00\u00a0€ de crédit") {
		t.Errorf("vested mail %q:\n%s", m.subject, m.text)
	}
}

// The hourly sweep mails a lot's holder once, in the week before it
// expires; not a lot given for less than a week, nor one spent.
func TestExpiringCreditMailedOnce(t *testing.T) {
	t.Parallel()
	f := newDomains(t, "")
	ctx := context.Background()
	dan := f.member(t, "dan@example.fr", "Dan", identity.LanguageFrench, identity.NotificationsPatch{})
	erin := f.member(t, "erin@example.fr", "Erin", identity.LanguageFrench, identity.NotificationsPatch{})
	expires := f.clock.now().Add(10 * 24 * time.Hour)
	f.grant(t, dan, 3000, expires)
	sweep := func(want int) {
		t.Helper()
		n, err := f.notify.SweepExpiringCredit(ctx)
		if err != nil || n != want {
			t.Fatalf("sweep at %s queued %d (%v), want %d", f.clock.now(), n, err, want)
		}
	}
	sweep(0) // ten days ahead: not yet
	f.clock.add(3*24*time.Hour + time.Hour)
	f.grant(t, erin, 1000, f.clock.now().Add(2*24*time.Hour)) // given for two days: no reminder
	sweep(1)
	sweep(0) // once
	f.wait(t, notify.CreditExpiryArgs{}.Kind(), 1)
	m := f.only(t, "dan@example.fr", "")
	if want := "30,00\u00a0€ de votre crédit à La Fabrique du Bourg expirent le " + frenchDate(expires); m.subject != "Votre crédit expire bientôt\u00a0: 30,00\u00a0€" || !strings.Contains(m.text, want) {
		t.Errorf("expiry mail %q, want %q in:\n%s", m.subject, want, m.text)
	}
	if n := f.smtp.Count("erin@example.fr"); n != 0 {
		t.Errorf("%d mails about a lot given for two days", n)
	}
}
