package billing_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

type fixture struct {
	db     *bun.DB
	cal    *calendar.Service
	bill   *billing.Service
	ledger *ledger.Service
	site   *calendar.Site
	users  []string
	paris  *time.Location
	clock  *time.Time
	events *events.Recorder
}

func newFixture(t testing.TB, members int) *fixture {
	t.Helper()
	d := dbtest.New(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 2, 7, 0, 0, 0, paris)
	clock := &now
	nowFn := func() time.Time { return *clock }
	queue := jobstest.Queue(t, d)
	accounts := billing.AccountsForTest(t, d)
	credits := newLedger(t, d, nowFn)
	rec := &events.Recorder{}
	bill := billing.New(d, billing.Config{Events: rec, Now: nowFn, Invoicer: invoicing.NewInvoicer(d, nowFn), Accounts: accounts, Ledger: credits})
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Now: nowFn, Jobs: queue, Accounts: accounts, Guard: bill})
	hours := calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		hours[day] = [][2]string{{"08:00", "20:00"}}
	}
	site, err := cal.CreateSite(context.Background(), identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address:      calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		OpeningHours: hours,
		Legal:        calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: d, cal: cal, bill: bill, ledger: credits, site: site, paris: paris, clock: clock, events: rec}
	for i := range members {
		f.users = append(f.users, dbtest.User(t, d, fmt.Sprintf("m%d@example.fr", i), "M"))
	}
	return f
}

// newLedger is the credits ledger on d, asking identity about accounts.
func newLedger(t testing.TB, d *bun.DB, now func() time.Time) *ledger.Service {
	t.Helper()
	return ledger.New(d, ledger.Config{Now: now, Jobs: jobstest.Queue(t, d), Accounts: billing.AccountsForTest(t, d), Sites: calendar.DevicePlaces{}})
}

func (f *fixture) invoicer() *invoicing.Invoicer {
	return invoicing.NewInvoicer(f.db, func() time.Time { return *f.clock })
}

