package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/people"
)

// participation is one registration at a session held in the period, with
// what the report cuts it by.
type participation struct {
	SessionID    string    `bun:"session_id"`
	AtelierID    string    `bun:"atelier_id"`
	SiteID       string    `bun:"site_id"`
	CategoryID   string    `bun:"category_id"`
	Category     string    `bun:"category"`
	StartsAt     time.Time `bun:"starts_at"`
	UserID       *string   `bun:"user_id"`
	Attendance   *string   `bun:"attendance"`
	CommuneName  *string   `bun:"commune_name"`
	CommuneINSEE *string   `bun:"commune_insee"`
	AgeBand      *string   `bun:"age_band"`
}

// heldSessions reads, in one statement, every session held in the period
// at the sites (not cancelled, started before now), with its confirmed
// registrations (none: one row with no user) and, for a guest, their
// commune and age band. Ordered so that a session's rows come together.
const heldSessions = `SELECT s.id AS session_id, a.id AS atelier_id, a.site_id, a.category_id, c.name AS category, s.starts_at,
		r.user_id, r.attendance, g.commune_name, g.commune_insee, g.age_band
	FROM atelier_sessions s
	JOIN ateliers a ON a.id = s.atelier_id
	JOIN atelier_categories c ON c.id = a.category_id
	LEFT JOIN atelier_registrations r ON r.session_id = s.id AND r.status = 'confirmed'
	LEFT JOIN guests g ON g.user_id = r.user_id
	WHERE a.site_id IN (?) AND s.status = 'scheduled' AND s.starts_at >= ? AND s.starts_at < ? AND s.starts_at < ?
	ORDER BY s.id`

type lineKey struct{ month, site, category string }

type tally struct {
	categoryName                         string
	ateliers, sessions                   map[string]bool
	registered, present, absent, excused int
	people                               map[string]bool
}

func (s *Service) ateliers(ctx context.Context, r *Report, zones map[string]*time.Location) error {
	var rows []participation
	if err := s.db.NewRaw(heldSessions, bun.In(r.SiteIDs), r.From, r.To, s.now().UTC()).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("report ateliers: %w", err)
	}
	lines := map[lineKey]*tally{}
	served := map[string]bool{}
	communes := map[[2]string]map[string]bool{} // (name, insee) → people
	bands := map[string]map[string]bool{}
	for _, p := range rows {
		k := lineKey{p.StartsAt.In(zones[p.SiteID]).Format("2006-01"), p.SiteID, p.CategoryID}
		t := lines[k]
		if t == nil {
			t = &tally{categoryName: p.Category, ateliers: map[string]bool{}, sessions: map[string]bool{}, people: map[string]bool{}}
			lines[k] = t
		}
		t.ateliers[p.AtelierID] = true
		t.sessions[p.SessionID] = true
		if p.UserID == nil {
			continue // a session held with nobody registered
		}
		t.registered++
		if p.Attendance == nil {
			continue
		}
		switch *p.Attendance {
		case "present":
			t.present++
			t.people[*p.UserID] = true
			served[*p.UserID] = true
			commune := [2]string{"non renseignée", ""}
			if p.CommuneName != nil {
				commune[0] = *p.CommuneName
				if p.CommuneINSEE != nil {
					commune[1] = *p.CommuneINSEE
				}
			}
			band := "unknown"
			if p.AgeBand != nil {
				band = *p.AgeBand
			}
			add(communes, commune, *p.UserID)
			add(bands, band, *p.UserID)
		case "absent":
			t.absent++
		case "excused":
			t.excused++
		}
	}
	keys := make([]lineKey, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b lineKey) int {
		return strings.Compare(a.month+a.site+lines[a].categoryName, b.month+b.site+lines[b].categoryName)
	})
	for _, k := range keys {
		t := lines[k]
		l := AtelierLine{Month: k.month, SiteID: k.site, CategoryID: k.category, Category: t.categoryName,
			Ateliers: len(t.ateliers), Sessions: len(t.sessions), Registered: count(t.registered),
			Present: count(t.present), Absent: count(t.absent), Excused: count(t.excused), People: count(len(t.people))}
		// A rate would give away a masked count (12 present of 14 marked
		// says 2 were not): only when none of its parts is masked.
		marked := t.present + t.absent + t.excused
		if marked > 0 && !l.Present.Masked && !l.Absent.Masked && !l.Excused.Masked {
			bp := t.present * 10000 / marked
			l.AttendanceBP = &bp
		}
		r.Ateliers = append(r.Ateliers, l)
	}
	r.People = count(len(served))
	for c, ps := range communes {
		r.ByCommune = append(r.ByCommune, Served{Key: c[0], INSEE: c[1], People: count(len(ps))})
	}
	slices.SortFunc(r.ByCommune, func(a, b Served) int { return strings.Compare(a.Key+a.INSEE, b.Key+b.INSEE) })
	for _, band := range people.AgeBands {
		if ps, ok := bands[band]; ok {
			r.ByAgeBand = append(r.ByAgeBand, Served{Key: band, People: count(len(ps))})
		}
	}
	return nil
}

func add[K comparable](m map[K]map[string]bool, k K, userID string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][userID] = true
}
