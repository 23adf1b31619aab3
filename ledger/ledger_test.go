package ledger_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/pdftest"
	"github.com/relais-tierslieux/relais/ledger"
)

type fixture struct {
	db      *bun.DB
	ledger  *ledger.Service
	site    string
	anne    string
	bob     string
	manager *identity.Principal
	clock   *time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d := dbtest.New(t)
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)
	clock := &now
	nowFn := func() time.Time { return *clock }
	queue := jobstest.Queue(t, d)
	accounts, err := identity.New(d, identity.Config{JWTSecret: []byte("ledger-test-secret-of-at-least-32-bytes"), Jobs: queue})
	if err != nil {
		t.Fatal(err)
	}
	site, err := calendar.New(d, calendar.Config{Events: events.Discard, Now: nowFn, Jobs: queue, Accounts: accounts}).CreateSite(context.Background(), identity.System(), calendar.NewSite{Name: "La Fabrique",
		Timezone: "Europe/Paris", Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal: calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	mona := dbtest.User(t, d, "mona@example.fr", "Mona")
	return &fixture{db: d, clock: clock, site: site.ID,
		ledger:  ledger.New(d, ledger.Config{Now: nowFn, Jobs: queue, Accounts: accounts, Sites: calendar.DevicePlaces{}}),
		anne:    dbtest.User(t, d, "anne@example.fr", "Anne"),
		bob:     dbtest.User(t, d, "bob@example.fr", "Bob"),
		manager: &identity.Principal{UserID: mona, ManagedSites: []string{site.ID}}}
}

func holder(userID string) *identity.Principal { return &identity.Principal{UserID: userID} }

func code(err error) string {
	var p *errs.Problem
	var ve *errs.ValidationError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &p):
		return p.Code
	case errors.As(err, &ve):
		return "invalid:" + ve.Fields[0].Field
	case errors.Is(err, errs.ErrForbidden):
		return "forbidden"
	}
	return err.Error()
}

// Adjust decides who may, then whether the site and the member exist, then
// what was asked: the order the API always answered in.
func TestAdjustAnswersInOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	grant := ledger.CreditGrant{UserID: f.anne, SiteID: f.site, Unit: ledger.UnitCents, Amount: 500, Reason: "bienvenue"}
	elsewhere := &identity.Principal{UserID: "otto", ManagedSites: []string{"elsewhere"}}
	key := &identity.Principal{APIKeyID: "k", AllSites: true, Scopes: []string{identity.ScopeSitesWrite}}
	admin := &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	unknownSite, unknownUser := grant, grant
	unknownSite.SiteID = "0190f3a4-0000-7000-8000-000000000000"
	unknownUser.UserID = "0190f3a4-0000-7000-8000-000000000000"
	tests := []struct {
		name   string
		p      *identity.Principal
		action string
		g      ledger.CreditGrant
		want   string
	}{
		{"a member", holder(f.anne), "grant", grant, "forbidden"},
		{"a manager elsewhere", elsewhere, "grant", grant, "forbidden"},
		{"a manager elsewhere, bad action", elsewhere, "give", grant, "forbidden"},
		{"an API key", key, "grant", grant, "forbidden"},
		{"an admin, unknown site", admin, "grant", unknownSite, "site_not_found"},
		{"a manager, bad action", f.manager, "give", grant, "invalid:action"},
		{"a manager, unknown member", f.manager, "grant", unknownUser, "user_not_found"},
		{"a manager grants", f.manager, "grant", grant, "ok"},
		{"a manager withdraws", f.manager, "withdraw", grant, "ok"},
		{"more than is left", f.manager, "withdraw", grant, "insufficient_credit"},
	}
	for _, tt := range tests {
		mv, err := f.ledger.Adjust(ctx, tt.p, tt.action, tt.g)
		if got := code(err); got != tt.want {
			t.Fatalf("%s: got %s, want %s", tt.name, got, tt.want)
		}
		if err == nil && (mv.UserID != f.anne || *mv.ActorID != f.manager.UserID || len(mv.Lines) != 1) {
			t.Fatalf("%s: movement %+v", tt.name, mv)
		}
	}
	// A deleted account receives nothing.
	if _, err := f.db.ExecContext(ctx, "UPDATE users SET deleted_at = ? WHERE id = ?", *f.clock, f.bob); err != nil {
		t.Fatal(err)
	}
	grant.UserID = f.bob
	if _, err := f.ledger.Grant(ctx, f.manager, grant); code(err) != "user_not_found" {
		t.Fatalf("grant to a deleted account: %v", err)
	}
}

