package reports_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
	"github.com/relais-tierslieux/relais/reports"
)

// Rows written straight into the tables: creating 100,000 registrations
// through the service would take the benchmark minutes to seed, and the
// report reads them the same way.
type (
	benchUser struct {
		bun.BaseModel `bun:"table:users"`
		ID            string    `bun:"id"`
		Email         string    `bun:"email"`
		Name          string    `bun:"name"`
		PasswordHash  string    `bun:"password_hash"`
		Role          string    `bun:"role"`
		CreatedAt     time.Time `bun:"created_at"`
		UpdatedAt     time.Time `bun:"updated_at"`
	}
	benchGuest struct {
		bun.BaseModel `bun:"table:guests"`
		UserID        string    `bun:"user_id"`
		SiteID        string    `bun:"site_id"`
		CommuneName   string    `bun:"commune_name"`
		CommuneINSEE  string    `bun:"commune_insee"`
		AgeBand       string    `bun:"age_band"`
		CreatedAt     time.Time `bun:"created_at"`
		UpdatedAt     time.Time `bun:"updated_at"`
	}
	benchAtelier struct {
		bun.BaseModel `bun:"table:ateliers"`
		ID            string    `bun:"id"`
		SiteID        string    `bun:"site_id"`
		CategoryID    string    `bun:"category_id"`
		Title         string    `bun:"title"`
		Description   string    `bun:"description"`
		Audience      string    `bun:"audience"`
		Seats         int       `bun:"seats"`
		PriceCents    int64     `bun:"price_cents"`
		Status        string    `bun:"status"`
		CreatedAt     time.Time `bun:"created_at"`
		UpdatedAt     time.Time `bun:"updated_at"`
	}
	benchSession struct {
		bun.BaseModel `bun:"table:atelier_sessions"`
		ID            string    `bun:"id"`
		AtelierID     string    `bun:"atelier_id"`
		StartsAt      time.Time `bun:"starts_at"`
		EndsAt        time.Time `bun:"ends_at"`
		Status        string    `bun:"status"`
	}
	benchRegistration struct {
		bun.BaseModel `bun:"table:atelier_registrations"`
		ID            string    `bun:"id"`
		AtelierID     string    `bun:"atelier_id"`
		SessionID     string    `bun:"session_id"`
		UserID        string    `bun:"user_id"`
		Status        string    `bun:"status"`
		Attendance    *string   `bun:"attendance"`
		CreatedAt     time.Time `bun:"created_at"`
	}
)

var categories = []string{
	"0193a000-0000-7000-8000-00000000ca01", "0193a000-0000-7000-8000-00000000ca02", "0193a000-0000-7000-8000-00000000ca03",
	"0193a000-0000-7000-8000-00000000ca04", "0193a000-0000-7000-8000-00000000ca05",
}

func insertChunks[T any](b *testing.B, d *bun.DB, rows []T) {
	b.Helper()
	for start := 0; start < len(rows); start += 400 {
		chunk := rows[start:min(start+400, len(rows))]
		if _, err := d.NewInsert().Model(&chunk).Exec(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServicesReport100k: the yearly report of a site whose ateliers
// had 100,000 participations in 2026 — 200 ateliers of 10 sessions each
// (2,000 sessions), 50 registrations a session, 4,000 residents (guests
// of 40 communes and 8 age bands) — each iteration one report as the API
// asks it. See BENCHMARKS.md.
//
//	go test ./reports/ -run '^$' -bench ServicesReport100k -benchtime 5x
//	RELAIS_TEST_DATABASE_URL='postgres://…' go test ./reports/ -run '^$' -bench ServicesReport100k -benchtime 5x
func BenchmarkServicesReport100k(b *testing.B) {
	ctx := context.Background()
	d := dbtest.New(b)
	queue := jobstest.Queue(b, d)
	acc := identitytest.Accounts(b, d, queue)
	cal := calendar.New(d, calendar.Config{Events: events.Discard, Jobs: queue, Accounts: acc})
	site, err := cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: "La Fabrique", Timezone: "Europe/Paris",
		Address: calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		Legal:   calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIREN: "732 829 320", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(2026, 18))
	bands := []string{"under_12", "12_17", "18_24", "25_39", "40_59", "60_69", "70_plus", "unknown"}
	people := make([]string, 4000)
	users := make([]benchUser, 0, len(people))
	guests := make([]benchGuest, 0, len(people))
	for i := range people {
		people[i] = id.New()
		users = append(users, benchUser{ID: people[i], Email: fmt.Sprintf("r%d@example.fr", i), Name: fmt.Sprintf("Résident %d", i),
			PasswordHash: "x", Role: "member", CreatedAt: now, UpdatedAt: now})
		commune := r.IntN(40)
		guests = append(guests, benchGuest{UserID: people[i], SiteID: site.ID, CommuneName: fmt.Sprintf("Commune %02d", commune),
			CommuneINSEE: fmt.Sprintf("23%03d", commune), AgeBand: bands[r.IntN(len(bands))], CreatedAt: now, UpdatedAt: now})
	}
	insertChunks(b, d, users)
	insertChunks(b, d, guests)
	var ateliers []benchAtelier
	var sessions []benchSession
	var regs []benchRegistration
	attendances := []string{"present", "present", "present", "present", "absent", "excused"}
	year := time.Date(2026, 1, 5, 13, 0, 0, 0, time.UTC)
	for a := range 200 {
		at := benchAtelier{ID: id.New(), SiteID: site.ID, CategoryID: categories[a%len(categories)], Title: fmt.Sprintf("Atelier %d", a),
			Audience: "public", Seats: 50, Status: "active", CreatedAt: now, UpdatedAt: now}
		ateliers = append(ateliers, at)
		for range 10 {
			start := year.Add(time.Duration(r.IntN(355*24)) * time.Hour)
			ss := benchSession{ID: id.New(), AtelierID: at.ID, StartsAt: start, EndsAt: start.Add(2 * time.Hour), Status: "scheduled"}
			sessions = append(sessions, ss)
			seen := map[int]bool{}
			for len(seen) < 50 {
				p := r.IntN(len(people))
				if seen[p] {
					continue
				}
				seen[p] = true
				att := attendances[r.IntN(len(attendances))]
				regs = append(regs, benchRegistration{ID: id.New(), AtelierID: at.ID, SessionID: ss.ID, UserID: people[p], Status: "confirmed",
					Attendance: &att, CreatedAt: now})
			}
		}
	}
	insertChunks(b, d, ateliers)
	insertChunks(b, d, sessions)
	insertChunks(b, d, regs)
	if _, err := d.ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	svc, err := reports.New(d, cal, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	from, to := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)
	rep, err := svc.Services(ctx, identity.System(), site.ID, from, to)
	if err != nil {
		b.Fatal(err)
	}
	registered := 0
	for _, l := range rep.Ateliers {
		registered += *l.Registered.Value
	}
	if registered != len(regs) {
		b.Fatalf("the report counts %d registrations of %d", registered, len(regs))
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Services(ctx, identity.System(), site.ID, from, to); err != nil {
			b.Fatal(err)
		}
	}
}
