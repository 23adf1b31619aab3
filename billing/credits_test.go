package billing_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/ledger"
)

// holder is the principal of a member acting on their own credit.
func holder(userID string) *identity.Principal { return &identity.Principal{UserID: userID} }

// grant gives user credit at the fixture's site.
func (f *fixture) grant(t testing.TB, user, unit, kind string, amount int64, expires *time.Time) {
	t.Helper()
	if _, err := f.ledger.Grant(context.Background(), identity.System(), ledger.CreditGrant{UserID: user, SiteID: f.site.ID, ActorID: user,
		Unit: unit, ResourceKind: kind, Amount: amount, ExpiresAt: expires, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
}

// balance sums what user can spend now of one unit and kind.
func (f *fixture) balance(t testing.TB, user, unit, kind string) int64 {
	t.Helper()
	bs, err := f.ledger.Balances(context.Background(), holder(user))
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, b := range bs {
		if b.Lot.Unit == unit && b.Lot.ResourceKind == kind {
			n += b.Available
		}
	}
	return n
}

// checkLedger fails the test if a movement does not balance or a member
// holds less than nothing.
func (f *fixture) checkLedger(t testing.TB) ledger.LedgerReport {
	t.Helper()
	r, err := f.ledger.VerifyLedger(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unbalanced) > 0 || r.NegativeBalances > 0 {
		t.Fatalf("ledger broken: %+v", r)
	}
	return r
}

func TestCreditsPayBookings(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	anne := f.users[0]
	laser := f.resource(t, calendar.KindMachine, 1440) // 14,40 € TTC an hour (12 € HT)
	room := f.resource(t, calendar.KindRoom, 3000)     // 30 € TTC an hour (25 € HT)

	// Nothing: refused as before.
	if _, err := f.book(anne, laser, 3, 9, 10); code(err) != "membership_required" {
		t.Fatalf("no credit: %v", err)
	}
	f.grant(t, anne, ledger.UnitMinutes, calendar.KindMachine, 120, nil)
	r1, err := f.book(anne, laser, 3, 9, 10)
	if err != nil {
		t.Fatalf("hour credit pays the machine: %v", err)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 60 {
		t.Fatalf("machine minutes left = %d, want 60", got)
	}
	// Machine hours do not pay for a room.
	if _, err := f.book(anne, room, 3, 9, 10); code(err) != "membership_required" {
		t.Fatalf("machine credit on a room: %v", err)
	}
	// 90 minutes with 60 minutes of credit and no money: refused, and the
	// 60 minutes are still there (nothing half-spent).
	if _, err := f.book(anne, laser, 4, 9, 11); code(err) != "membership_required" {
		t.Fatalf("short of credit: %v", err)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 60 {
		t.Fatalf("after a refusal, machine minutes = %d, want 60", got)
	}
	// Money credit pays the rest at the pay-per-use price TTC: 60 min at
	// 14,40 € TTC an hour (12,00 HT + 2,40 VAT).
	f.grant(t, anne, ledger.UnitCents, "", 5000, nil)
	r2, err := f.book(anne, laser, 4, 9, 11)
	if err != nil {
		t.Fatalf("hours then money: %v", err)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 0 {
		t.Fatalf("machine minutes = %d, want 0", got)
	}
	if got := f.balance(t, anne, ledger.UnitCents, ""); got != 5000-1440 {
		t.Fatalf("money = %d, want %d", got, 5000-1440)
	}
	// Money pays a room too: 1 h at 30 € TTC.
	if _, err := f.book(anne, room, 5, 9, 10); err != nil {
		t.Fatalf("money on a room: %v", err)
	}
	if got := f.balance(t, anne, ledger.UnitCents, ""); got != 5000-1440-3000 {
		t.Fatalf("money = %d", got)
	}
	// A cancellation before the deadline gives everything back.
	for _, r := range []*calendar.Reservation{r1, r2} {
		if _, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: anne}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 120 {
		t.Fatalf("after cancelling, machine minutes = %d, want 120", got)
	}
	if got := f.balance(t, anne, ledger.UnitCents, ""); got != 5000-3000 {
		t.Fatalf("after cancelling, money = %d", got)
	}
	f.checkLedger(t)
}

func TestCreditsAfterIncludedHoursAndBeforePayPerUse(t *testing.T) {
	f := newFixture(t, 1)
	anne := f.users[0]
	room := f.resource(t, calendar.KindRoom, 3600)
	// One included hour of room a month, and pay-per-use beyond.
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{PayPerUse: true, Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 60}}}})
	f.pay(t, anne, p, "")
	f.grant(t, anne, ledger.UnitMinutes, calendar.KindRoom, 60, nil)
	// 3 h: 1 included, 1 from hour credit, 1 charged.
	if _, err := f.book(anne, room, 3, 9, 12); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindRoom); got != 0 {
		t.Fatalf("room minutes = %d", got)
	}
	charges, err := f.bill.OpenCharges(context.Background(), "", anne)
	if err != nil {
		t.Fatal(err)
	}
	if len(charges) != 1 || charges[0].Minutes != 60 {
		t.Fatalf("charges = %+v, want one of 60 minutes", charges)
	}
	f.checkLedger(t)
}

