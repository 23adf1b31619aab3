package campaigns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

func (f *fixture) campaign(t testing.TB, mode string, goal int64) *Campaign {
	t.Helper()
	c, err := f.camp.CreateCampaign(context.Background(), identity.System(), NewCampaign{SiteID: f.site.ID, Title: "Une découpeuse laser", GoalCents: goal,
		Deadline: f.clock.AddDate(0, 1, 0), Mode: mode, Tiers: []Tier{
			{Name: "Soutien", MinCents: 2000, CreditUnit: ledger.UnitCents, CreditAmount: 2400},
			{Name: "Laser", MinCents: 10000, CreditUnit: ledger.UnitMinutes, CreditAmount: 600, ResourceKind: calendar.KindMachine, ExpiresAfterDays: 365},
		}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// balances sums a member's available and pending credit of one unit.
func (f *fixture) credit(t testing.TB, user, unit string) (available, pending int64) {
	t.Helper()
	// As the API does, the contributions made with the member's verified
	// address are theirs before their balance is read.
	if err := f.camp.ClaimContributions(context.Background(), user); err != nil {
		t.Fatal(err)
	}
	bs, err := f.ledger.Balances(context.Background(), &identity.Principal{UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Lot.Unit == unit {
			available += b.Available
			pending += b.Pending
		}
	}
	return available, pending
}

func (f *fixture) ledgerOK(t testing.TB) {
	t.Helper()
	r, err := f.ledger.VerifyLedger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unbalanced) > 0 || r.NegativeBalances > 0 {
		t.Fatalf("ledger broken: %+v", r)
	}
}

func fieldsOf(err error) string {
	var ve *errs.ValidationError
	var p *errs.Problem
	var out []string
	switch {
	case errors.As(err, &ve):
		for _, f := range ve.Fields {
			out = append(out, f.Field)
		}
	case errors.As(err, &p):
		out = append(out, p.Code)
		for _, f := range p.Fields {
			out = append(out, f.Field)
		}
	default:
		return fmt.Sprint(err)
	}
	return strings.Join(out, ",")
}

func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 1, "")
	ctx := context.Background()
	future := f.clock.AddDate(0, 1, 0)
	past := f.clock.Add(-time.Hour)
	good := func() NewCampaign {
		return NewCampaign{SiteID: f.site.ID, Title: "Four", GoalCents: 100000, Deadline: future, Mode: ModeAllOrNothing,
			Tiers: []Tier{{Name: "A", MinCents: 5000, CreditUnit: ledger.UnitCents, CreditAmount: 6000}}}
	}
	for _, tc := range []struct {
		name  string
		edit  func(*NewCampaign)
		field string
	}{
		{"zero goal", func(c *NewCampaign) { c.GoalCents = 0 }, "goal_cents"},
		{"negative goal", func(c *NewCampaign) { c.GoalCents = -100 }, "goal_cents"},
		{"tier above the goal", func(c *NewCampaign) { c.Tiers[0].MinCents = 200000 }, "tiers[0].min_cents"},
		{"negative tier", func(c *NewCampaign) { c.Tiers[0].MinCents = -1 }, "tiers[0].min_cents"},
		{"zero credit", func(c *NewCampaign) { c.Tiers[0].CreditAmount = 0 }, "tiers[0].credit_amount"},
		{"hours without kind", func(c *NewCampaign) { c.Tiers[0].CreditUnit = ledger.UnitMinutes }, "tiers[0].resource_kind"},
		{"deadline in the past", func(c *NewCampaign) { c.Deadline = past }, "deadline"},
		{"deadline before start", func(c *NewCampaign) { s := future.Add(time.Hour); c.StartsAt = &s }, "deadline"},
		{"mode", func(c *NewCampaign) { c.Mode = "whatever" }, "mode"},
		{"title", func(c *NewCampaign) { c.Title = " " }, "title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.edit(&in)
			_, err := f.camp.CreateCampaign(ctx, identity.System(), in)
			if !errors.Is(err, errs.ErrInvalid) && !strings.Contains(fieldsOf(err), tc.field) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(fieldsOf(err), tc.field) {
				t.Fatalf("fields %s, want %s", fieldsOf(err), tc.field)
			}
		})
	}
	if n := f.count(t, "campaigns", "TRUE"); n != 0 {
		t.Fatalf("%d campaigns written", n)
	}
	// Edits only before the start.
	later := f.clock.AddDate(0, 0, 7)
	in := good()
	in.StartsAt = &later
	c, err := f.camp.CreateCampaign(ctx, identity.System(), in)
	if err != nil {
		t.Fatal(err)
	}
	goal := int64(150000)
	if c, err = f.camp.UpdateCampaign(ctx, identity.System(), c.ID, CampaignUpdate{GoalCents: &goal}); err != nil || c.GoalCents != goal {
		t.Fatalf("edit before start: %v", err)
	}
	*f.clock = later.Add(time.Minute)
	if _, err := f.camp.UpdateCampaign(ctx, identity.System(), c.ID, CampaignUpdate{GoalCents: &goal}); problemCode(err) != "campaign_started" {
		t.Fatalf("edit after start: %v", err)
	}
}

