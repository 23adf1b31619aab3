package people

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// A guest is a person the site's services serve without an account of
// their own: a resident who comes to an atelier or to an appointment with
// a public service, often without an email, registered by the animateur.
// Underneath they are a walk-in (an account that has never chosen a
// password, found at the site's desk), so that every domain serves them
// by their id as it serves a member — bookings, desk sales, registrations
// — and their history is theirs if they take the account later (through
// "forgot password", once they have an email). What the guest row adds is
// what funders' figures ask, and no more: the commune they live in and an
// age band. Guests are mailed no invitation; the retention purge erases
// those no longer served (StaleGuests).

// Age bands, those of the activity reports of the Coop de la médiation
// numérique (ANCT), so that the figures can be copied into them.
const (
	AgeUnder12   = "under_12"
	Age12To17    = "12_17"
	Age18To24    = "18_24"
	Age25To39    = "25_39"
	Age40To59    = "40_59"
	Age60To69    = "60_69"
	Age70AndOver = "70_plus"
	AgeUnknown   = "unknown"
)

// AgeBands lists the bands in order, youngest first.
var AgeBands = []string{AgeUnder12, Age12To17, Age18To24, Age25To39, Age40To59, Age60To69, Age70AndOver, AgeUnknown}

// maxCommuneLen bounds a commune's name: the longest French one has 45
// characters (Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson).
const maxCommuneLen = 100

var (
	inseeCode  = regexp.MustCompile(`^([0-9]{5}|2[AB][0-9]{3})$`)
	postalCode = regexp.MustCompile(`^[0-9]{5}$`)
)

var errGuestNotFound = errs.Problemf(errs.ErrNotFound, "guest_not_found", "no such guest at a site you manage")

