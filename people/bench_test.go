package people

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

// BenchmarkSearch50k: the desk's search at a site of 50,000 people (half
// with a membership, a fifth with a day pass, the rest walk-ins), beside
// another site of 5,000, each query a page of 50 with its summaries.
// Queries cycle through a name fragment without accents, a full surname,
// phone digits, the first page of everyone, and the active people. See
// BENCHMARKS.md.
//
//	RELAIS_TEST_DATABASE_URL='postgres://…' go test ./people/ -run '^$' -bench Search50k -benchtime 400x
func BenchmarkSearch50k(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	queue := jobstest.Queue(b, d)
	acc := identitytest.Accounts(b, d, queue)
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Jobs: queue, Accounts: acc})
	addr := calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"}
	mk := func(name string) string {
		s, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: name, Timezone: "Europe/Paris", Address: addr,
			Legal: calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIREN: "732 829 320", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
		if err != nil {
			b.Fatal(err)
		}
		return s.ID
	}
	here, there := mk("La Fabrique"), mk("Le Bourg")
	seedPeople(b, d, here, 50_000)
	seedPeople(b, d, there, 5_000)
	if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	s := &Service{db: d, cfg: Config{Identity: acc, Sites: calendar.DevicePlaces{}, Visits: []Visits{DoorVisits{}}, Now: time.Now}}
	queries := []Query{{Q: "lene"}, {Q: "Lefèvre"}, {Q: "06 12 3"}, {}, {Status: StatusActive}}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := queries[i%len(queries)]
		t0 := time.Now()
		items, _, err := s.Search(ctx, identity.System(), here, q)
		lat = append(lat, time.Since(t0))
		if err != nil || len(items) == 0 {
			b.Fatalf("%+v: %d items, %v", q, len(items), err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

var (
	firstNames = []string{"Hélène", "Marcel", "Jeanne", "Éloïse", "François", "Zoé", "Noël", "Anaïs", "Jérôme", "Céline", "Paul", "Lucie"}
	lastNames  = []string{"Lefèvre", "Dupont", "Martin", "Bérard", "Gaël", "Moreau", "Côté", "Durand", "Faure", "Rousseau", "Girard", "Mercier"}
)

type benchUser struct {
	bun.BaseModel `bun:"table:users"`
	ID            string    `bun:"id"`
	Email         string    `bun:"email"`
	Name          string    `bun:"name"`
	PasswordHash  string    `bun:"password_hash"`
	Role          string    `bun:"role"`
	Phone         string    `bun:"phone"`
	SearchKey     string    `bun:"search_key"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

// seedPeople makes n accounts related to siteID: every other one a
// membership, every fifth a past day pass, the others registered at the
// desk; in batches of 1,000 rows.
func seedPeople(b *testing.B, d *bun.DB, siteID string, n int) {
	ctx := context.Background()
	now := time.Now().UTC()
	planM, planD := id.New(), id.New()
	for _, p := range []struct{ id, kind string }{{planM, "membership"}, {planD, "day_pass"}} {
		if _, err := d.ExecContext(ctx, `INSERT INTO plans (id, site_id, kind, name, price_cents, vat_rate_bp, includes, active, created_at, updated_at)
			VALUES (?, ?, ?, ?, 2500, 2000, '{}', TRUE, ?, ?)`, p.id, siteID, p.kind, p.kind, now, now); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for start := 0; start < n; start += 1000 {
		var users []benchUser
		var rel []string
		var args []any
		for i := start; i < min(start+1000, n); i++ {
			uid := id.New()
			name := firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
			email := fmt.Sprintf("p%d-%s@example.fr", i, siteID[len(siteID)-6:])
			phone := fmt.Sprintf("+336%08d", r.IntN(100_000_000))
			users = append(users, benchUser{ID: uid, Email: email, Name: name, PasswordHash: "x", Role: "member", Phone: phone,
				SearchKey: searchkey.Of(name, email, phone), CreatedAt: now, UpdatedAt: now})
			switch {
			case i%2 == 0:
				rel = append(rel, `INSERT INTO memberships (id, user_id, plan_id, site_id, status, source, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', 'onsite', ?, ?)`)
				args = append(args, []any{id.New(), uid, planM, siteID, now, now})
			case i%5 == 1:
				day := now.AddDate(0, 0, -r.IntN(60))
				rel = append(rel, `INSERT INTO day_passes (id, user_id, plan_id, site_id, day, starts_at, ends_at, status, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', 'onsite', ?, ?)`)
				args = append(args, []any{id.New(), uid, planD, siteID, day.Format("2006-01-02"), day, day.Add(24 * time.Hour), now, now})
			default:
				rel = append(rel, `INSERT INTO site_people (site_id, user_id, created_at) VALUES (?, ?, ?)`)
				args = append(args, []any{siteID, uid, now})
			}
		}
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
				return err
			}
			for i, q := range rel {
				if _, err := tx.ExecContext(ctx, q, args[i].([]any)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