// latin1 encodes s in Windows-1252, as French spreadsheets save CSV.
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r < 0x100:
			b = append(b, byte(r))
		case r == '€':
			b = append(b, 0x80)
		default:
			b = append(b, '?')
		}
	}
	return b
}

const helloAssoCSV = "Référence commande;Date de la commande;Statut de la commande;Nom payeur;Prénom payeur;Email payeur;Montant;Contrepartie\r\n" +
	"1001;02/03/2026 10:15:00;Validé;Lefèvre;Hélène;m0@example.fr;120,00;Laser\r\n" +
	"1002;02/03/2026 11:00;Validé;Dupont;Jean;nouveau@example.fr;25;Soutien\r\n" +
	"1003;02/03/2026;Remboursé;Martin;Zoé;zoe@example.fr;50,00;Soutien\r\n"

func TestImportContributions(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 1, "")
	ctx := context.Background()
	c := f.campaign(t, ModeAllOrNothing, 50000)
	anne := f.users[0]

	rep, err := f.camp.ImportContributions(ctx, runBy(anne), c.ID, latin1(helloAssoCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != FormatHelloAsso || rep.Encoding != "windows-1252" || rep.Delimiter != ";" || rep.Created != 2 ||
		rep.Matched != 1 || rep.Held != 1 || len(rep.Skipped) != 1 || rep.Skipped[0].Line != 4 {
		t.Fatalf("report = %+v", rep)
	}
	ks, _ := f.camp.ListContributions(ctx, identity.System(), c.ID, ContributionFilter{})
	if len(ks) != 2 || ks[0].Name != "Hélène Lefèvre" || ks[0].AmountCents != 12000 || ks[1].AmountCents != 2500 {
		t.Fatalf("contributions = %+v", ks)
	}
	// Pending until the goal is reached: 600 machine minutes for 120 €.
	if a, p := f.credit(t, anne, ledger.UnitMinutes); a != 0 || p != 600 {
		t.Fatalf("anne: available %d, pending %d", a, p)
	}
	// The same file again, as UTF-8 with a BOM and commas: nothing new.
	again := "\uFEFF" + strings.ReplaceAll(strings.ReplaceAll(helloAssoCSV, ";", ","), "120,00", "120.00")
	rep, err = f.camp.ImportContributions(ctx, runBy(anne), c.ID, []byte(again))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encoding != "utf-8-bom" || rep.Delimiter != "," || rep.Created != 0 || rep.Duplicates != 2 {
		t.Fatalf("second import = %+v", rep)
	}
	// Someone registers with the held contributor's address: nothing
	// follows until the address is proved theirs; then their credit does.
	u := dbtest.User(t, f.db, "nouveau@example.fr", "Jean")
	if a, p := f.credit(t, u, ledger.UnitCents); a != 0 || p != 0 {
		t.Fatalf("claimed by an unverified address: available %d, pending %d", a, p)
	}
	if _, err := f.db.ExecContext(ctx, "UPDATE users SET email_verified_at = ? WHERE id = ?", time.Now().UTC(), u); err != nil {
		t.Fatal(err)
	}
	if a, p := f.credit(t, u, ledger.UnitCents); a != 0 || p != 2400 {
		t.Fatalf("claimed: available %d, pending %d", a, p)
	}
	f.ledgerOK(t)
}

func TestImportRejectsTheWholeFile(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 1, "")
	ctx := context.Background()
	c := f.campaign(t, ModeKeepItAll, 50000)
	bad := "contribution_id,email,name,amount,date\n" +
		"a1,m0@example.fr,Anne,30,2026-03-02\n" +
		"a2,not-an-email,Bob,30,2026-03-02\n" +
		"a3,c@example.fr,Cé,-5,2026-03-02\n" +
		"a4,d@example.fr,Dé,0,2026-03-02\n" +
		"a1,e@example.fr,Eve,10,2026-03-02\n" +
		"a6,f@example.fr,Fé,10,hier\n"
	_, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte(bad))
	var rej *ImportRejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v", err)
	}
	want := []LineProblem{{Line: 3, Column: "email"}, {Line: 4, Column: "amount"}, {Line: 5, Column: "amount"}, {Line: 6, Column: "id"}, {Line: 7, Column: "date"}}
	if len(rej.Problems) != len(want) {
		t.Fatalf("problems = %+v", rej.Problems)
	}
	for i, w := range want {
		if rej.Problems[i].Line != w.Line || rej.Problems[i].Column != w.Column {
			t.Fatalf("problem %d = %+v, want %+v", i, rej.Problems[i], w)
		}
	}
	if n := f.count(t, "campaign_contributions", "TRUE"); n != 0 {
		t.Fatalf("%d contributions written from a refused file", n)
	}
	for name, body := range map[string]string{
		"missing columns": "email;montant\nm0@example.fr;30\n",
		"empty":           "",
		"utf-16":          "\xff\xfeh\x00",
	} {
		_, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte(body))
		if problemCode(err) != "csv_unreadable" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// keep_it_all: the credit is spendable at once.
	rep, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;amount;date;public_name\nx1;m0@example.fr;20;2026-03-02T09:00:00+01:00;Anne L.\n"))
	if err != nil || rep.Created != 1 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	if a, p := f.credit(t, f.users[0], ledger.UnitCents); a != 2400 || p != 0 {
		t.Fatalf("keep_it_all credit: available %d pending %d", a, p)
	}
	pr, _ := f.camp.Progress(ctx, c.ID)
	if pr.RaisedCents != 2000 || pr.Backers != 1 || len(pr.PublicNames) != 1 || pr.PublicNames[0] != "Anne L." {
		t.Fatalf("progress = %+v", pr)
	}
}

