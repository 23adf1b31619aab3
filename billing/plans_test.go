package billing_test

import (
	"context"
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// journalEntries counts the technical journal's entries about a plan.
func (f *fixture) journalEntries(t *testing.T, planID, field string) int {
	t.Helper()
	q := f.db.NewSelect().Table("journal_events").Where("object_kind = 'plan' AND object_id = ?", planID)
	if field != "" {
		q = q.Where("field = ?", field)
	}
	n, err := q.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// withoutJournal makes every journal write fail while fn runs (its table
// renamed away), on both engines.
func (f *fixture) withoutJournal(t *testing.T, fn func()) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.db.ExecContext(ctx, "ALTER TABLE journal_events RENAME TO journal_events_away"); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := f.db.ExecContext(ctx, "ALTER TABLE journal_events_away RENAME TO journal_events"); err != nil {
			t.Fatal(err)
		}
	}()
	fn()
}

// TestPlanJournalInTransaction: a plan and its journal entry commit
// together; when the entry cannot be written, neither is the plan, nor a
// change of it.
func TestPlanJournalInTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	in := billing.NewPlan{SiteID: &f.site.ID, Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}}
	f.withoutJournal(t, func() {
		if _, err := f.bill.CreatePlan(ctx, in); err == nil {
			t.Fatal("plan created without its journal entry")
		}
	})
	if ps, err := f.bill.ListPlans(ctx, f.site.ID, true); err != nil || len(ps) != 0 {
		t.Fatalf("plans after the rollback: %+v, %v", ps, err)
	}
	p := f.plan(t, in)
	if n := f.journalEntries(t, p.ID, ""); n != 1 {
		t.Fatalf("%d entries for the plan's creation", n)
	}
	rate, off := 1000, false
	f.withoutJournal(t, func() {
		if _, err := f.bill.UpdatePlan(ctx, p.ID, billing.PlanUpdate{Active: &off, VATRateBP: &rate}); err == nil {
			t.Fatal("plan changed without its journal entries")
		}
	})
	if got, _ := f.bill.GetPlan(ctx, p.ID); got.VATRateBP != 2000 || !got.Active {
		t.Fatalf("plan after the rollback: %+v", got)
	}
}

// TestUpdatePlanVAT: a plan's VAT rate changes its next sales only, in
// the journal (before, after); issued invoices keep theirs; the rate is
// one of France's, 0 for a VAT-exempt entity.
func TestUpdatePlanVAT(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	p := f.plan(t, billing.NewPlan{Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 2400,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	before := f.pay(t, f.users[0], p, "2026-03-02")
	invoiceOf := func(pu *billing.Purchase) (rate int, vat int64) {
		t.Helper()
		inv, err := f.invoicer().Get(ctx, *pu.Payment.InvoiceID)
		if err != nil || len(inv.Lines) != 1 {
			t.Fatalf("invoice: %+v, %v", inv, err)
		}
		return inv.Lines[0].VATRateBP, inv.TotalVATCents
	}
	if rate, vat := invoiceOf(before); rate != 2000 || vat != 400 {
		t.Fatalf("first invoice: %d bp, %d VAT", rate, vat)
	}

	for _, tc := range []struct {
		name string
		rate int
		want string // "ok" or the field at fault
	}{
		{"not a French rate", 700, "vat_rate_bp"},
		{"negative", -1, "vat_rate_bp"},
		{"reduced rate", 1000, "ok"},
		{"the same again", 1000, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rate := tc.rate
			got, err := f.bill.UpdatePlan(ctx, p.ID, billing.PlanUpdate{VATRateBP: &rate})
			var ve *errs.ValidationError
			switch {
			case tc.want == "ok" && (err != nil || got.VATRateBP != tc.rate):
				t.Fatalf("update: %+v, %v", got, err)
			case tc.want != "ok" && (!errors.As(err, &ve) || ve.Fields[0].Field != tc.want):
				t.Fatalf("update: %v, want a validation error on %s", err, tc.want)
			}
		})
	}
	// One entry for the one change, with its before and after.
	var es []journal.Entry
	if err := f.db.NewSelect().Model(&es).Where("object_id = ? AND field = 'vat_rate_bp'", p.ID).Scan(ctx); err != nil ||
		len(es) != 1 || es[0].Before != "2000" || es[0].After != "1000" || es[0].Action != "update" {
		t.Fatalf("journal: %+v, %v", es, err)
	}
	// The issued invoice is unchanged; the next sale, same price TTC, is
	// split at the new rate.
	if rate, vat := invoiceOf(before); rate != 2000 || vat != 400 {
		t.Fatalf("issued invoice after the change: %d bp, %d VAT", rate, vat)
	}
	if rate, vat := invoiceOf(f.pay(t, f.users[0], p, "2026-03-03")); rate != 1000 || vat != 218 {
		t.Fatalf("next invoice: %d bp, %d VAT", rate, vat)
	}

	// A VAT-exempt site's plans stay at 0.
	exempt, err := f.cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "L'Asso", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "1 rue Haute", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "Association L'Asso", LegalForm: "Association", SIRET: "44306184100047", VATExempt: true}})
	if err != nil {
		t.Fatal(err)
	}
	q := f.plan(t, billing.NewPlan{SiteID: &exempt.ID, Kind: billing.PlanDayPass, Name: "Journée", PriceCents: 1000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk}}})
	rate := 2000
	var ve *errs.ValidationError
	if _, err := f.bill.UpdatePlan(ctx, q.ID, billing.PlanUpdate{VATRateBP: &rate}); !errors.As(err, &ve) || ve.Fields[0].Field != "vat_rate_bp" {
		t.Fatalf("exempt site's plan at 20 %%: %v", err)
	}
}