func (f *fixture) plan(t *testing.T, in billing.NewPlan) *billing.Plan {
	t.Helper()
	if in.SiteID == nil {
		in.SiteID = &f.site.ID
	}
	p, err := f.bill.CreatePlan(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testBuyer is who the invoices of the fixture's payments are made out to.
var testBuyer = &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}

func (f *fixture) pay(t *testing.T, user string, p *billing.Plan, date string) *billing.Purchase {
	t.Helper()
	out, err := f.bill.RecordOnSitePayment(context.Background(), billing.OnSitePayment{SiteID: f.site.ID, UserID: user, PlanID: p.ID,
		Date: date, Method: billing.MethodCash, AmountCents: p.PriceCents, RecordedBy: user, Buyer: testBuyer})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) resource(t testing.TB, kind string, price int64) *calendar.Resource {
	t.Helper()
	capacity := 1
	if kind == calendar.KindRoom || kind == calendar.KindZone {
		capacity = 8
	}
	r, err := f.cal.CreateResource(context.Background(), identity.System(), f.site.ID, calendar.NewResource{Kind: kind, Name: kind, Capacity: capacity, PricePerHourCents: price})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) book(user string, r *calendar.Resource, day, from, to int) (*calendar.Reservation, error) {
	return f.cal.Book(context.Background(), calendar.Booking{ResourceID: r.ID, UserID: user, By: &identity.Principal{UserID: user},
		Start: time.Date(2026, 3, day, from, 0, 0, 0, f.paris).Format(time.RFC3339),
		End:   time.Date(2026, 3, day, to, 0, 0, 0, f.paris).Format(time.RFC3339)})
}

func code(err error) string {
	var p *errs.Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return fmt.Sprint(err)
}

func TestSplitTTC(t *testing.T) {
	for _, tc := range []struct {
		ttc     int64
		rate    int
		ht, vat int64
	}{
		{2500, 2000, 2083, 417},    // the 25 € day pass
		{50000, 2000, 41667, 8333}, // 500 € Résident
		{30000, 0, 30000, 0},       // VAT-exempt association
		{1, 2000, 1, 0},
		{999, 550, 947, 52},
	} {
		ht, vat := invoicing.SplitTTC(tc.ttc, tc.rate)
		if ht != tc.ht || vat != tc.vat || ht+vat != tc.ttc {
			t.Errorf("SplitTTC(%d, %d) = %d + %d, want %d + %d", tc.ttc, tc.rate, ht, vat, tc.ht, tc.vat)
		}
	}
}

func TestEntitlements(t *testing.T) {
	f := newFixture(t, 4)
	nomade, resident, passer, nobody := f.users[0], f.users[1], f.users[2], f.users[3]
	desk := f.resource(t, calendar.KindDesk, 0)
	room := f.resource(t, calendar.KindRoom, 2400) // 24 € TTC (20 € HT) an hour beyond what plans include
	laser := f.resource(t, calendar.KindMachine, 3600)
	nomadePlan := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk, calendar.KindZone},
			Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 120}}}})
	residentPlan := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}, PayPerUse: true,
			Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 60}}}})
	dayPass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	f.pay(t, nomade, nomadePlan, "")
	f.pay(t, resident, residentPlan, "")
	f.pay(t, passer, dayPass, "2026-03-04")

	// No right at all: 402.
	if _, err := f.book(nobody, desk, 3, 9, 10); code(err) != "membership_required" || !errors.Is(err, errs.ErrPaymentRequired) {
		t.Fatalf("booking without membership: %v", err)
	}
	// Desks are included.
	if _, err := f.book(nomade, desk, 3, 9, 12); err != nil {
		t.Fatalf("nomade's desk: %v", err)
	}
	// Two included hours of room: the third is refused (no pay-per-use).
	r1, err := f.book(nomade, room, 3, 9, 11)
	if err != nil {
		t.Fatalf("nomade's included room hours: %v", err)
	}
	if _, err := f.book(nomade, room, 3, 14, 15); code(err) != "included_hours_exhausted" {
		t.Fatalf("beyond the included hours: %v", err)
	}
	// Cancelling before the deadline gives the hours back.
	if _, err := f.cal.Cancel(context.Background(), calendar.Cancellation{ReservationID: r1.ID, By: &identity.Principal{UserID: nomade}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(nomade, room, 3, 14, 16); err != nil {
		t.Fatalf("after the hours came back: %v", err)
	}
	// The machine is not in the Nomade plan.
	if _, err := f.book(nomade, laser, 3, 9, 10); code(err) != "not_in_plan" || !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("machine outside the plan: %v", err)
	}
	// The Résident pays per use beyond the included hour: 2 h of room = 1 h
	// included + 1 h charged 20 € HT + 4 € VAT.
	if _, err := f.book(resident, room, 5, 9, 11); err != nil {
		t.Fatalf("resident's room beyond the allowance: %v", err)
	}
	// The day pass covers its day only.
	if _, err := f.book(passer, desk, 4, 9, 17); err != nil {
		t.Fatalf("desk on the pass's day: %v", err)
	}
	if _, err := f.book(passer, desk, 5, 9, 10); code(err) != "membership_required" {
		t.Fatalf("desk the day after the pass: %v", err)
	}
}

func TestIncludedHoursUnderConcurrency(t *testing.T) {
	f := newFixture(t, 1)
	u := f.users[0]
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 60}}}})
	f.pay(t, u, p, "")
	rooms := make([]*calendar.Resource, 8)
	for i := range rooms {
		rooms[i] = f.resource(t, calendar.KindRoom, 0)
	}
	// Eight rooms at once, one included hour: exactly one booking wins it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for _, r := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.book(u, r, 3, 9, 10)
			switch {
			case err == nil:
				mu.Lock()
				won++
				mu.Unlock()
			case code(err) != "included_hours_exhausted":
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d racing bookings took the one included hour, want 1", won)
	}
}

func TestMembershipLifecycle(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	desk := f.resource(t, calendar.KindDesk, 0)
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}, Quotas: billing.Quotas{MaxMinutesPerDay: 240}}})
	m := f.pay(t, u, p, "").Membership
	if m.Status != billing.StatusActive || !m.CurrentPeriodEnd.Equal(time.Date(2026, 4, 2, 7, 0, 0, 0, f.paris)) {
		t.Fatalf("membership = %+v", m)
	}
	// Daily quota: 4 h.
	if _, err := f.book(u, desk, 3, 8, 11); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(u, desk, 3, 13, 15); code(err) != "quota_daily" {
		t.Fatalf("over the daily quota: %v", err)
	}
	// Cancel at period end: bookings after the end are refused.
	if _, err := f.bill.CancelMembership(ctx, m.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cal.Book(ctx, calendar.Booking{ResourceID: desk.ID, UserID: u, By: &identity.Principal{UserID: u},
		Start: "2026-04-03T09:00", End: "2026-04-03T10:00"}); code(err) != "membership_required" {
		t.Fatalf("booking after the membership ends: %v", err)
	}
	// The period ends: the lifecycle job cancels it.
	*f.clock = time.Date(2026, 4, 2, 8, 0, 0, 0, f.paris)
	if _, err := f.bill.Lifecycle(ctx, *f.clock); err != nil {
		t.Fatal(err)
	}
	got, _ := f.bill.GetMembership(ctx, m.ID)
	if got.Status != billing.StatusCanceled {
		t.Fatalf("status after the period = %s", got.Status)
	}
}