// TestSettlementHappensOnce settles a successful all_or_nothing campaign
// from many goroutines at once: the credit vests once.
func TestSettlementHappensOnce(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 3, "")
	ctx := context.Background()
	c := f.campaign(t, ModeAllOrNothing, 30000)
	csv := "contribution_id;email;amount;date\n" +
		"s1;m0@example.fr;100;2026-03-02\ns2;m1@example.fr;150;2026-03-02\ns3;m2@example.fr;60;2026-03-02\n"
	if _, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte(csv)); err != nil {
		t.Fatal(err)
	}
	// Before the deadline the job does nothing.
	if got, err := f.camp.SettleCampaign(ctx, c.ID, false); err != nil || got.Status != CampaignOpen {
		t.Fatalf("early run: %v %+v", err, got)
	}
	*f.clock = c.Deadline.Add(time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := f.camp.SettleCampaign(ctx, c.ID, false); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ := f.camp.GetCampaign(ctx, c.ID)
	if got.Status != CampaignSucceeded || got.SettledAt == nil {
		t.Fatalf("campaign = %+v", got)
	}
	// Integrators are told once, whatever the number of settlers.
	var settled []events.Event
	for _, e := range f.events.Events() {
		if e.Type == EventCampaignSettled {
			settled = append(settled, e)
		}
	}
	if len(settled) != 1 || settled[0].Data.(CampaignSettledEvent).RaisedCents != 31000 || settled[0].SiteID != f.site.ID {
		t.Fatalf("campaign.settled events = %+v", settled)
	}
	if n := f.count(t, "credit_movements", "kind = ?", ledger.MoveVest); n != 3 {
		t.Fatalf("%d vest movements, want 3", n)
	}
	if a, p := f.credit(t, f.users[0], ledger.UnitMinutes); a != 600 || p != 0 {
		t.Fatalf("vested: available %d, pending %d", a, p)
	}
	f.ledgerOK(t)
}

