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
// One sub-benchmark per kind of query: a name fragment without accents, a
// full surname, phone digits, the first page of everyone, the active and
// the lapsed people. See BENCHMARKS.md.
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
	for _, q := range []struct {
		name string
		q    Query
	}{
		{"fragment", Query{Q: "lene"}},
		{"surname", Query{Q: "Lefèvre"}},
		{"phone", Query{Q: "06 12 3"}},
		{"everyone", Query{}},
		{"active", Query{Status: StatusActive}},
		{"lapsed", Query{Status: StatusLapsed}},
	} {
		b.Run(q.name, func(b *testing.B) { benchQuery(b, s, here, q.q) })
	}
}

func benchQuery(b *testing.B, s *Service, siteID string, q Query) {
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		items, _, err := s.Search(ctx, identity.System(), siteID, q)
		lat = append(lat, time.Since(t0))
		if err != nil || len(items) == 0 {
			b.Fatalf("%+v: %d items, %v", q, len(items), err)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

var (
	firstNames = []string{"Hélène", "Marcel", "Jeanne", "Éloïse", "François", "Zoé", "Noël", "Anaïs", "Jérôme", "Céline", "Paul", "Lucie",
		"Gérard", "Josiane", "Thérèse", "Raymond", "Inès", "Léo", "Chloé", "Maëlle", "Joël", "Agnès", "René", "Odile"}
	// Surnames are made of two of these, 400 of them, plus Lefèvre.
	syllables = []string{"Ber", "Du", "Mar", "Fau", "Gi", "Mo", "Ro", "Lan", "Che", "Bou", "Pe", "Ri", "Va", "Co", "Ta", "Mé", "Sé", "Na", "Po", "Le"}
	endings   = []string{"ard", "pont", "tin", "re", "rard", "reau", "sseau", "vin", "rier", "cher", "llet", "chon", "lès", "té", "ger", "nier", "chet", "rel", "lin", "gnon"}
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
		var ms []benchMembership
		var ps []benchPass
		var sp []benchSitePerson
		for i := start; i < min(start+1000, n); i++ {
			uid := id.New()
			last := syllables[r.IntN(len(syllables))] + endings[r.IntN(len(endings))]
			if r.IntN(400) == 0 {
				last = "Lefèvre"
			}
			name := firstNames[r.IntN(len(firstNames))] + " " + last
			email := fmt.Sprintf("p%d-%s@example.fr", i, siteID[len(siteID)-6:])
			phone := fmt.Sprintf("+336%08d", r.IntN(100_000_000))
			users = append(users, benchUser{ID: uid, Email: email, Name: name, PasswordHash: "x", Role: "member", Phone: phone,
				SearchKey: searchkey.Of(name, email, phone), CreatedAt: now, UpdatedAt: now})
			switch {
			case i%2 == 0:
				ms = append(ms, benchMembership{ID: id.New(), UserID: uid, PlanID: planM, SiteID: siteID, Status: "active", Source: "onsite", CreatedAt: now, UpdatedAt: now})
			case i%5 == 1:
				day := now.AddDate(0, 0, -1-r.IntN(60))
				ps = append(ps, benchPass{ID: id.New(), UserID: uid, PlanID: planD, SiteID: siteID, Day: day.Format("2006-01-02"), StartsAt: day,
					EndsAt: day.Add(24 * time.Hour), Status: "active", Source: "onsite", CreatedAt: now, UpdatedAt: now})
			default:
				sp = append(sp, benchSitePerson{SiteID: siteID, UserID: uid, CreatedAt: now})
			}
		}
		err := d.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, m := range []any{&users, &ms, &ps, &sp} {
				if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
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

type benchMembership struct {
	bun.BaseModel `bun:"table:memberships"`
	ID            string    `bun:"id"`
	UserID        string    `bun:"user_id"`
	PlanID        string    `bun:"plan_id"`
	SiteID        string    `bun:"site_id"`
	Status        string    `bun:"status"`
	Source        string    `bun:"source"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type benchPass struct {
	bun.BaseModel `bun:"table:day_passes"`
	ID            string    `bun:"id"`
	UserID        string    `bun:"user_id"`
	PlanID        string    `bun:"plan_id"`
	SiteID        string    `bun:"site_id"`
	Day           string    `bun:"day"`
	StartsAt      time.Time `bun:"starts_at"`
	EndsAt        time.Time `bun:"ends_at"`
	Status        string    `bun:"status"`
	Source        string    `bun:"source"`
	CreatedAt     time.Time `bun:"created_at"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type benchSitePerson struct {
	bun.BaseModel `bun:"table:site_people"`
	SiteID        string    `bun:"site_id"`
	UserID        string    `bun:"user_id"`
	CreatedAt     time.Time `bun:"created_at"`
}
