// Package reports makes the figures local authorities and the programmes
// that fund a tiers lieu's services ask of it: ateliers held, sessions,
// registrations, attendance and people served, by month, site and
// category, and the people served by commune and age band. Counts only:
// never a name, and a count of people from 1 to 4 is masked, so that a
// commune of three residents does not name them. It sits above the domains and owns
// no table; its figures are a read model over ateliers' and people's
// tables (the funders' cuts join a registration to the guest's commune,
// which no single domain can answer), read once per report.
package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// MinCount is the smallest count a report shows; smaller ones but zero are
// masked.
const MinCount = 5

// MaxDays bounds a report's period.
const MaxDays = 400

// Sites is what reports asks of the calendar.
type Sites interface {
	GetSite(ctx context.Context, siteID string) (*calendar.Site, error)
	ListSiteIDs(ctx context.Context) ([]string, error)
}

// Service makes reports.
type Service struct {
	db    *bun.DB
	sites Sites
	now   func() time.Time
}

// New returns the service.
func New(db *bun.DB, sites Sites, now func() time.Time) (*Service, error) {
	if db == nil || sites == nil {
		return nil, errors.New("reports: DB and Sites are required")
	}
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, sites: sites, now: now}, nil
}

// Count is a figure that may be masked: Value is nil when the true count
// is from 1 to MinCount-1.
type Count struct {
	Value  *int
	Masked bool
}

// plain is a count that is not about people, never masked.
func plain(n int) Count { return Count{Value: &n} }

func count(n int) Count {
	if n > 0 && n < MinCount {
		return Count{Masked: true}
	}
	return Count{Value: &n}
}

// AtelierLine is the ateliers' figures of one month, site and category.
type AtelierLine struct {
	Month      string // 2026-03, in the site's zone
	SiteID     string
	CategoryID string
	Category   string
	// Ateliers and sessions are not about people: never masked.
	Ateliers   int   // distinct ateliers with a session held
	Sessions   int   // sessions held (not cancelled, started)
	Registered Count // confirmed registrations at them
	Present    Count
	Absent     Count
	Excused    Count
	// AttendanceBP is present ÷ (present + absent + excused), in basis
	// points; nil when nobody was marked or a count is masked.
	AttendanceBP *int
	People       Count // distinct people present
}

// Served is people served (present at least once) by commune or age band.
type Served struct {
	Key    string // the commune's name (and INSEE code), or the age band
	INSEE  string
	People Count
}

// Report is the whole.
type Report struct {
	From, To time.Time
	SiteIDs  []string
	Ateliers []AtelierLine
	// Appointments with public services (appointments.go).
	Appointments []AppointmentLine
	// People is the number of distinct people present at a session of the
	// period, or received at an appointment (held or to follow up), at
	// these sites.
	People    Count
	ByCommune []Served
	ByAgeBand []Served
}

var errNoSite = errs.Problemf(errs.ErrNotFound, "site_not_found", "no such site")

// sitesFor decides who may: the network's admins every site (or the one
// asked), a site's managers their sites only. API keys and members never.
func (s *Service) sitesFor(ctx context.Context, p *identity.Principal, siteID string) ([]string, error) {
	if p.IsAPIKey() {
		return nil, errs.ErrForbidden
	}
	if siteID != "" {
		if !id.Valid(siteID) {
			return nil, errNoSite
		}
		if _, err := s.sites.GetSite(ctx, siteID); err != nil {
			return nil, errNoSite
		}
		if !p.IsAdmin() && !p.IsSystem() && !p.ManagesSite(siteID) {
			return nil, errs.ErrForbidden
		}
		return []string{siteID}, nil
	}
	if p.IsAdmin() || p.IsSystem() {
		return s.sites.ListSiteIDs(ctx)
	}
	if len(p.ManagedSites) == 0 {
		return nil, errs.ErrForbidden
	}
	return slices.Clone(p.ManagedSites), nil
}

// Services reports on [from, to) for one site or all those p may see.
func (s *Service) Services(ctx context.Context, p *identity.Principal, siteID string, from, to time.Time) (*Report, error) {
	sites, err := s.sitesFor(ctx, p, siteID)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	v.Check(!from.IsZero(), "from", "is required")
	v.Check(!to.IsZero() && to.After(from), "to", "must be after from")
	v.Check(to.Sub(from) <= MaxDays*24*time.Hour, "to", "must be at most %d days after from", MaxDays)
	if err := v.Err(); err != nil {
		return nil, err
	}
	slices.Sort(sites)
	r := &Report{From: from.UTC(), To: to.UTC(), SiteIDs: sites, Ateliers: []AtelierLine{}, Appointments: []AppointmentLine{}, ByCommune: []Served{}, ByAgeBand: []Served{}}
	if len(sites) == 0 {
		r.People = count(0)
		return r, nil
	}
	zones := make(map[string]*time.Location, len(sites))
	for _, id := range sites {
		site, err := s.sites.GetSite(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("report site %s: %w", id, err)
		}
		zones[id] = site.Location()
	}
	served := map[string]bool{}
	if err := s.ateliers(ctx, r, zones, served); err != nil {
		return nil, err
	}
	if err := s.appointments(ctx, r, zones, served); err != nil {
		return nil, err
	}
	if err := s.people(ctx, r, served); err != nil {
		return nil, err
	}
	return r, nil
}