// TestFailedCampaignRefundsOnline pays one contribution online (stripe-mock
// and signed webhooks), imports another, misses the goal: the online one is
// refunded through Stripe with a credit note, pending credit is voided.
func TestFailedCampaignRefundsOnline(t *testing.T) {
	t.Parallel()
	proxyURL, rec := stripetest.RecordRequests(t, stripetest.Start(t))
	f := newCampaignFixture(t, 2, proxyURL)
	ctx := context.Background()
	c := f.campaign(t, ModeAllOrNothing, 1_000_000)
	anne := f.users[0]
	buyer := &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}
	for name, in := range map[string]ContributionCheckout{
		"amount":     {AmountCents: 10, SuccessURL: "https://x.fr/ok", CancelURL: "https://x.fr/ko", Buyer: buyer},
		"buyer":      {AmountCents: 5000, SuccessURL: "https://x.fr/ok", CancelURL: "https://x.fr/ko"},
		"cancel_url": {AmountCents: 5000, SuccessURL: "https://x.fr/ok", CancelURL: "nope", Buyer: buyer},
	} {
		if _, err := f.camp.CheckoutContribution(ctx, &identity.Principal{UserID: anne}, c.ID, in); !strings.Contains(fieldsOf(err), name) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	res, err := f.camp.CheckoutContribution(ctx, &identity.Principal{UserID: anne}, c.ID, ContributionCheckout{AmountCents: 12000, PublicName: "Anne",
		SuccessURL: "https://x.fr/ok", CancelURL: "https://x.fr/ko", Buyer: buyer})
	if err != nil {
		t.Fatal(err)
	}
	sess := map[string]any{"id": res.SessionID, "object": "checkout.session", "client_reference_id": res.TargetID, "mode": "payment",
		"payment_status": "paid", "status": "complete", "payment_intent": "pi_" + res.TargetID,
		"metadata": map[string]any{"purpose": billing.PurposeContribution, "contribution_id": res.TargetID, "campaign_id": c.ID}}
	ev := stripetest.Event("checkout.session.completed", *f.clock, sess)
	f.mustDeliver(t, ev)
	f.mustDeliver(t, ev) // delivered twice
	f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, sess))
	k, _ := f.camp.GetContribution(ctx, res.TargetID)
	if k.Status != ContribPaid || k.InvoiceID == nil || k.LotID == nil {
		t.Fatalf("paid contribution = %+v", k)
	}
	if n := f.count(t, "invoices", "kind = 'invoice'"); n != 1 {
		t.Fatalf("%d invoices, want 1", n)
	}
	if _, p := f.credit(t, anne, ledger.UnitMinutes); p != 600 {
		t.Fatalf("pending minutes = %d", p)
	}
	if _, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;amount;date\nh1;m1@example.fr;30;2026-03-02\n")); err != nil {
		t.Fatal(err)
	}
	*f.clock = c.Deadline.Add(time.Minute)
	got, err := f.camp.SettleCampaign(ctx, c.ID, false)
	if err != nil || got.Status != CampaignFailed {
		t.Fatalf("settle: %v %+v", err, got)
	}
	refunds := rec.Posts("/v1/refunds")
	if len(refunds) != 1 || refunds[0].Form.Get("payment_intent") != "pi_"+res.TargetID || refunds[0].Form.Get("amount") != "12000" ||
		refunds[0].IdempotencyKey != "relais-campaign-refund-"+res.TargetID {
		t.Fatalf("refunds asked = %+v", refunds)
	}
	k, _ = f.camp.GetContribution(ctx, res.TargetID)
	if k.Status != ContribRefunded || k.RefundedCents != 12000 {
		t.Fatalf("refunded contribution = %+v", k)
	}
	if n := f.count(t, "invoices", "kind = 'credit_note'"); n != 1 {
		t.Fatalf("%d credit notes, want 1", n)
	}
	// Stripe confirms the refund: nothing more.
	f.mustDeliver(t, stripetest.Event("charge.refunded", *f.clock, stripetest.Charge("pi_"+res.TargetID, "", 12000, 12000)))
	if n := f.count(t, "invoices", "kind = 'credit_note'"); n != 1 {
		t.Fatalf("%d credit notes after the webhook, want 1", n)
	}
	for _, u := range []string{anne, f.users[1]} {
		for _, unit := range []string{ledger.UnitCents, ledger.UnitMinutes} {
			if a, p := f.credit(t, u, unit); a != 0 || p != 0 {
				t.Fatalf("%s %s after failure: available %d pending %d", u, unit, a, p)
			}
		}
	}
	// Settling again refunds nothing more.
	if _, err := f.camp.SettleCampaign(ctx, c.ID, false); err != nil || len(rec.Posts("/v1/refunds")) != 1 {
		t.Fatalf("second settle: %v, %d refunds", err, len(rec.Posts("/v1/refunds")))
	}
	// No contribution after the end.
	if _, err := f.camp.CheckoutContribution(ctx, &identity.Principal{UserID: anne}, c.ID, ContributionCheckout{AmountCents: 5000,
		SuccessURL: "https://x.fr/ok", CancelURL: "https://x.fr/ko", Buyer: buyer}); problemCode(err) != "campaign_not_open" {
		t.Fatalf("after the end: %v", err)
	}
	f.ledgerOK(t)
}