func TestOnSitePaymentRenewsAndValidates(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000})
	first := f.pay(t, u, p, "").Membership
	second := f.pay(t, u, p, "").Membership
	if second.ID != first.ID || !second.CurrentPeriodEnd.Equal(time.Date(2026, 5, 2, 7, 0, 0, 0, f.paris)) {
		t.Fatalf("second payment = %+v, want the same membership renewed to 2 May", second)
	}
	for _, tc := range []struct {
		in    billing.OnSitePayment
		field string
	}{
		{billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID, Method: "bitcoin", AmountCents: 30000, Buyer: testBuyer}, "method"},
		{billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID, Method: "cash", AmountCents: 29999, Buyer: testBuyer}, "amount_cents"},
		{billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: p.ID, Method: "cash", AmountCents: -5, Buyer: testBuyer}, "amount_cents"},
		{billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: "nope", Method: "cash", AmountCents: 30000, Buyer: testBuyer}, "plan_id"},
	} {
		_, err := f.bill.RecordOnSitePayment(ctx, tc.in)
		var ve *errs.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != tc.field {
			t.Errorf("%+v: %v, want a validation error on %s", tc.in, err, tc.field)
		}
	}
	dp := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500})
	if _, err := f.bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: f.site.ID, UserID: u, PlanID: dp.ID, Date: "2026-03-01", Method: "cash", AmountCents: 2500, Buyer: testBuyer}); code(err) != "date_in_past" {
		t.Fatalf("day pass in the past: %v", err)
	}
	pays, _ := f.bill.ListPayments(ctx, u)
	if len(pays) != 2 {
		t.Fatalf("%d payments recorded, want 2 (refused ones leave none)", len(pays))
	}
}

func TestRefusedOccurrencesLeaveNothing(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	desk := f.resource(t, calendar.KindDesk, 0)
	pass := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	f.pay(t, u, pass, "2026-03-04")
	res, err := f.cal.BookSeries(ctx, calendar.SeriesBooking{
		Booking: calendar.Booking{ResourceID: desk.ID, UserID: u, By: &identity.Principal{UserID: u}, Start: "2026-03-03T09:00", End: "2026-03-03T10:00"},
		RRule:   "FREQ=DAILY;COUNT=3", Mode: calendar.SkipConflicts})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 1 || len(res.Skipped) != 2 || res.Skipped[0].Code != "membership_required" {
		t.Fatalf("series = %d created, skipped %+v", len(res.Created), res.Skipped)
	}
	rs, _, _ := f.cal.ListReservations(ctx, identity.System(), calendar.ReservationFilter{UserID: u, Limit: 10})
	if len(rs) != 1 {
		t.Fatalf("%d reservations stored, want only the covered day", len(rs))
	}
}

