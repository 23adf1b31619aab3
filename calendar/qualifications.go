package calendar

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Qualification is a training a member needs before using some machines
// ("Laser cutter — safety induction").
type Qualification struct {
	bun.BaseModel `bun:"table:qualifications,alias:q"`

	ID          string    `bun:"id,pk"`
	SiteID      string    `bun:"site_id"`
	Name        string    `bun:"name"`
	Description string    `bun:"description"`
	CreatedAt   time.Time `bun:"created_at"`
}

// Grant records that a manager trained a member, optionally until a date.
type Grant struct {
	bun.BaseModel `bun:"table:qualification_grants,alias:g"`

	ID              string     `bun:"id,pk"`
	QualificationID string     `bun:"qualification_id"`
	UserID          string     `bun:"user_id"`
	GrantedBy       string     `bun:"granted_by"`
	GrantedAt       time.Time  `bun:"granted_at"`
	ExpiresAt       *time.Time `bun:"expires_at"`
	RevokedAt       *time.Time `bun:"revoked_at"`
}

// ValidAt reports whether the grant is in force at t.
func (g *Grant) ValidAt(t time.Time) bool {
	return g.RevokedAt == nil && (g.ExpiresAt == nil || t.Before(*g.ExpiresAt))
}

// CreateQualification adds a qualification to a site, for p who edits the
// site.
func (svc *Service) CreateQualification(ctx context.Context, p *identity.Principal, siteID, name, description string) (*Qualification, error) {
	if err := mayEditSite(p, siteID); err != nil {
		return nil, err
	}
	if _, err := svc.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	var v errs.Validator
	v.Check(name != "", "name", "is required")
	v.Check(len(name) <= 200, "name", "must be at most 200 bytes")
	v.Check(len(description) <= 4000, "description", "must be at most 4000 bytes")
	if err := v.Err(); err != nil {
		return nil, err
	}
	q := &Qualification{ID: id.New(), SiteID: siteID, Name: name, Description: description, CreatedAt: svc.now()}
	if _, err := svc.db.NewInsert().Model(q).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert qualification: %w", err)
	}
	return q, nil
}

var errQualificationNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "qualification_not_found", Detail: "no such qualification"}

// GetQualification returns one qualification that p may know exists.
func (svc *Service) GetQualification(ctx context.Context, p *identity.Principal, qualID string) (*Qualification, error) {
	q, err := svc.getQualification(ctx, svc.db, qualID)
	if err != nil {
		return nil, err
	}
	if err := mayReadQualification(p, q); err != nil {
		return nil, err
	}
	return q, nil
}

// managedQualification returns a qualification that p manages (see
// mayManageQualification).
func (svc *Service) managedQualification(ctx context.Context, idb bun.IDB, p *identity.Principal, qualID string) (*Qualification, error) {
	q, err := svc.getQualification(ctx, idb, qualID)
	if err != nil {
		return nil, err
	}
	if err := mayManageQualification(p, q); err != nil {
		return nil, err
	}
	return q, nil
}

func (svc *Service) getQualification(ctx context.Context, idb bun.IDB, qualID string) (*Qualification, error) {
	if !id.Valid(qualID) {
		return nil, errQualificationNotFound
	}
	var q Qualification
	if err := idb.NewSelect().Model(&q).Where("id = ?", qualID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errQualificationNotFound
		}
		return nil, fmt.Errorf("get qualification: %w", err)
	}
	return &q, nil
}

// ListQualifications returns a site's qualifications by name, for p who
// may know the site exists.
func (svc *Service) ListQualifications(ctx context.Context, p *identity.Principal, siteID string) ([]Qualification, error) {
	if _, err := svc.ReadSite(ctx, p, siteID); err != nil {
		return nil, err
	}
	qs := []Qualification{}
	if err := svc.db.NewSelect().Model(&qs).Where("site_id = ?", siteID).Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list qualifications: %w", err)
	}
	return qs, nil
}

