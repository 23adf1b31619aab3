// Package calendar owns what can be booked and when: sites, their opening
// hours and closures, resources, reservations, availability and iCal feeds.
package calendar

import (
	"context"
	"errors"
	"fmt"
	stdmail "net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/journal"
)

// Config tunes the calendar service.
type Config struct {
	Now func() time.Time
	// Guard checks entitlements inside the booking transaction (billing's,
	// wrapped by the gate's machine sessions). Without one every booking is
	// allowed: the calendar alone, as in its own tests.
	Guard Guard
	// Pricer says what the Guard decides and what a booking costs, for
	// quotes (see Quote); needed with a Guard for quotes only.
	Pricer Pricer
	// Accounts answers for the members whose calendar feeds calendar keeps
	// (required; *identity.Service implements it).
	Accounts Accounts
	// OfferTTL is how long a freed slot is held for the first in line
	// (default DefaultOfferTTL).
	OfferTTL time.Duration
	// Jobs schedules each waiting-list offer's expiry (required). An
	// offer whose job is late or lost still lapses when its resource is
	// next booked (see expireOverdueHolds).
	Jobs *jobs.Queue
	// Events receives reservation events inside each change's transaction
	// (required; events.Discard for none).
	Events events.Publisher
}

// Service implements the calendar use cases. Each operation done for
// someone takes their identity.Principal and decides itself who may do it
// (rules.go); GetSite, ListSites and GetResource, which decide nothing,
// are what other domains read.
type Service struct {
	db    *bun.DB
	now   func() time.Time
	guard Guard
	// guarded: cfg.Guard was given. Without one, guard is allowAll and a
	// booking's one statement commits alone (bookInOneStatement).
	guarded  bool
	pricer   Pricer
	accounts Accounts
	offerTTL time.Duration
	jobs     *jobs.Queue
	events   events.Publisher
	// resources saves the booking path its read of the resource and site.
	resources resourceCache
	// sites saves availability its read of a site's resources and
	// reservations.
	sites siteCache
	// reservationColumns lists Reservation's columns, for prepared reads.
	reservationColumns string
}

// allowAll is the guard of a calendar given none: every booking may be
// made and releasing one gives nothing back.
type allowAll struct{}

func (allowAll) CheckBooking(context.Context, bun.IDB, *Reservation, *Resource, *Site) error {
	return nil
}
func (allowAll) ReleaseBooking(context.Context, bun.IDB, *Reservation, bool) error { return nil }

// Accounts is what calendar asks identity about a member: whether the
// account still exists and is active, and a hold on it while a feed token
// of theirs is written.
type Accounts interface {
	Contact(ctx context.Context, idb bun.IDB, userID string) (identity.Contact, error)
	HoldAccount(ctx context.Context, tx bun.IDB, userID string) (identity.Contact, error)
}