func TestParseAmountsAndDates(t *testing.T) {
	for in, want := range map[string]int64{"30": 3000, "30,5": 3050, "1 200,50 €": 120050, "0,99": 99, "12.34": 1234} {
		if got, err := parseEuros(in); err != nil || got != want {
			t.Errorf("parseEuros(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-5", "abc", "1,234", "0", "1.2.3"} {
		if _, err := parseEuros(in); err == nil {
			t.Errorf("parseEuros(%q) accepted", in)
		}
	}
	if got, err := parseWhen("25/03/2026 14:05", paris); err != nil || !got.Equal(time.Date(2026, 3, 25, 13, 5, 0, 0, time.UTC)) {
		t.Errorf("parseWhen = %v, %v", got, err)
	}
}

// TestAbandonedContributionExpires: an online contribution left unpaid for
// a day is expired by the housekeeping, and still counts if its payment
// settles later (a SEPA debit).
func TestAbandonedContributionExpires(t *testing.T) {
	t.Parallel()
	proxyURL, _ := stripetest.RecordRequests(t, stripetest.Start(t))
	f := newCampaignFixture(t, 1, proxyURL)
	ctx := context.Background()
	c := f.campaign(t, ModeKeepItAll, 100_000)
	buyer := &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}
	res, err := f.camp.CheckoutContribution(ctx, &identity.Principal{UserID: f.users[0]}, c.ID, ContributionCheckout{AmountCents: 5000,
		SuccessURL: "https://x.fr/ok", CancelURL: "https://x.fr/ko", Buyer: buyer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.camp.Housekeeping(ctx, f.clock.Add(23*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k, _ := f.camp.GetContribution(ctx, res.TargetID); k.Status != ContribPending {
		t.Fatalf("after 23 h: %s", k.Status)
	}
	if _, err := f.camp.Housekeeping(ctx, f.clock.Add(25*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if k, _ := f.camp.GetContribution(ctx, res.TargetID); k.Status != ContribExpired {
		t.Fatalf("after 25 h: %s", k.Status)
	}
	sess := map[string]any{"id": res.SessionID, "object": "checkout.session", "client_reference_id": res.TargetID, "mode": "payment",
		"payment_status": "paid", "status": "complete", "payment_intent": "pi_" + res.TargetID,
		"metadata": map[string]any{"purpose": billing.PurposeContribution, "contribution_id": res.TargetID, "campaign_id": c.ID}}
	f.mustDeliver(t, stripetest.Event("checkout.session.async_payment_succeeded", *f.clock, sess))
	if k, _ := f.camp.GetContribution(ctx, res.TargetID); k.Status != ContribPaid {
		t.Fatalf("paid after expiry: %s", k.Status)
	}
	f.ledgerOK(t)
}

// TestImportRefusesControlCharacters: a cell that would be stored (the
// contribution id, the email, the names) holding a control character, a
// direction override or a line break refuses the whole file, naming the
// line and the column; nothing is written. On PostgreSQL a NUL used to
// fail the import's transaction with a 500.
func TestImportRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 1, "")
	ctx := context.Background()
	c := f.campaign(t, ModeKeepItAll, 50000)
	file := "contribution_id;email;name;amount;date;public_name\n" +
		"k1;a@example.fr;Anne;30;2026-03-02;Anne L.\n" +
		"k2;b@example.fr;Bé\x00rénice;30;2026-03-02;\n" +
		"k3\x00;c@example.fr;Cé;30;2026-03-02;\n" +
		"k4;d@example.fr;Dé;30;2026-03-02;\u202eDé\n" +
		"k5;e@exa\x1bmple.fr;Eve;30;2026-03-02;\n" +
		"k6;f@example.fr;\"Fé\nlix\";30;2026-03-02;\n" +
		"k7;g@example.fr;Gé\x7f;30;2026-03-02;\n"
	_, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte(file))
	var rej *ImportRejectedError
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v", err)
	}
	want := []LineProblem{{Line: 3, Column: "name"}, {Line: 4, Column: "id"}, {Line: 5, Column: "public_name"},
		{Line: 6, Column: "email"}, {Line: 7, Column: "name"}, {Line: 9, Column: "name"}}
	var got []string
	for _, p := range rej.Problems {
		got = append(got, fmt.Sprintf("%d:%s", p.Line, p.Column))
	}
	var wantS []string
	for _, w := range want {
		wantS = append(wantS, fmt.Sprintf("%d:%s", w.Line, w.Column))
	}
	if strings.Join(got, " ") != strings.Join(wantS, " ") {
		t.Fatalf("problems %v (%+v), want %v", got, rej.Problems, wantS)
	}
	if n := f.count(t, "campaign_contributions", "TRUE"); n != 0 {
		t.Fatalf("%d contributions written from a refused file", n)
	}
	// A Windows-1252 file: its letters are read as letters, and the five
	// bytes that code page leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D,
	// read as C1 controls) are refused like any other control character.
	_, err = f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;name;amount;date\nw1;w@example.fr;H\xe9l\xe8ne\x81;30;2026-03-02\n"))
	if !errors.As(err, &rej) || len(rej.Problems) != 1 || rej.Problems[0].Line != 2 || rej.Problems[0].Column != "name" {
		t.Fatalf("Windows-1252 file with an undefined byte: %v", err)
	}
	rep, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;name;amount;date\nw1;w@example.fr;H\xe9l\xe8ne;30;2026-03-02\n"))
	if err != nil || rep.Created != 1 {
		t.Fatalf("the clean Windows-1252 file: %+v, %v", rep, err)
	}
	ks, _ := f.camp.ListContributions(ctx, identity.System(), c.ID, ContributionFilter{})
	if len(ks) != 1 || ks[0].Name != "Hélène" {
		t.Fatalf("contributions = %+v", ks)
	}
}