// Commune is where a guest lives.
type Commune struct {
	Name string `json:"name"`
	// INSEE is the commune's official code (5 characters, 2A/2B for
	// Corsica), which tells apart communes of the same name.
	INSEE      string `json:"insee,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
}

// NewGuest is what the desk gives.
type NewGuest struct {
	Name     string
	Phone    string
	Email    string
	Language string
	Commune  Commune
	AgeBand  string // "" is AgeUnknown
}

// GuestEdit corrects a guest; a nil field is left as it is.
type GuestEdit struct {
	Name    *string
	Phone   *string
	Email   *string
	Commune *Commune
	AgeBand *string
}

// Guest is a guest as the desk sees them.
type Guest struct {
	ID      string
	SiteID  string // where they were registered
	Name    string
	Phone   string
	Email   string // "" when they have none
	Commune Commune
	AgeBand string
	// HasAccount: they have since chosen a password; the guest is a member
	// and edits their own name, phone and email.
	HasAccount bool
	// MergedInto is the account the guest was merged into (merge.go), nil
	// while they are a guest.
	MergedInto *string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// guestRow is the table.
type guestRow struct {
	bun.BaseModel `bun:"table:guests"`

	UserID       string    `bun:"user_id,pk"`
	SiteID       string    `bun:"site_id"`
	CommuneName  string    `bun:"commune_name"`
	CommuneINSEE *string   `bun:"commune_insee"`
	PostalCode   *string   `bun:"postal_code"`
	AgeBand      string    `bun:"age_band"`
	MergedInto   *string   `bun:"merged_into"`
	CreatedBy    *string   `bun:"created_by"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

func checkCommune(v *errs.Validator, c Commune) Commune {
	c.Name, c.INSEE, c.PostalCode = strings.TrimSpace(c.Name), strings.ToUpper(strings.TrimSpace(c.INSEE)), strings.TrimSpace(c.PostalCode)
	v.Check(c.Name != "", "commune.name", "is required")
	v.Check(utf8.RuneCountInString(c.Name) <= maxCommuneLen, "commune.name", "must be at most %d characters", maxCommuneLen)
	v.Check(c.INSEE == "" || inseeCode.MatchString(c.INSEE), "commune.insee", "must be a commune's INSEE code: 5 digits, or 2A/2B and 3 digits")
	v.Check(c.PostalCode == "" || postalCode.MatchString(c.PostalCode), "commune.postal_code", "must be 5 digits")
	return c
}

func checkAgeBand(v *errs.Validator, band string) {
	for _, b := range AgeBands {
		if band == b {
			return
		}
	}
	v.Check(false, "age_band", "must be one of %s", strings.Join(AgeBands, ", "))
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateGuest registers a guest at siteID's desk (MayServePeople): their
// account, without invitation, and their guest row, in one transaction.
// An email that already has an account is identity's 409 email_taken with
// that account's id: the person is a member, served as one.
func (s *Service) CreateGuest(ctx context.Context, p *identity.Principal, siteID string, in NewGuest) (*Guest, error) {
	if err := MayServePeople(p, siteID); err != nil {
		return nil, err
	}
	if err := s.checkSite(ctx, siteID); err != nil {
		return nil, err
	}
	var v errs.Validator
	in.Commune = checkCommune(&v, in.Commune)
	if in.AgeBand == "" {
		in.AgeBand = AgeUnknown
	}
	checkAgeBand(&v, in.AgeBand)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var guestID string
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.cfg.Identity.CreateWalkIn(ctx, tx, identity.WalkIn{Name: in.Name, Email: in.Email, Phone: in.Phone,
			Language: in.Language, NoInvitation: true})
		if err != nil {
			return err
		}
		guestID = u.ID
		if err := s.register(ctx, tx, siteID, u.ID, p); err != nil {
			return err
		}
		now := s.now()
		row := guestRow{UserID: u.ID, SiteID: siteID, CommuneName: in.Commune.Name, CommuneINSEE: nilIfEmpty(in.Commune.INSEE),
			PostalCode: nilIfEmpty(in.Commune.PostalCode), AgeBand: in.AgeBand, CreatedAt: now, UpdatedAt: now}
		if p.UserID != "" && !p.IsAPIKey() {
			row.CreatedBy = &p.UserID
		}
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return fmt.Errorf("insert guest: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.guest(ctx, s.db, guestID)
}

// mayReadGuest: the managers (and admins, and API keys with users:read)
// of a site where the guest is registered; to anyone else the guest does
// not exist.
func (s *Service) mayReadGuest(ctx context.Context, idb bun.IDB, p *identity.Principal, guestID string, serve bool) error {
	if !id.Valid(guestID) {
		return errGuestNotFound
	}
	var sites []string
	// The sites where they are registered, and the one that registered
	// them (a merged guest's desk registrations went to the account).
	if err := idb.NewRaw(`SELECT sp.site_id FROM site_people sp WHERE sp.user_id = ?0 AND EXISTS (SELECT 1 FROM guests g WHERE g.user_id = ?0)
		UNION SELECT g.site_id FROM guests g WHERE g.user_id = ?0`, guestID).Scan(ctx, &sites); err != nil {
		return fmt.Errorf("find guest's sites: %w", err)
	}
	for _, site := range sites {
		check := MayReadPeople
		if serve {
			check = MayServePeople
		}
		if err := check(p, site); err == nil {
			return nil
		}
	}
	return errGuestNotFound
}

// GetGuest is one guest, for the managers of a site where they are
// registered.
func (s *Service) GetGuest(ctx context.Context, p *identity.Principal, guestID string) (*Guest, error) {
	if err := s.mayReadGuest(ctx, s.db, p, guestID, false); err != nil {
		return nil, err
	}
	return s.guest(ctx, s.db, guestID)
}

// EditGuest corrects a guest's commune and age band, and, while they have
// not taken their account, their name, phone and email (identity's
// EditWalkIn: a new email gets no invitation either).
func (s *Service) EditGuest(ctx context.Context, p *identity.Principal, guestID string, e GuestEdit) (*Guest, error) {
	var v errs.Validator
	if e.Commune != nil {
		c := checkCommune(&v, *e.Commune)
		e.Commune = &c
	}
	if e.AgeBand != nil {
		checkAgeBand(&v, *e.AgeBand)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := s.mayReadGuest(ctx, tx, p, guestID, true); err != nil {
			return err
		}
		if e.Name != nil || e.Phone != nil || e.Email != nil {
			if _, err := s.cfg.Identity.EditWalkIn(ctx, tx, guestID, identity.WalkInEdit{Name: e.Name, Phone: e.Phone, Email: e.Email,
				NoInvitation: true}); err != nil {
				return err
			}
		}
		q := tx.NewUpdate().Model((*guestRow)(nil)).Set("updated_at = ?", s.now()).Where("user_id = ?", guestID)
		if e.Commune != nil {
			q = q.Set("commune_name = ?, commune_insee = ?, postal_code = ?", e.Commune.Name, nilIfEmpty(e.Commune.INSEE), nilIfEmpty(e.Commune.PostalCode))
		}
		if e.AgeBand != nil {
			q = q.Set("age_band = ?", *e.AgeBand)
		}
		if _, err := q.Exec(ctx); err != nil {
			return fmt.Errorf("edit guest: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.guest(ctx, s.db, guestID)
}

// guest reads one guest with their account.
func (s *Service) guest(ctx context.Context, idb bun.IDB, guestID string) (*Guest, error) {
	var row guestRow
	if err := idb.NewSelect().Model(&row).Where("user_id = ?", guestID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errGuestNotFound
		}
		return nil, fmt.Errorf("read guest: %w", err)
	}
	people, err := s.cfg.Identity.People(ctx, idb, []string{guestID})
	if err != nil {
		return nil, err
	}
	acct, ok := people[guestID]
	if !ok {
		return nil, errGuestNotFound
	}
	g := &Guest{ID: guestID, SiteID: row.SiteID, Name: acct.Name, Phone: acct.Phone, Email: acct.Email, AgeBand: row.AgeBand,
		HasAccount: !acct.AwaitingPassword, MergedInto: row.MergedInto, CreatedAt: row.CreatedAt.UTC(), UpdatedAt: row.UpdatedAt.UTC(),
		Commune: Commune{Name: row.CommuneName}}
	if row.CommuneINSEE != nil {
		g.Commune.INSEE = *row.CommuneINSEE
	}
	if row.PostalCode != nil {
		g.Commune.PostalCode = *row.PostalCode
	}
	return g, nil
}

// staleGuests holds the guests the retention purge may erase, given
// before (now minus the retention): still without an account of their
// own, their guest row not changed since before, and nothing of theirs
// since then in the domains that serve them — no booking ending after
// it, no payment, no membership or pack still running, no day pass, no
// appointment nor atelier registration whose session ends after it. The
// read model reads the domains' tables, as the search does (readmodel.go).
const staleGuests = `SELECT g.user_id FROM guests g JOIN users u ON u.id = g.user_id
	WHERE u.deleted_at IS NULL AND u.awaiting_password AND g.updated_at < ?0
	AND NOT EXISTS (SELECT 1 FROM reservations rv WHERE rv.user_id = g.user_id AND rv.ends_at >= ?0)
	AND NOT EXISTS (SELECT 1 FROM payments pm WHERE pm.user_id = g.user_id AND pm.created_at >= ?0)
	AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = g.user_id AND m.status IN ('pending', 'active', 'past_due'))
	AND NOT EXISTS (SELECT 1 FROM packs pk WHERE pk.user_id = g.user_id AND pk.status = 'active' AND pk.valid_until >= ?0)
	AND NOT EXISTS (SELECT 1 FROM day_passes dp WHERE dp.user_id = g.user_id AND dp.ends_at >= ?0)
	AND NOT EXISTS (SELECT 1 FROM appointments ap WHERE ap.user_id = g.user_id AND ap.status = 'confirmed' AND ap.ends_at >= ?0)
	AND NOT EXISTS (SELECT 1 FROM atelier_registrations ar JOIN atelier_sessions ses ON ses.id = ar.session_id
		WHERE ar.user_id = g.user_id AND ar.status <> 'cancelled' AND ses.ends_at >= ?0)
	ORDER BY g.updated_at, g.user_id LIMIT ?1`

// StaleGuests returns up to limit guests no longer served since before,
// for privacy's retention purge to erase (README, "Personal data").
func (s *Service) StaleGuests(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	if err := s.db.NewRaw(staleGuests, before.UTC(), limit).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find stale guests: %w", err)
	}
	return ids, nil
}
