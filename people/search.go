package people

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

// Item is one person in the desk's list.
type Item struct {
	identity.Person
	Memberships []MembershipLine
	DayPasses   []PassLine
	Packs       []PackLine
	Credit      []CreditLine
	// Bookings is the number of confirmed bookings at the site in the
	// last RelationWindow.
	Bookings  int
	LastVisit *time.Time
	// Active: a membership, day pass or pack valid now (StatusActive).
	Active bool
}

// Query is a search of a site's people.
type Query struct {
	// Q matches name, email or phone, without case or accents; digits
	// match a phone in either form (searchkey).
	Q      string
	Status string // StatusAll (""), StatusActive or StatusLapsed
	Cursor string
	Limit  int
}

type cursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

var errBadCursor = errs.Invalid("cursor", "is not a cursor this list gave")

func decodeCursor(c string) (*cursor, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	var out cursor
	if err != nil || json.Unmarshal(b, &out) != nil || out.ID == "" {
		return nil, errBadCursor
	}
	return &out, nil
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Search lists the people of siteID matching q, by name then id, and the
// cursor of the next page ("" at the end).
func (s *Service) Search(ctx context.Context, p *identity.Principal, siteID string, q Query) ([]Item, string, error) {
	if err := MayReadPeople(p, siteID); err != nil {
		return nil, "", err
	}
	if err := s.checkSite(ctx, siteID); err != nil {
		return nil, "", err
	}
	var v errs.Validator
	switch q.Status {
	case "":
		q.Status = StatusAll
	case StatusAll, StatusActive, StatusLapsed:
	default:
		v.Add("status", "must be all, active or lapsed")
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	v.Check(q.Limit >= 1 && q.Limit <= 200, "limit", "must be between 1 and 200")
	v.Check(len([]rune(q.Q)) <= 200, "q", "must be at most 200 characters")
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	after, err := decodeCursor(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.searchIDs(ctx, siteID, searchkey.Query(q.Q), q.Status, after, q.Limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = cursor{Name: last.Name, ID: last.ID}.encode()
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	items, err := s.items(ctx, siteID, ids)
	return items, next, err
}

// items builds the list's lines of ids, in their order.
func (s *Service) items(ctx context.Context, siteID string, ids []string) ([]Item, error) {
	people, err := s.cfg.Identity.People(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	sum, err := s.summaries(ctx, siteID, ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Item, 0, len(ids))
	for _, id := range ids {
		person, ok := people[id]
		if !ok {
			continue // deleted since the search
		}
		it := Item{Person: person, Memberships: sum.memberships[id], DayPasses: sum.passes[id], Packs: sum.packs[id],
			Credit: sum.credit[id], Bookings: sum.bookings[id]}
		if t, ok := sum.visits[id]; ok {
			it.LastVisit = &t
		}
		it.Active = activeOf(&it, now)
		out = append(out, it)
	}
	return out, nil
}

// activeOf is activeNow's rule on the lines already read.
func activeOf(it *Item, now time.Time) bool {
	for _, m := range it.Memberships {
		if m.Status == "active" || m.Status == "past_due" {
			return true
		}
	}
	for _, k := range it.Packs {
		if k.Status == "active" && k.ValidUntil.After(now) {
			return true
		}
	}
	for _, d := range it.DayPasses {
		if d.Status == "active" && !now.Before(d.StartsAt) && now.Before(d.EndsAt) {
			return true
		}
	}
	return false
}
