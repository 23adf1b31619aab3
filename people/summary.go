package people

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Summary lines of the search's page, read in bulk for its (at most 200)
// people: a few statements a page, whatever its size.

// MembershipLine is a membership as the desk's list shows it.
type MembershipLine struct {
	ID        string     `bun:"id"`
	UserID    string     `bun:"user_id"`
	PlanID    string     `bun:"plan_id"`
	PlanName  string     `bun:"plan_name"`
	Status    string     `bun:"status"`
	PeriodEnd *time.Time `bun:"current_period_end"`
}

// PassLine is a day pass of the site.
type PassLine struct {
	ID       string    `bun:"id"`
	UserID   string    `bun:"user_id"`
	PlanName string    `bun:"plan_name"`
	Day      string    `bun:"day"`
	StartsAt time.Time `bun:"starts_at"`
	EndsAt   time.Time `bun:"ends_at"`
	Status   string    `bun:"status"`
}

// PackLine is a pack usable at the site.
type PackLine struct {
	ID           string    `bun:"id"`
	UserID       string    `bun:"user_id"`
	PlanName     string    `bun:"plan_name"`
	ResourceKind string    `bun:"resource_kind"`
	Minutes      int       `bun:"minutes"`
	ValidUntil   time.Time `bun:"valid_until"`
	Status       string    `bun:"status"`
}

// CreditLine is the credit a person holds usable at the site, per unit
// (cents, or minutes of one resource kind).
type CreditLine struct {
	UserID       string `bun:"user_id"`
	Unit         string `bun:"unit"`
	ResourceKind string `bun:"resource_kind"`
	Amount       int64  `bun:"amount"`
}

type countLine struct {
	UserID string `bun:"user_id"`
	N      int    `bun:"n"`
}

type summaries struct {
	memberships map[string][]MembershipLine
	passes      map[string][]PassLine
	packs       map[string][]PackLine
	credit      map[string][]CreditLine
	bookings    map[string]int
	visits      map[string]time.Time
}

func (s *Service) summaries(ctx context.Context, siteID string, ids []string) (*summaries, error) {
	out := &summaries{memberships: map[string][]MembershipLine{}, passes: map[string][]PassLine{},
		packs: map[string][]PackLine{}, credit: map[string][]CreditLine{}, bookings: map[string]int{}}
	if len(ids) == 0 {
		out.visits = map[string]time.Time{}
		return out, nil
	}
	now := s.now()
	in := bun.In(ids)
	var ms []MembershipLine
	if err := s.db.NewRaw(`SELECT m.id, m.user_id, m.plan_id, p.name AS plan_name, m.status, m.current_period_end
		FROM memberships m JOIN plans p ON p.id = m.plan_id
		WHERE m.user_id IN (?) AND (m.site_id = ? OR m.site_id IS NULL) ORDER BY m.created_at DESC, m.id`, in, siteID).Scan(ctx, &ms); err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	for _, m := range ms {
		out.memberships[m.UserID] = append(out.memberships[m.UserID], m)
	}
	var ps []PassLine
	if err := s.db.NewRaw(`SELECT dp.id, dp.user_id, p.name AS plan_name, dp.day, dp.starts_at, dp.ends_at, dp.status
		FROM day_passes dp JOIN plans p ON p.id = dp.plan_id
		WHERE dp.user_id IN (?) AND dp.site_id = ? AND dp.ends_at >= ? AND dp.status <> 'canceled'
		ORDER BY dp.starts_at DESC`, in, siteID, now.Add(-RelationWindow)).Scan(ctx, &ps); err != nil {
		return nil, fmt.Errorf("day passes: %w", err)
	}
	for _, p := range ps {
		out.passes[p.UserID] = append(out.passes[p.UserID], p)
	}
	if err := s.packsAndCredit(ctx, out, siteID, in, ids, now); err != nil {
		return nil, err
	}
	var bs []countLine
	if err := s.db.NewRaw(`SELECT user_id, count(*) AS n FROM reservations
		WHERE user_id IN (?) AND site_id = ? AND kind = 'booking' AND status = 'confirmed' AND starts_at >= ? AND starts_at < ?
		GROUP BY user_id`, in, siteID, now.Add(-RelationWindow), now).Scan(ctx, &bs); err != nil {
		return nil, fmt.Errorf("bookings: %w", err)
	}
	for _, b := range bs {
		out.bookings[b.UserID] = b.N
	}
	visits, err := s.lastVisits(ctx, siteID, ids)
	if err != nil {
		return nil, err
	}
	out.visits = visits
	return out, nil
}

func (s *Service) packsAndCredit(ctx context.Context, out *summaries, siteID string, in any, ids []string, now time.Time) error {
	var ks []PackLine
	if err := s.db.NewRaw(`SELECT pk.id, pk.user_id, p.name AS plan_name, pk.resource_kind, pk.minutes, pk.valid_until, pk.status
		FROM packs pk JOIN plans p ON p.id = pk.plan_id
		WHERE pk.user_id IN (?) AND (pk.site_id = ? OR pk.site_id IS NULL) AND pk.status = 'active' AND pk.valid_until > ?
		ORDER BY pk.valid_until`, in, siteID, now).Scan(ctx, &ks); err != nil {
		return fmt.Errorf("packs: %w", err)
	}
	for _, k := range ks {
		out.packs[k.UserID] = append(out.packs[k.UserID], k)
	}
	// The ledger's member accounts are "member:<user id>" (ledger.go);
	// what a lot holds on one is the sum of its entries there.
	accounts := make([]string, len(ids))
	for i, id := range ids {
		accounts[i] = "member:" + id
	}
	var cs []CreditLine
	if err := s.db.NewRaw(`SELECT substr(ce.account, 8) AS user_id, cl.unit, cl.resource_kind, SUM(ce.amount) AS amount
		FROM credit_entries ce JOIN credit_lots cl ON cl.id = ce.lot_id
		WHERE ce.account IN (?) AND (cl.site_id = ? OR cl.site_id IS NULL) AND (cl.expires_at IS NULL OR cl.expires_at > ?)
		GROUP BY ce.account, cl.unit, cl.resource_kind HAVING SUM(ce.amount) > 0
		ORDER BY cl.unit, cl.resource_kind`, bun.In(accounts), siteID, now).Scan(ctx, &cs); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	for _, c := range cs {
		out.credit[c.UserID] = append(out.credit[c.UserID], c)
	}
	return nil
}

// lastVisits is the latest visit each source knows of.
func (s *Service) lastVisits(ctx context.Context, siteID string, ids []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, v := range s.cfg.Visits {
		m, err := v.LastVisits(ctx, s.db, siteID, ids)
		if err != nil {
			return nil, err
		}
		for id, t := range m {
			if t.After(out[id]) {
				out[id] = t
			}
		}
	}
	return out, nil
}

// DoorVisits reads the gate's door grants (access_events) as visits.
type DoorVisits struct{}

// LastVisits returns the latest door grant of each person at siteID.
func (DoorVisits) LastVisits(ctx context.Context, idb bun.IDB, siteID string, userIDs []string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID string    `bun:"user_id"`
		At     time.Time `bun:"at"`
	}
	if err := idb.NewRaw(`SELECT user_id, MAX(occurred_at) AS at FROM access_events
		WHERE user_id IN (?) AND site_id = ? AND decision = 'granted' GROUP BY user_id`, bun.In(userIDs), siteID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("last visits: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = r.At.UTC()
	}
	return out, nil
}