func TestRightsOnlyCountForTheirKind(t *testing.T) {
	f := newFixture(t, 1)
	u := f.users[0]
	desk := f.resource(t, calendar.KindDesk, 0)
	room := f.resource(t, calendar.KindRoom, 0)
	// A desk membership limited to one hour a day, and a laser pack with no
	// quota: the pack does not lift the desk quota.
	f.pay(t, u, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}, Quotas: billing.Quotas{MaxMinutesPerDay: 60}}}), "")
	f.pay(t, u, f.plan(t, billing.NewPlan{Kind: billing.PlanPack, Name: "Laser 10 h", PriceCents: 20000,
		Includes: billing.Includes{PackResourceKind: calendar.KindMachine, PackMinutes: 600, PackValidDays: 365}}), "")
	if _, err := f.book(u, desk, 3, 9, 11); code(err) != "quota_daily" {
		t.Fatalf("2 h of desk with a 1 h daily quota and a laser pack: %v", err)
	}
	// One membership's used-up room hour does not hide another's unlimited rooms.
	f.pay(t, u, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Salle 1 h", PriceCents: 1000,
		Includes: billing.Includes{Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 60}}}}), "")
	f.pay(t, u, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Salles", PriceCents: 5000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindRoom}}}), "")
	if _, err := f.book(u, room, 3, 9, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := f.book(u, room, 3, 10, 12); err != nil {
		t.Fatalf("rooms beyond the first plan's hour, with a second plan including rooms: %v", err)
	}
}

func TestMayEnter(t *testing.T) {
	f := newFixture(t, 4)
	ctx := context.Background()
	nomade, resident, passer, nobody := f.users[0], f.users[1], f.users[2], f.users[3]
	f.pay(t, nomade, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{DoorAccess: billing.DoorOpeningHours}}), "")
	m := f.pay(t, resident, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{DoorAccess: billing.DoorAlways}}), "").Membership
	f.pay(t, passer, f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500}), "2026-03-04")
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, f.paris) }
	tests := []struct {
		name string
		user string
		t    time.Time
		code string // "" when allowed
	}{
		{"nomade in opening hours", nomade, at(3, 10), ""},
		{"nomade at night", nomade, at(3, 22), "outside_door_window"},
		{"resident at night", resident, at(3, 22), ""},
		{"pass on its day", passer, at(4, 9), ""},
		{"pass the day after", passer, at(5, 9), "no_membership"},
		{"nobody", nobody, at(3, 10), "no_membership"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := f.bill.MayEnter(ctx, tt.user, f.site.ID, tt.t)
			if err != nil {
				t.Fatal(err)
			}
			if e.Allowed != (tt.code == "") || e.Code != tt.code {
				t.Fatalf("entry = %+v, want code %q", e, tt.code)
			}
		})
	}
	// A payment that failed long ago: past due beyond the grace → suspended.
	if _, err := f.db.ExecContext(ctx, "UPDATE memberships SET status = 'suspended' WHERE id = ?", m.ID); err != nil {
		t.Fatal(err)
	}
	if e, _ := f.bill.MayEnter(ctx, resident, f.site.ID, at(3, 22)); e.Allowed || e.Code != "membership_suspended" {
		t.Fatalf("suspended member at the door: %+v", e)
	}
}

// TestMachineOverrun: the slot was paid at booking; the minutes a session
// ran past it come out of the included machine minutes, then are charged.
func TestMachineOverrun(t *testing.T) {
	f := newFixture(t, 1)
	ctx := context.Background()
	u := f.users[0]
	f.pay(t, u, f.plan(t, billing.NewPlan{Kind: billing.PlanMembership, Name: "Fablab", PriceCents: 3000,
		Includes: billing.Includes{Allowances: []billing.Allowance{{ResourceKind: calendar.KindMachine, MinutesPerPeriod: 70}}, PayPerUse: true}}), "")
	laser := f.resource(t, calendar.KindMachine, 1440) // 14,40 € TTC (12 € HT) an hour
	r, err := f.book(u, laser, 3, 10, 11)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.cal.GetResource(ctx, laser.ID)
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 3, h, m, s, 0, f.paris) }
	tests := []struct {
		name    string
		on, off time.Time
		over    int
	}{
		{"stopped in the slot", at(10, 5, 0), at(10, 59, 59), 0},
		{"stopped at the end", at(10, 0, 0), at(11, 0, 0), 0},
		// 15 started minutes past 11:00: 10 left of the 70 included, 5 charged.
		{"ran into the grace", at(10, 0, 0), at(11, 14, 1), 15},
	}
	for _, tt := range tests {
		over, err := f.bill.RecordMachineUsage(ctx, f.db, r, res, tt.on, tt.off)
		if err != nil || over != tt.over {
			t.Fatalf("%s: overrun = %d, %v; want %d", tt.name, over, err, tt.over)
		}
	}
	var used int
	if err := f.db.NewSelect().Table("allowance_uses").ColumnExpr("SUM(minutes)").Where("reservation_id = ?", r.ID).Scan(ctx, &used); err != nil {
		t.Fatal(err)
	}
	if used != 70 {
		t.Fatalf("included minutes used = %d, want 70 (60 booked + 10 overrun)", used)
	}
	open, err := f.bill.OpenCharges(ctx, f.site.ID, u)
	if err != nil {
		t.Fatal(err)
	}
	// 5 min at 12 € HT an hour = 1.00 € HT + 0.20 € VAT.
	if len(open) != 1 || open[0].Minutes != 5 || open[0].AmountCents != 120 {
		t.Fatalf("open charges = %+v, want 5 min for 1.20 € TTC", open)
	}
}
