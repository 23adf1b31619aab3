package reports

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/people"
)

// heldFilter selects the sessions held in the period at the sites: not
// cancelled, started in [from, to) and before now. Arguments: sites, from,
// to, now.
const heldFilter = `a.site_id IN (?) AND s.status = 'scheduled' AND s.starts_at >= ? AND s.starts_at < ? AND s.starts_at < ?`

// heldSession is a session held, with what the report cuts it by.
type heldSession struct {
	ID         string    `bun:"id"`
	AtelierID  string    `bun:"atelier_id"`
	SiteID     string    `bun:"site_id"`
	CategoryID string    `bun:"category_id"`
	StartsAt   time.Time `bun:"starts_at"`
}

// guestFacts is what the report needs of a guest.
type guestFacts struct {
	UserID       string  `bun:"user_id"`
	CommuneName  string  `bun:"commune_name"`
	CommuneINSEE *string `bun:"commune_insee"`
	AgeBand      string  `bun:"age_band"`
}

type lineKey struct{ month, site, category string }

type tally struct {
	categoryName                         string
	ateliers, sessions                   map[string]bool
	registered, present, absent, excused int
	people                               map[string]bool
}

// ateliers adds the ateliers' lines to r and the people present at them
// to served.
func (s *Service) ateliers(ctx context.Context, r *Report, zones map[string]*time.Location, served map[string]bool) error {
	args := []any{bun.In(r.SiteIDs), r.From, r.To, s.now().UTC()}
	// Four reads: the sessions (thousands), their confirmed registrations
	// (a hundred thousand a year at a busy network: three columns each,
	// scanned without reflection), the categories' names and the guests'
	// facts (one row per person).
	var sessions []heldSession
	if err := s.db.NewRaw(`SELECT s.id, s.atelier_id, a.site_id, a.category_id, s.starts_at
		FROM atelier_sessions s JOIN ateliers a ON a.id = s.atelier_id WHERE `+heldFilter, args...).Scan(ctx, &sessions); err != nil {
		return fmt.Errorf("report sessions: %w", err)
	}
	var cats []struct {
		ID   string `bun:"id"`
		Name string `bun:"name"`
	}
	if err := s.db.NewRaw(`SELECT id, name FROM atelier_categories`).Scan(ctx, &cats); err != nil {
		return fmt.Errorf("report categories: %w", err)
	}
	catName := make(map[string]string, len(cats))
	for _, c := range cats {
		catName[c.ID] = c.Name
	}
	lines := map[lineKey]*tally{}
	bySession := make(map[string]*tally, len(sessions))
	for _, ss := range sessions {
		k := lineKey{ss.StartsAt.In(zones[ss.SiteID]).Format("2006-01"), ss.SiteID, ss.CategoryID}
		t := lines[k]
		if t == nil {
			t = &tally{categoryName: catName[ss.CategoryID], ateliers: map[string]bool{}, sessions: map[string]bool{}, people: map[string]bool{}}
			lines[k] = t
		}
		t.ateliers[ss.AtelierID] = true
		t.sessions[ss.ID] = true
		bySession[ss.ID] = t
	}
	// bun writes the values into the text (bun.In among them); the rows
	// are read through database/sql itself, without bun's reflection.
	query := s.db.NewRaw(`SELECT r.session_id, r.user_id, r.attendance FROM atelier_registrations r
		JOIN atelier_sessions s ON s.id = r.session_id JOIN ateliers a ON a.id = s.atelier_id
		WHERE r.status = 'confirmed' AND `+heldFilter, args...).String()
	rows, err := s.db.DB.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("report registrations: %w", err)
	}
	defer rows.Close()
	var sessionID, userID string
	var attendance sql.NullString
	for rows.Next() {
		if err := rows.Scan(&sessionID, &userID, &attendance); err != nil {
			return fmt.Errorf("report registrations: %w", err)
		}
		t := bySession[sessionID]
		if t == nil {
			continue // a session that started between the two reads
		}
		t.registered++
		switch attendance.String {
		case "present":
			t.present++
			t.people[userID] = true
			served[userID] = true
		case "absent":
			t.absent++
		case "excused":
			t.excused++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report registrations: %w", err)
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
	return nil
}

// people counts served — those present at an atelier or received at an
// appointment, each once — in all, by commune and by age band (a guest's;
// "non renseignée" and unknown for members).
func (s *Service) people(ctx context.Context, r *Report, served map[string]bool) error {
	// Every guest's facts, read whole: a network has a few thousand guests,
	// and selecting those present by a subquery over the registrations
	// cost SQLite more than reading them all.
	var guests []guestFacts
	if err := s.db.NewRaw(`SELECT user_id, commune_name, commune_insee, age_band FROM guests`).Scan(ctx, &guests); err != nil {
		return fmt.Errorf("report guests: %w", err)
	}
	facts := make(map[string]*guestFacts, len(guests))
	for i := range guests {
		facts[guests[i].UserID] = &guests[i]
	}
	communes := map[[2]string]map[string]bool{} // (name, insee) → people
	bands := map[string]map[string]bool{}
	for userID := range served {
		commune, band := [2]string{"non renseignée", ""}, "unknown"
		if g := facts[userID]; g != nil {
			commune[0], band = g.CommuneName, g.AgeBand
			if g.CommuneINSEE != nil {
				commune[1] = *g.CommuneINSEE
			}
		}
		add(communes, commune, userID)
		add(bands, band, userID)
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