func TestCreditsSoonestExpiringFirstAndExpiry(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	anne := f.users[0]
	room := f.resource(t, calendar.KindRoom, 1200) // 12 € TTC an hour (10 € HT)
	in10, in30 := f.clock.AddDate(0, 0, 10), f.clock.AddDate(0, 0, 30)
	f.grant(t, anne, ledger.UnitCents, "", 1000, &in30)
	f.grant(t, anne, ledger.UnitCents, "", 1000, nil)
	f.grant(t, anne, ledger.UnitCents, "", 1000, &in10)
	if _, err := f.book(anne, room, 3, 9, 10); err != nil { // 1200
		t.Fatal(err)
	}
	bs, err := f.ledger.Balances(ctx, holder(anne))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{800, 1000} // the 10-day lot is gone, the 30-day one started; the lasting one untouched
	if len(bs) != 2 || bs[0].Available != want[0] || bs[1].Available != want[1] || bs[1].Lot.ExpiresAt != nil {
		t.Fatalf("balances = %+v", bs)
	}
	// Past the 30 days, the lot expires with a movement, once.
	*f.clock = in30.Add(time.Minute)
	for range 2 {
		if _, err := f.ledger.ExpireDue(ctx, *f.clock); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.balance(t, anne, ledger.UnitCents, ""); got != 1000 {
		t.Fatalf("after expiry, money = %d, want 1000", got)
	}
	mvs, err := f.ledger.Movements(ctx, holder(anne), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	expiries := 0
	for _, m := range mvs {
		if m.Kind == ledger.MoveExpire {
			expiries++
			if len(m.Lines) != 1 || m.Lines[0].Amount != -800 {
				t.Fatalf("expiry lines = %+v", m.Lines)
			}
		}
	}
	if expiries != 1 {
		t.Fatalf("%d expiry movements, want 1", expiries)
	}
	f.checkLedger(t)
}

func TestCreditsLateCancellationFollowsTheResourceRule(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	anne := f.users[0]
	laser, err := f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", Capacity: 1,
		PricePerHourCents: 1200, Rules: calendar.Rules{CancelDeadlineMinutes: 48 * 60, LateCancelRefundPercent: 50}})
	if err != nil {
		t.Fatal(err)
	}
	f.grant(t, anne, ledger.UnitMinutes, calendar.KindMachine, 60, nil)
	r, err := f.book(anne, laser, 3, 9, 10) // tomorrow: inside the 48 h deadline
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.cal.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: &identity.Principal{UserID: anne}})
	if err != nil || !c.LateCancel {
		t.Fatalf("late cancel: %v %+v", err, c)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 30 {
		t.Fatalf("after a late cancellation, minutes = %d, want 30", got)
	}
	// An out-of-range rule is refused, naming the field.
	_, err = f.cal.CreateResource(ctx, identity.System(), f.site.ID, calendar.NewResource{Kind: calendar.KindMachine, Name: "X", Capacity: 1,
		Rules: calendar.Rules{LateCancelRefundPercent: 101}})
	if err == nil || !contains(err.Error(), "rules.late_cancel_refund_percent") {
		t.Fatalf("percent 101: %v", err)
	}
	f.checkLedger(t)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestCreditsGiftGrantWithdraw(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	anne, bob := f.users[0], f.users[1]
	in10 := f.clock.AddDate(0, 0, 10)
	f.grant(t, anne, ledger.UnitCents, "", 1000, &in10)
	for _, tc := range []struct {
		name string
		from string
		g    ledger.CreditGift
		code string
	}{
		{"zero", anne, ledger.CreditGift{ToEmail: "m1@example.fr", Unit: ledger.UnitCents, Amount: 0}, "amount"},
		{"negative", anne, ledger.CreditGift{ToEmail: "m1@example.fr", Unit: ledger.UnitCents, Amount: -5}, "amount"},
		{"more than held", anne, ledger.CreditGift{ToEmail: "m1@example.fr", Unit: ledger.UnitCents, Amount: 1001}, "insufficient_credit"},
		{"unknown member", anne, ledger.CreditGift{ToEmail: "nobody@example.fr", Unit: ledger.UnitCents, Amount: 1}, "to_email"},
		{"self", anne, ledger.CreditGift{ToEmail: "M0@example.fr", Unit: ledger.UnitCents, Amount: 1}, "to_email"},
		{"bad unit", anne, ledger.CreditGift{ToEmail: "m1@example.fr", Unit: "euros", Amount: 1}, "unit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.ledger.Gift(ctx, holder(tc.from), tc.g)
			if err == nil || !contains(err.Error(), tc.code) {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if _, err := f.ledger.Gift(ctx, holder(anne), ledger.CreditGift{ToEmail: "m1@example.fr", Unit: ledger.UnitCents, Amount: 400, Message: "joyeux anniversaire"}); err != nil {
		t.Fatal(err)
	}
	if a, b := f.balance(t, anne, ledger.UnitCents, ""), f.balance(t, bob, ledger.UnitCents, ""); a != 600 || b != 400 {
		t.Fatalf("after the gift: anne %d, bob %d", a, b)
	}
	bs, _ := f.ledger.Balances(ctx, holder(bob))
	if len(bs) != 1 || bs[0].Lot.ExpiresAt == nil || !bs[0].Lot.ExpiresAt.Equal(in10.UTC()) || bs[0].Lot.Origin != ledger.OriginGift {
		t.Fatalf("the gift keeps the expiry: %+v", bs)
	}
	// Withdraw: with a reason, never more than held.
	w := ledger.CreditGrant{UserID: bob, SiteID: f.site.ID, ActorID: anne, Unit: ledger.UnitCents, Amount: 500, Reason: "erreur"}
	if _, err := f.ledger.Withdraw(ctx, identity.System(), w); err == nil || !contains(err.Error(), "insufficient_credit") {
		t.Fatalf("withdraw too much: %v", err)
	}
	w.Amount, w.Reason = 100, ""
	if _, err := f.ledger.Withdraw(ctx, identity.System(), w); err == nil || !contains(err.Error(), "reason") {
		t.Fatalf("withdraw without reason: %v", err)
	}
	w.Reason = "erreur de saisie"
	if _, err := f.ledger.Withdraw(ctx, identity.System(), w); err != nil {
		t.Fatal(err)
	}
	if b := f.balance(t, bob, ledger.UnitCents, ""); b != 300 {
		t.Fatalf("after withdrawal: bob %d", b)
	}
	// Grants refuse bad input.
	past := f.clock.Add(-time.Hour)
	for _, g := range []ledger.CreditGrant{
		{UserID: bob, SiteID: f.site.ID, ActorID: anne, Unit: ledger.UnitCents, Amount: 0, Reason: "x"},
		{UserID: bob, SiteID: f.site.ID, ActorID: anne, Unit: ledger.UnitMinutes, Amount: 10, Reason: "x"},
		{UserID: bob, SiteID: f.site.ID, ActorID: anne, Unit: ledger.UnitCents, Amount: 10, Reason: "x", ExpiresAt: &past},
	} {
		if _, err := f.ledger.Grant(ctx, identity.System(), g); err == nil {
			t.Fatalf("grant %+v accepted", g)
		}
	}
	f.checkLedger(t)
}

func TestCreditsLedgerIsAppendOnly(t *testing.T) {
	f := newFixture(t, 1)
	f.grant(t, f.users[0], ledger.UnitCents, "", 1000, nil)
	ctx := context.Background()
	for _, q := range []string{
		"UPDATE credit_entries SET amount = amount * 2",
		"DELETE FROM credit_entries",
		"UPDATE credit_lots SET expires_at = NULL",
		"DELETE FROM credit_movements",
	} {
		if _, err := f.db.ExecContext(ctx, q); err == nil || !contains(err.Error(), "append-only") {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestCreditsNeverNegativeUnderConcurrency races 40 bookings, each worth an
// hour of credit, against a balance of 10 hours: exactly ten win.
func TestCreditsNeverNegativeUnderConcurrency(t *testing.T) {
	f := newFixture(t, 1)
	anne := f.users[0]
	var machines []*calendar.Resource
	for range 4 {
		machines = append(machines, f.resource(t, calendar.KindMachine, 0))
	}
	f.grant(t, anne, ledger.UnitMinutes, calendar.KindMachine, 600, nil)
	var wins, refusals atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			m := machines[i%4]
			_, err := f.book(anne, m, 3+i/4%7, 8+i/28, 9+i/28)
			switch {
			case err == nil:
				wins.Add(1)
			case code(err) == "membership_required":
				refusals.Add(1)
			default:
				t.Errorf("booking %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 10 || refusals.Load() != 30 {
		t.Fatalf("%d bookings paid, %d refused; want 10 and 30", wins.Load(), refusals.Load())
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindMachine); got != 0 {
		t.Fatalf("balance = %d", got)
	}
	r := f.checkLedger(t)
	if r.Movements != 11 {
		t.Fatalf("%d movements, want 11", r.Movements)
	}
}

// TestCreditsConcurrentGiftsAndSpends mixes spends with gifts in both
// directions: no deadlock, no negative balance, nothing created or lost.
func TestCreditsConcurrentGiftsAndSpends(t *testing.T) {
	f := newFixture(t, 2)
	ctx := context.Background()
	anne, bob := f.users[0], f.users[1]
	room := f.resource(t, calendar.KindRoom, 1200)
	f.grant(t, anne, ledger.UnitCents, "", 5000, nil)
	f.grant(t, bob, ledger.UnitCents, "", 5000, nil)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = f.ledger.Gift(ctx, holder(anne), ledger.CreditGift{ToEmail: "m1@example.fr", Unit: ledger.UnitCents, Amount: 700})
			case 1:
				_, err = f.ledger.Gift(ctx, holder(bob), ledger.CreditGift{ToEmail: "m0@example.fr", Unit: ledger.UnitCents, Amount: 900})
			default:
				u := []string{anne, bob}[i%2]
				_, err = f.book(u, room, 3+i/3, 9, 10)
			}
			if err != nil && code(err) != "insufficient_credit" && code(err) != "membership_required" && code(err) != "slot_taken" {
				t.Errorf("op %d: %v", i, fmt.Sprint(err))
			}
		})
	}
	wg.Wait()
	f.checkLedger(t)
	total := f.balance(t, anne, ledger.UnitCents, "") + f.balance(t, bob, ledger.UnitCents, "")
	var spent int64
	if err := f.db.NewSelect().Table("credit_entries").ColumnExpr("COALESCE(SUM(amount), 0)").Where("account = 'spent'").Scan(ctx, &spent); err != nil {
		t.Fatal(err)
	}
	if total+spent != 10000 {
		t.Fatalf("held %d + spent %d ≠ 10000 granted", total, spent)
	}
}

// TestCreditsTopUpIncludedHoursWithoutPayPerUse: a plan without pay-per-use
// whose included minutes cover part of a booking uses them first; credit
// pays only the rest, all or nothing.
func TestCreditsTopUpIncludedHoursWithoutPayPerUse(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	anne := f.users[0]
	room := f.resource(t, calendar.KindRoom, 3600)
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 60}}}})
	f.pay(t, anne, p, "")
	f.grant(t, anne, ledger.UnitMinutes, calendar.KindRoom, 60, nil)
	// 3 h with 1 h included and 1 h of credit: refused, nothing spent.
	if _, err := f.book(anne, room, 3, 9, 12); code(err) != "included_hours_exhausted" {
		t.Fatalf("3 h: %v", err)
	}
	used := func() int {
		var n int
		if err := f.db.NewSelect().Table("allowance_uses").ColumnExpr("COALESCE(SUM(minutes), 0)").Where("user_id = ? AND released_at IS NULL", anne).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindRoom); got != 60 || used() != 0 {
		t.Fatalf("after a refusal: %d credit minutes, %d included minutes used", got, used())
	}
	// 2 h: the included hour, then the hour of credit.
	if _, err := f.book(anne, room, 3, 9, 11); err != nil {
		t.Fatal(err)
	}
	if got := f.balance(t, anne, ledger.UnitMinutes, calendar.KindRoom); got != 0 || used() != 60 {
		t.Fatalf("after 2 h: %d credit minutes left, %d included minutes used; want 0 and 60", got, used())
	}
	f.checkLedger(t)
}
