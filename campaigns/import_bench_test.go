package campaigns

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/ledger"
)

// BenchmarkImportContributionsCSV imports a HelloAsso export of 10,000
// contributions (semicolons, Windows-1252) into a fresh campaign per
// iteration: half the contributors are members (credit granted, pending),
// half are held for later.
func BenchmarkImportContributionsCSV(b *testing.B) {
	f := newCampaignFixture(b, 0, "")
	ctx := context.Background()
	for i := range 100 {
		dbtest.User(b, f.db, fmt.Sprintf("backer%d@example.fr", i), "B")
	}
	file := func(iter int) []byte {
		var sb strings.Builder
		sb.WriteString("Référence commande;Date de la commande;Statut de la commande;Nom payeur;Prénom payeur;Email payeur;Montant\r\n")
		for i := range 10_000 {
			fmt.Fprintf(&sb, "%d-%d;02/03/2026 10:%02d;Validé;Lefèvre;Hélène;backer%d@example.fr;%d,00\r\n", iter, i, i%60, i%200, 20+i%100)
		}
		var out []byte
		for _, r := range sb.String() {
			if r < 0x100 {
				out = append(out, byte(r))
			}
		}
		return out
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		data := file(i)
		c, err := f.camp.CreateCampaign(ctx, identity.System(), NewCampaign{SiteID: f.site.ID, Title: "Four", GoalCents: 10_000_000,
			Deadline: f.clock.AddDate(0, 1, 0), Mode: ModeAllOrNothing,
			Tiers: []Tier{{Name: "A", MinCents: 2000, CreditUnit: ledger.UnitCents, CreditAmount: 2400}}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, data)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Created != 10_000 || rep.Matched != 5_000 {
			b.Fatalf("report %+v", rep)
		}
	}
}