// GrantQualification records that userID holds qualID, until expiresAt if set.
// A new grant replaces the member's earlier ones (so a renewal extends).
// p grants it (see mayGrant) and is recorded as having trained the member.
func (svc *Service) GrantQualification(ctx context.Context, p *identity.Principal, qualID, userID string, expiresAt *time.Time) (*Grant, error) {
	if err := mayGrant(p); err != nil {
		return nil, err
	}
	if _, err := svc.managedQualification(ctx, svc.db, p, qualID); err != nil {
		return nil, err
	}
	grantedBy := p.UserID
	now := svc.now()
	var v errs.Validator
	v.Check(id.Valid(userID), "user_id", "is required")
	if expiresAt != nil {
		v.Check(expiresAt.After(now), "expires_at", "must be in the future")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var g *Grant
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := svc.getQualification(ctx, tx, qualID); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Grant)(nil)).Set("revoked_at = ?", now).
			Where("qualification_id = ? AND user_id = ? AND revoked_at IS NULL", qualID, userID).Exec(ctx); err != nil {
			return fmt.Errorf("replace grants: %w", err)
		}
		g = &Grant{ID: id.New(), QualificationID: qualID, UserID: userID, GrantedBy: grantedBy, GrantedAt: now}
		if expiresAt != nil {
			e := expiresAt.UTC()
			g.ExpiresAt = &e
		}
		if _, err := tx.NewInsert().Model(g).Exec(ctx); err != nil {
			if db.IsForeignKey(err) {
				return errs.Invalid("user_id", "no such user")
			}
			return fmt.Errorf("insert grant: %w", err)
		}
		return nil
	})
	return g, err
}

// RevokeQualification ends userID's grant of qualID, for p who manages it.
func (svc *Service) RevokeQualification(ctx context.Context, p *identity.Principal, qualID, userID string) error {
	if _, err := svc.managedQualification(ctx, svc.db, p, qualID); err != nil {
		return err
	}
	res, err := svc.db.NewUpdate().Model((*Grant)(nil)).Set("revoked_at = ?", svc.now()).
		Where("qualification_id = ? AND user_id = ? AND revoked_at IS NULL", qualID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &errs.Problem{Kind: errs.ErrNotFound, Code: "grant_not_found", Detail: "this member does not hold this qualification"}
	}
	return nil
}

// ListGrants returns the grants in force of a qualification, for p who
// manages it.
func (svc *Service) ListGrants(ctx context.Context, p *identity.Principal, qualID string) ([]Grant, error) {
	if _, err := svc.managedQualification(ctx, svc.db, p, qualID); err != nil {
		return nil, err
	}
	gs := []Grant{}
	if err := svc.db.NewSelect().Model(&gs).Where("qualification_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", qualID, svc.now()).
		Order("granted_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return gs, nil
}

// Qualified reports whether userID holds qualID at instant t. Access uses it
// for machine sessions, the calendar for bookings.
func (svc *Service) Qualified(ctx context.Context, idb bun.IDB, userID, qualID string, t time.Time) (bool, error) {
	var gs []Grant
	if err := idb.NewSelect().Model(&gs).Where("qualification_id = ? AND user_id = ? AND revoked_at IS NULL", qualID, userID).Scan(ctx); err != nil {
		return false, fmt.Errorf("read grants: %w", err)
	}
	for i := range gs {
		if gs[i].ValidAt(t) {
			return true, nil
		}
	}
	return false, nil
}

// HeldQualification is a qualification a member holds now: its grant in
// force and the machines it opens (those of its site, not retired, that
// require it), for the member's own page.
type HeldQualification struct {
	Qualification Qualification
	Grant         Grant
	Machines      []Resource
}

// MyQualifications returns the qualifications p holds now (grants not
// revoked, replaced or expired), by site then name, each with the machines
// it lets p book. Only a person holds trainings: an API key is refused.
func (svc *Service) MyQualifications(ctx context.Context, p *identity.Principal) ([]HeldQualification, error) {
	if err := mayHoldQualifications(p); err != nil {
		return nil, err
	}
	var gs []Grant
	if err := svc.db.NewSelect().Model(&gs).
		Where("user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", p.UserID, svc.now()).
		Scan(ctx); err != nil {
		return nil, fmt.Errorf("list my grants: %w", err)
	}
	out := []HeldQualification{}
	if len(gs) == 0 {
		return out, nil
	}
	grantOf := map[string]Grant{}
	ids := make([]string, 0, len(gs))
	for _, g := range gs {
		grantOf[g.QualificationID] = g
		ids = append(ids, g.QualificationID)
	}
	var qs []Qualification
	if err := svc.db.NewSelect().Model(&qs).Where("id IN (?)", bun.In(ids)).Order("site_id", "name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list my qualifications: %w", err)
	}
	var rs []Resource
	if err := svc.db.NewSelect().Model(&rs).Where("qualification_id IN (?) AND retired_at IS NULL", bun.In(ids)).
		Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list qualified machines: %w", err)
	}
	for _, q := range qs {
		h := HeldQualification{Qualification: q, Grant: grantOf[q.ID], Machines: []Resource{}}
		for _, r := range rs {
			if r.QualificationID != nil && *r.QualificationID == q.ID {
				h.Machines = append(h.Machines, r)
			}
		}
		out = append(out, h)
	}
	return out, nil
}