// New returns a calendar Service. cfg.Jobs is required: without it, an
// offer would never lapse while nobody books its resource; so is
// cfg.Accounts.
func New(db *bun.DB, cfg Config) *Service {
	if cfg.Jobs == nil {
		panic("calendar: New needs Config.Jobs")
	}
	if cfg.Accounts == nil {
		panic("calendar: New needs Config.Accounts")
	}
	if cfg.Events == nil {
		panic("calendar: New needs Config.Events")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OfferTTL <= 0 {
		cfg.OfferTTL = DefaultOfferTTL
	}
	guarded := cfg.Guard != nil
	if !guarded {
		cfg.Guard = allowAll{}
	}
	svc := &Service{db: db, now: func() time.Time { return cfg.Now().UTC() }, guard: cfg.Guard, guarded: guarded, pricer: cfg.Pricer, accounts: cfg.Accounts, offerTTL: cfg.OfferTTL, jobs: cfg.Jobs, events: cfg.Events}
	if db != nil {
		svc.reservationColumns = reservationColumns(db)
	}
	return svc
}

// Site is one place of the network.
type Site struct {
	bun.BaseModel `bun:"table:sites,alias:site"`

	ID       string `bun:"id,pk"`
	Name     string `bun:"name"`
	Timezone string `bun:"timezone"`
	// Kind is one of SiteKinds: what the site is.
	Kind         string       `bun:"kind"`
	Address      Address      `bun:"address"`
	OpeningHours OpeningHours `bun:"opening_hours"`
	Legal        Legal        `bun:"legal"`
	// ContactEmail is where members' answers to the site's mail go (their
	// Reply-To); nil when the site has none.
	ContactEmail *string `bun:"contact_email"`
	// ContactName and ContactPhone are a host place's person to call
	// (see host.go), nil when unset.
	ContactName  *string   `bun:"contact_name"`
	ContactPhone *string   `bun:"contact_phone"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
	// Version is bumped by every change (see resourceCache).
	Version int64 `bun:"version" json:"-"`
}

// Location returns the site's time zone. Zones are validated on write, so a
// failure here means the zone database changed under us; UTC is safer than a
// crash for reads.
func (s *Site) Location() *time.Location {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// SiteKinds: what a site may be: a coworking space, a fablab, a public
// digital space (espace public numérique) or a tiers-lieu mixing them
// (SiteKindDefault); or a host place (SiteHost, see host.go), which has
// nothing bookable of its own.
var SiteKinds = []string{"coworking", "fablab", "epn", "tiers_lieu", SiteHost}

// SiteKindDefault is the kind of a site opened without one.
const SiteKindDefault = "tiers_lieu"

// NewSite is what an admin gives to open a site.
type NewSite struct {
	Name     string
	Timezone string
	// Kind: "" for SiteKindDefault.
	Kind         string
	Address      Address
	OpeningHours OpeningHours
	Legal        Legal
	// ContactEmail: "" for none.
	ContactEmail string
	// ContactName and ContactPhone: "" for none (a host place needs its
	// contact's name).
	ContactName, ContactPhone string
}

func validTimezone(tz string) bool {
	// LoadLocation accepts "" and "UTC"/"Local"; a site needs a real IANA name.
	if tz == "" || tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

func validateSite(v *errs.Validator, s *Site) {
	s.Name = strings.TrimSpace(s.Name)
	v.Check(s.Name != "", "name", "is required")
	v.Check(utf8.RuneCountInString(s.Name) <= 200, "name", "must be at most 200 characters")
	v.Check(validTimezone(s.Timezone), "timezone", "must be an IANA time zone such as Europe/Paris")
	v.Check(slices.Contains(SiteKinds, s.Kind), "kind", "must be one of %s", strings.Join(SiteKinds, ", "))
	s.Address.validate(v, "address")
	_ = v.Merge(s.OpeningHours.Validate("opening_hours")) // Validate returns only validation errors
	noLegal := s.Legal == (Legal{})
	s.Legal.normalize()
	if !(s.Kind == SiteHost && noLegal) {
		// A host place may have no legal identity: it issues no invoices.
		s.Legal.validate(v, "legal")
	}
	s.ContactEmail = normalizeContactEmail(v, s.ContactEmail)
	validateHost(v, s)
}

// normalizeContactEmail trims a site's contact address, nil for none, and
// checks it is one bare address: it becomes a mail header (Reply-To).
func normalizeContactEmail(v *errs.Validator, e *string) *string {
	if e == nil {
		return nil
	}
	addr := strings.TrimSpace(*e)
	if addr == "" {
		return nil
	}
	a, err := stdmail.ParseAddress(addr)
	v.Check(err == nil && a.Address == addr && len(addr) <= 254 && !strings.ContainsAny(addr, "\r\n"),
		"contact_email", "must be one email address, such as accueil@example.fr")
	return &addr
}

// CreateSite opens a new site; p must be an admin (see mayCreateSite).
func (svc *Service) CreateSite(ctx context.Context, p *identity.Principal, in NewSite) (*Site, error) {
	if err := mayCreateSite(p); err != nil {
		return nil, err
	}
	now := svc.now()
	s := &Site{
		ID: id.New(), Name: in.Name, Timezone: in.Timezone, Kind: in.Kind, Address: in.Address,
		OpeningHours: in.OpeningHours, Legal: in.Legal, CreatedAt: now, UpdatedAt: now,
	}
	if s.Kind == "" {
		s.Kind = SiteKindDefault
	}
	if in.ContactEmail != "" {
		s.ContactEmail = &in.ContactEmail
	}
	var v errs.Validator
	setHostFields(s, in)
	validateSite(&v, s)
	if s.Kind != SiteHost {
		// A host place issues no invoices: it has no legal identity to give.
		s.Legal.validateComplete(&v, "legal", s.Legal.office(s.Address))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := svc.db.NewInsert().Model(s).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert site: %w", err)
	}
	return s, nil
}

var errSiteNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}

// GetSite returns one site, deciding nothing: what other domains read of
// a site. Callers acting for someone use ReadSite.
func (svc *Service) GetSite(ctx context.Context, siteID string) (*Site, error) {
	return getSite(ctx, svc.db, siteID)
}

// ReadSite returns one site that p may know exists (see mayReadSite).
func (svc *Service) ReadSite(ctx context.Context, p *identity.Principal, siteID string) (*Site, error) {
	if err := mayReadSite(p, siteID); err != nil {
		return nil, err
	}
	return getSite(ctx, svc.db, siteID)
}

// LoadSite reads a site through idb, so that a caller inside a transaction
// (billing's entitlement check) stays on the transaction's connection: on
// SQLite a second connection would wait for the write lock its own
// transaction holds.
func LoadSite(ctx context.Context, idb bun.IDB, siteID string) (*Site, error) {
	return getSite(ctx, idb, siteID)
}

func getSite(ctx context.Context, idb bun.IDB, siteID string) (*Site, error) {
	if !id.Valid(siteID) {
		return nil, errSiteNotFound
	}
	var s Site
	if err := idb.NewSelect().Model(&s).Where("id = ?", siteID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errSiteNotFound
		}
		return nil, fmt.Errorf("get site: %w", err)
	}
	return &s, nil
}

// ReadSites returns the sites p may list, ordered by id, after the cursor
// id, and the cursor of the next page ("" at the end): every site, or for
// an API key limited to a few sites, just those.
func (svc *Service) ReadSites(ctx context.Context, p *identity.Principal, after string, limit int) ([]Site, string, error) {
	return svc.ReadSitesOfKind(ctx, p, "", after, limit)
}

// ReadSitesOfKind is ReadSites limited to the sites of kind (one of
// SiteKinds; "" for every kind).
func (svc *Service) ReadSitesOfKind(ctx context.Context, p *identity.Principal, kind, after string, limit int) ([]Site, string, error) {
	if err := mayListSites(p); err != nil {
		return nil, "", err
	}
	if kind != "" && !slices.Contains(SiteKinds, kind) {
		return nil, "", errs.Invalid("kind", "must be one of %s", strings.Join(SiteKinds, ", "))
	}
	if !p.IsAPIKey() || p.AllSites {
		return svc.listSites(ctx, kind, after, limit)
	}
	ids := slices.Clone(p.SiteIDs)
	slices.Sort(ids)
	sites := []Site{}
	for _, siteID := range ids {
		if siteID <= after {
			continue
		}
		if len(sites) == limit {
			return sites, sites[limit-1].ID, nil
		}
		site, err := getSite(ctx, svc.db, siteID)
		if errors.Is(err, errs.ErrNotFound) {
			continue // a site deleted since the key was made
		}
		if err != nil {
			return nil, "", err
		}
		if kind != "" && site.Kind != kind {
			continue
		}
		sites = append(sites, *site)
	}
	return sites, "", nil
}

// ListSites returns sites ordered by id, after the cursor id, deciding
// nothing (see ReadSites).
func (svc *Service) ListSites(ctx context.Context, after string, limit int) ([]Site, string, error) {
	return svc.listSites(ctx, "", after, limit)
}

func (svc *Service) listSites(ctx context.Context, kind, after string, limit int) ([]Site, string, error) {
	var sites []Site
	q := svc.db.NewSelect().Model(&sites).Order("id").Limit(limit + 1)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, "", fmt.Errorf("list sites: %w", err)
	}
	next := ""
	if len(sites) > limit {
		sites = sites[:limit]
		next = sites[limit-1].ID
	}
	return sites, next, nil
}

// SiteUpdate changes some fields of a site; nil fields stay.
// ClearOpeningHours makes the site open around the clock.
type SiteUpdate struct {
	Name              *string
	Timezone          *string
	Kind              *string
	Address           *Address
	OpeningHours      OpeningHours
	ClearOpeningHours bool
	Legal             *Legal
	// ContactEmail sets the contact address; "" removes it.
	ContactEmail *string
	// ContactName and ContactPhone set a host place's contact; "" removes
	// them. A site's kind does not change.
	ContactName, ContactPhone *string
}

// errLegalAdminOnly refuses a change of a site's legal identity by anyone
// but an admin.
var errHostAdminOnly = &errs.Problem{Kind: errs.ErrForbidden, Code: "host_place_admin_only",
	Detail: "only an admin of the network makes a site a host place, or a host place a site",
	Fields: []errs.FieldError{{Field: "kind", Reason: "only an admin of the network makes a site a host place, or a host place a site"}}}

var errLegalAdminOnly = &errs.Problem{Kind: errs.ErrForbidden, Code: "legal_identity_admin_only",
	Detail: "only an admin of the network changes a site's legal identity",
	Fields: []errs.FieldError{{Field: "legal", Reason: "only an admin of the network changes a site's legal identity"}}}

// UpdateSite applies up for p, who must be allowed to edit the site (see
// mayEditSite), and returns the site as stored.
//
// The legal identity says which entity issues the site's invoices: its
// SIREN picks the invoice series they are numbered in and the accounting
// journal (FEC) they belong to, and that journal is exported only by whoever
// manages every site of the entity. So it is the network admin's to set or
// change. A manager who could set it could issue invoices in another
// entity's series and lock that entity's own managers out of its journal.
// Anyone else may send it back unchanged (a form that sends the whole
// site). Invoices already issued keep the entity and identity they were
// issued with.
func (svc *Service) UpdateSite(ctx context.Context, p *identity.Principal, siteID string, up SiteUpdate) (*Site, error) {
	if err := mayEditSite(p, siteID); err != nil {
		return nil, err
	}
	defer svc.resources.invalidate() // after the change is committed
	var out *Site
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		s, err := getSite(ctx, tx, siteID)
		if err != nil {
			return err
		}
		if up.Name != nil {
			s.Name = *up.Name
		}
		if up.Timezone != nil {
			s.Timezone = *up.Timezone
		}
		becomesSite := false
		if up.Kind != nil && *up.Kind != s.Kind {
			// Making a site a host place, or a host place a site, is the
			// network's decision: a host place issues no invoices and holds
			// nothing bookable.
			if *up.Kind == SiteHost || s.Kind == SiteHost {
				if !mayChangeLegal(p) {
					return errHostAdminOnly
				}
			}
			if *up.Kind == SiteHost {
				n, err := tx.NewSelect().Model((*Resource)(nil)).Where("site_id = ? AND retired_at IS NULL", s.ID).Count(ctx)
				if err != nil {
					return fmt.Errorf("count the site's resources: %w", err)
				}
				if n > 0 {
					return errs.Rule("kind", "host_place_has_no_resources",
						"a host place has nothing bookable of its own: bring kits from a site instead")
				}
			}
			becomesSite = s.Kind == SiteHost
			s.Kind = *up.Kind
		}
		if up.Address != nil {
			s.Address = *up.Address
		}
		if up.OpeningHours != nil {
			s.OpeningHours = up.OpeningHours
		}
		if up.ClearOpeningHours {
			s.OpeningHours = nil
		}
		if up.ContactEmail != nil {
			s.ContactEmail = up.ContactEmail
		}
		if up.ContactName != nil {
			s.ContactName = up.ContactName
		}
		if up.ContactPhone != nil {
			s.ContactPhone = up.ContactPhone
		}
		var v errs.Validator
		if up.Legal != nil {
			legal := *up.Legal
			legal.normalize()
			if !sameLegal(legal, s.Legal) {
				if !mayChangeLegal(p) {
					return errLegalAdminOnly
				}
				legal.validateComplete(&v, "legal", legal.office(s.Address))
			}
			if err := journal.Changed(ctx, tx, journal.Entry{OccurredAt: svc.now(), EntityKey: legal.SIREN, SiteID: s.ID, ObjectKind: "site", ObjectID: s.ID}, "legal", s.Legal, legal); err != nil {
				return err
			}
			s.Legal = legal
		}
		validateSite(&v, s)
		if becomesSite {
			// It will issue invoices: its legal identity must be whole.
			s.Legal.validateComplete(&v, "legal", s.Legal.office(s.Address))
		}
		if err := v.Err(); err != nil {
			return err
		}
		s.UpdatedAt = svc.now()
		if _, err := tx.NewUpdate().Model(s).WherePK().ExcludeColumn("id", "created_at").
			Value("version", "version + 1").Exec(ctx); err != nil {
			return fmt.Errorf("update site: %w", err)
		}
		out = s
		return nil
	})
	return out, err
}
