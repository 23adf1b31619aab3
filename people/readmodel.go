package people

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

// The read model of the search (see the package comment for why it is
// one statement over other domains' tables). Every table named here is
// read, never written, except site_people, which is this package's.

// RelationWindow is how far back a booking or a visit makes someone a
// person of the site.
const RelationWindow = 90 * 24 * time.Hour

// related is true for a person u related to a site: registered at its
// desk (walk-ins), a membership of its plans or of the network's (valid
// at every site), a day pass, a pack or credit usable there, a booking or
// a door grant there in the last RelationWindow. Written as EXISTS on
// each relation's (user_id, …) index, so that the search walks users in
// name order (users_name_idx) and stops at its page, rather than building
// the set of all the site's people first: each EXISTS ends in
// "LIMIT 1 OFFSET 0", whose OFFSET keeps PostgreSQL from turning it into
// a hashed subplan that reads the whole relation for every search
// (measured: 40 ms of 50 at 50,000 people); SQLite needs the LIMIT. A new source of visits
// (check-ins) adds its arm here and its Visits to Config.Visits. A guest
// merged into an account (merge.go) is nobody's any more: their history is
// the account's, though their emptied credit lots and past door grants
// still name them. Arguments: siteID ?0, since ?1.
const related = `(EXISTS (SELECT 1 FROM site_people sp WHERE sp.site_id = ?0 AND sp.user_id = u.id LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND (m.site_id = ?0 OR m.site_id IS NULL) LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM day_passes dp WHERE dp.user_id = u.id AND dp.site_id = ?0 LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM packs pk WHERE pk.user_id = u.id AND (pk.site_id = ?0 OR pk.site_id IS NULL) LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM credit_lots cl WHERE cl.user_id = u.id AND cl.site_id = ?0 LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM reservations rv WHERE rv.user_id = u.id AND rv.site_id = ?0 AND rv.kind = 'booking' AND rv.starts_at >= ?1 LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM access_events ae WHERE ae.user_id = u.id AND ae.site_id = ?0 AND ae.decision = 'granted' AND ae.occurred_at >= ?1 LIMIT 1 OFFSET 0))
	AND NOT EXISTS (SELECT 1 FROM guests mg WHERE mg.user_id = u.id AND mg.merged_into IS NOT NULL)`

// activeNow is true for a person holding, at ?2, a membership in force
// (active, or past due within its grace: billing moves it to suspended
// when the grace ends), a day pass of the site covering ?2, or a pack
// still valid. Arguments: siteID ?0, now ?2.
const activeNow = `(EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND (m.site_id = ?0 OR m.site_id IS NULL)
		AND m.status IN ('active', 'past_due') LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM day_passes dp WHERE dp.user_id = u.id AND dp.site_id = ?0 AND dp.status = 'active'
		AND dp.starts_at <= ?2 AND dp.ends_at > ?2 LIMIT 1 OFFSET 0)
	OR EXISTS (SELECT 1 FROM packs pk WHERE pk.user_id = u.id AND (pk.site_id = ?0 OR pk.site_id IS NULL)
		AND pk.status = 'active' AND pk.valid_until > ?2 LIMIT 1 OFFSET 0))`

// Statuses of the search's status filter.
const (
	StatusAll    = "all"
	StatusActive = "active" // a membership, day pass or pack valid now
	StatusLapsed = "lapsed" // related to the site, but none of those now
)

type searchRow struct {
	ID   string `bun:"id"`
	Name string `bun:"name"`
}

// searchIDs returns up to limit+1 people of siteID in (name, id) order
// after the cursor, matching key (already searchkey.Query'd) and status.
func (s *Service) searchIDs(ctx context.Context, siteID, key, status string, after *cursor, limit int) ([]searchRow, error) {
	now := s.now()
	var where []string
	args := []any{siteID, now.Add(-RelationWindow), now}
	switch {
	case key != "" && db.IsSQLite(s.db):
		// instr is several times faster than LIKE on SQLite, which has
		// no index for either.
		where = append(where, `instr(u.search_key, ?3) > 0`)
		args = append(args, key)
	case key != "":
		// LIKE, which pg_trgm's index serves when the planner wants it.
		where = append(where, `u.search_key LIKE ?3 ESCAPE '\'`)
		args = append(args, "%"+searchkey.EscapeLike(key)+"%")
	default:
		args = append(args, "")
	}
	switch status {
	case StatusActive:
		where = append(where, activeNow)
	case StatusLapsed:
		where = append(where, "NOT "+activeNow)
	}
	if after != nil {
		where = append(where, `(u.name > ?4 OR (u.name = ?4 AND u.id > ?5))`)
		args = append(args, after.Name, after.ID)
	} else {
		args = append(args, "", "")
	}
	args = append(args, limit+1)
	// The cheap filters first: SQLite evaluates them in this order, so
	// the relation's EXISTS run only for the accounts that match.
	q := `SELECT u.id, u.name FROM users u WHERE u.deleted_at IS NULL`
	for _, w := range append(where, related) {
		q += " AND " + w
	}
	q += ` ORDER BY u.name, u.id LIMIT ?6`
	var rows []searchRow
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	return rows, nil
}

// isRelated reports whether userID is a person of siteID (related).
func (s *Service) isRelated(ctx context.Context, idb bun.IDB, siteID, userID string) (bool, error) {
	var c int
	if err := idb.NewRaw(`SELECT count(*) FROM users u WHERE u.id = ?3 AND u.deleted_at IS NULL AND `+related,
		siteID, s.now().Add(-RelationWindow), nil, userID).Scan(ctx, &c); err != nil {
		return false, fmt.Errorf("person of the site: %w", err)
	}
	return c > 0, nil
}