// A gift goes to the member of an email, as the giver sees it; the
// statement follows the balance and reads back as CSV and PDF.
func TestGiftAndStatement(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.ledger.Grant(ctx, f.manager, ledger.CreditGrant{UserID: f.anne, SiteID: f.site, Unit: ledger.UnitCents, Amount: 1000, Reason: "bienvenue"}); err != nil {
		t.Fatal(err)
	}
	key := &identity.Principal{APIKeyID: "k", UserID: f.anne}
	if _, err := f.ledger.Gift(ctx, key, ledger.CreditGift{ToEmail: "bob@example.fr", Unit: ledger.UnitCents, Amount: 1}); code(err) != "forbidden" {
		t.Fatalf("a key gives: %v", err)
	}
	if _, err := f.ledger.Gift(ctx, holder(f.anne), ledger.CreditGift{ToEmail: "nobody@example.fr", Unit: ledger.UnitCents, Amount: 1}); code(err) != "invalid:to_email" {
		t.Fatalf("gift to nobody: %v", err)
	}
	*f.clock = f.clock.Add(time.Hour)
	mv, err := f.ledger.Gift(ctx, holder(f.anne), ledger.CreditGift{ToEmail: " BOB@example.fr ", Unit: ledger.UnitCents, Amount: 400, Message: "merci"})
	if err != nil {
		t.Fatal(err)
	}
	if mv.Kind != ledger.MoveGift || len(mv.Lines) != 1 || mv.Lines[0].Amount != -400 || *mv.CounterpartID != f.bob {
		t.Fatalf("gift as anne sees it: %+v", mv)
	}
	bs, err := f.ledger.Balances(ctx, holder(f.bob))
	if err != nil || len(bs) != 1 || bs[0].Available != 400 || bs[0].Lot.Origin != ledger.OriginGift {
		t.Fatalf("bob's balances = %+v, %v", bs, err)
	}
	lines, err := f.ledger.Statement(ctx, holder(f.anne), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Balance != 1000 || lines[1].Amount != -400 || lines[1].Balance != 600 {
		t.Fatalf("statement = %+v", lines)
	}
	// A window keeps the balance brought forward.
	lines, err = f.ledger.Statement(ctx, holder(f.anne), f.clock.Add(-time.Minute), time.Time{})
	if err != nil || len(lines) != 1 || lines[0].Balance != 600 {
		t.Fatalf("windowed statement = %+v, %v", lines, err)
	}
	var csv bytes.Buffer
	if err := ledger.WriteStatementCSV(&csv, lines); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), ",gift,merci,cents,,-400,false,600") {
		t.Fatalf("csv = %s", csv.String())
	}
	pdf, err := f.ledger.StatementPDF(ctx, holder(f.anne), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if text := pdftest.Text(t, pdf); !strings.Contains(text, "Anne <anne@example.fr>") || !strings.Contains(text, "-4,00") {
		t.Fatalf("statement PDF says:\n%s", text)
	}
	if r, err := f.ledger.VerifyLedger(ctx); err != nil || len(r.Unbalanced) > 0 || r.NegativeBalances > 0 || r.Movements != 2 {
		t.Fatalf("ledger = %+v, %v", r, err)
	}
}

// Credit past its date expires once, through ExpireDue, the hourly safety
// net behind the per-lot jobs.
func TestExpireDue(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in10 := f.clock.AddDate(0, 0, 10)
	if _, err := f.ledger.Grant(ctx, f.manager, ledger.CreditGrant{UserID: f.anne, SiteID: f.site, Unit: ledger.UnitMinutes,
		ResourceKind: calendar.KindMachine, Amount: 60, ExpiresAt: &in10, Reason: "essai"}); err != nil {
		t.Fatal(err)
	}
	*f.clock = in10.Add(time.Minute)
	for want := range []int64{1, 0} {
		n, err := f.ledger.ExpireDue(ctx, *f.clock)
		if err != nil || n != int64(1-want) {
			t.Fatalf("ExpireDue = %d, %v", n, err)
		}
	}
	mvs, err := f.ledger.Movements(ctx, holder(f.anne), "", 10)
	if err != nil || len(mvs) != 2 || mvs[1].Kind != ledger.MoveExpire || mvs[1].Lines[0].Amount != -60 {
		t.Fatalf("movements = %+v, %v", mvs, err)
	}
}
