package ateliers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// SessionInput is one date: RFC 3339 instants, or the site's local
// wall-clock time ("2026-03-10T14:00"), as bookings take them.
type SessionInput struct {
	Start, End string
}

// NewAtelier is what a manager gives.
type NewAtelier struct {
	Title, Description string
	CategoryID         string
	Audience           string // "" is public
	Seats              int
	// Pricing: "" is "price" when PriceCents > 0, else "free".
	Pricing                   string
	PriceCents                int64
	CreditCents               int64
	PlanIDs                   []string
	QualificationID           string
	QualificationMonths       int
	ResourceIDs               []string
	AnimateurIDs              []string
	RegistrationOpensAt       *time.Time
	RegistrationClosesMinutes int
	CancelBeforeMinutes       int
	Sessions                  []SessionInput
}

// Create creates an atelier and its sessions, reserving its resources for
// every session, in one transaction: a resource taken at one session is a
// 409 slot_taken naming the session (sessions[i]), and nothing is created.
func (s *Service) Create(ctx context.Context, p *identity.Principal, siteID string, in NewAtelier) (*Atelier, error) {
	if err := mayRun(p, siteID); err != nil {
		return nil, err
	}
	site, err := s.cfg.Calendar.GetSite(ctx, siteID)
	if err != nil {
		return nil, errSiteNotFound
	}
	a, sessions, err := s.check(site, in)
	if err != nil {
		return nil, err
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := s.checkRefs(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			return fmt.Errorf("insert atelier: %w", err)
		}
		for _, rid := range a.ResourceIDs {
			if _, err := tx.NewInsert().Model(&atelierResource{AtelierID: a.ID, ResourceID: rid}).Exec(ctx); err != nil {
				return fmt.Errorf("insert atelier resource: %w", err)
			}
		}
		for _, uid := range a.AnimateurIDs {
			if _, err := tx.NewInsert().Model(&atelierAnimateur{AtelierID: a.ID, UserID: uid}).Exec(ctx); err != nil {
				return fmt.Errorf("insert animateur: %w", err)
			}
		}
		for _, pid := range a.PlanIDs {
			if _, err := tx.NewInsert().Model(&atelierPlan{AtelierID: a.ID, PlanID: pid}).Exec(ctx); err != nil {
				return fmt.Errorf("insert atelier plan: %w", err)
			}
		}
		for i := range sessions {
			if err := s.addSession(ctx, tx, p, a, &sessions[i], i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.Sessions = sessions
	return a, nil
}

// addSession inserts a session and reserves the atelier's resources for it.
func (s *Service) addSession(ctx context.Context, tx bun.Tx, p *identity.Principal, a *Atelier, ss *Session, i int) error {
	if _, err := tx.NewInsert().Model(ss).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	if len(a.ResourceIDs) == 0 {
		return nil
	}
	blocks, err := s.cfg.Calendar.ReserveForAtelier(ctx, tx, p, a.SiteID, a.ResourceIDs, ss.StartsAt, ss.EndsAt, "Atelier : "+a.Title)
	if err != nil {
		var pr *errs.Problem
		if errors.As(err, &pr) && pr.Code == "slot_taken" {
			// Say which session collides, in the field of the request.
			out := errs.Problemf(errs.ErrConflict, "slot_taken", "sessions[%d]: a resource of the atelier is taken then", i)
			out.Extra = map[string]any{"session": i}
			for k, v := range pr.Extra {
				out.Extra[k] = v
			}
			return out
		}
		return err
	}
	for _, b := range blocks {
		if _, err := tx.NewInsert().Model(&sessionBlock{SessionID: ss.ID, ReservationID: b.ID}).Exec(ctx); err != nil {
			return fmt.Errorf("insert session block: %w", err)
		}
	}
	return nil
}

// check validates in and builds the atelier and its sessions.
func (s *Service) check(site *calendar.Site, in NewAtelier) (*Atelier, []Session, error) {
	var v errs.Validator
	title, desc := strings.TrimSpace(in.Title), strings.TrimSpace(strings.ReplaceAll(in.Description, "\r\n", "\n"))
	v.Check(title != "", "title", "is required")
	v.Check(utf8.RuneCountInString(title) <= MaxTitle, "title", "must be at most %d characters", MaxTitle)
	v.Check(utf8.RuneCountInString(desc) <= MaxDesc, "description", "must be at most %d characters", MaxDesc)
	v.Check(id.Valid(in.CategoryID), "category_id", "is required")
	if in.Audience == "" {
		in.Audience = AudiencePublic
	}
	v.Check(in.Audience == AudiencePublic || in.Audience == AudienceMembers || in.Audience == AudienceInvitation,
		"audience", "must be public, members or invitation")
	// "members" means the holders of a membership or pass at the site, and
	// a host place sells none: nobody could ever register.
	v.Check(in.Audience != AudienceMembers || !site.IsHost(), "audience",
		"a host place has no members: open the atelier to all, or by invitation")
	v.Check(in.Seats >= 1 && in.Seats <= MaxSeats, "seats", "must be from 1 to %d", MaxSeats)
	v.Check(in.PriceCents >= 0 && in.PriceCents <= MaxPrice, "price_cents", "must be from 0 to %d", MaxPrice)
	in.Pricing = checkPricing(&v, site, in)
	v.Check(in.QualificationID == "" || id.Valid(in.QualificationID), "qualification_id", "must be a qualification's id")
	v.Check(in.QualificationMonths >= 0 && in.QualificationMonths <= MaxMonths, "qualification_months", "must be from 0 to %d", MaxMonths)
	v.Check(in.QualificationMonths == 0 || in.QualificationID != "", "qualification_months", "needs a qualification_id")
	v.Check(len(in.ResourceIDs) <= MaxResource, "resource_ids", "must be at most %d", MaxResource)
	v.Check(len(in.AnimateurIDs) <= MaxResource, "animateur_ids", "must be at most %d", MaxResource)
	for i, rid := range in.ResourceIDs {
		v.Check(id.Valid(rid), fmt.Sprintf("resource_ids[%d]", i), "must be a resource's id")
	}
	for i, uid := range in.AnimateurIDs {
		v.Check(id.Valid(uid), fmt.Sprintf("animateur_ids[%d]", i), "must be a user's id")
	}
	v.Check(in.RegistrationClosesMinutes >= 0 && in.RegistrationClosesMinutes <= 30*24*60, "registration_closes_minutes", "must be from 0 to %d", 30*24*60)
	v.Check(in.CancelBeforeMinutes >= 0 && in.CancelBeforeMinutes <= 30*24*60, "cancel_before_minutes", "must be from 0 to %d", 30*24*60)
	v.Check(len(in.Sessions) >= 1 && len(in.Sessions) <= MaxSessions, "sessions", "must hold from 1 to %d sessions", MaxSessions)
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	now := s.now()
	a := &Atelier{ID: id.New(), SiteID: site.ID, CategoryID: in.CategoryID, Title: title, Description: desc, Audience: in.Audience,
		Seats: in.Seats, Pricing: in.Pricing, PriceCents: in.PriceCents, CreditCents: in.CreditCents, PlanIDs: dedupe(in.PlanIDs), QualificationMonths: in.QualificationMonths, RegistrationOpensAt: in.RegistrationOpensAt,
		RegistrationClosesMinutes: in.RegistrationClosesMinutes, CancelBeforeMinutes: in.CancelBeforeMinutes, Status: "active",
		CreatedAt: now, UpdatedAt: now, ResourceIDs: dedupe(in.ResourceIDs), AnimateurIDs: dedupe(in.AnimateurIDs)}
	if in.QualificationID != "" {
		a.QualificationID = &in.QualificationID
	}
	sessions, err := s.resolveSessions(site, a.ID, in.Sessions, "sessions")
	if err != nil {
		return nil, nil, err
	}
	return a, sessions, nil
}

// resolveSessions reads dates in the site's zone: a session starts in the
// future, lasts at most a day, and no two of one atelier overlap.
func (s *Service) resolveSessions(site *calendar.Site, atelierID string, in []SessionInput, field string) ([]Session, error) {
	loc := site.Location()
	now := s.now()
	out := make([]Session, 0, len(in))
	for i, si := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		start, err := calendar.ResolveTime(f+".start", si.Start, loc)
		if err != nil {
			return nil, err
		}
		end, err := calendar.ResolveTime(f+".end", si.End, loc)
		if err != nil {
			return nil, err
		}
		var v errs.Validator
		v.Check(end.After(start), f+".end", "must be after start")
		v.Check(end.Sub(start) <= MaxSessionMinutes*time.Minute, f+".end", "a session lasts at most a day")
		v.Check(start.After(now), f+".start", "must be in the future")
		if err := v.Err(); err != nil {
			return nil, err
		}
		out = append(out, Session{ID: id.New(), AtelierID: atelierID, StartsAt: start.UTC(), EndsAt: end.UTC(), Status: "scheduled"})
	}
	slices.SortFunc(out, func(a, b Session) int { return a.StartsAt.Compare(b.StartsAt) })
	for i := 1; i < len(out); i++ {
		if out[i].StartsAt.Before(out[i-1].EndsAt) {
			return nil, errs.Invalid(field, "two sessions of an atelier overlap")
		}
	}
	return out, nil
}

// checkRefs checks, in tx, that the category exists, that the
// qualification is of the atelier's site, and that the animateurs have
// accounts.
func (s *Service) checkRefs(ctx context.Context, tx bun.IDB, a *Atelier) error {
	n, err := tx.NewSelect().Model((*Category)(nil)).Where("id = ?", a.CategoryID).Count(ctx)
	if err != nil {
		return fmt.Errorf("find category: %w", err)
	}
	if n == 0 {
		return errs.Invalid("category_id", "no such category")
	}
	if a.QualificationID != nil {
		site, err := s.cfg.Calendar.QualificationSite(ctx, tx, *a.QualificationID)
		if err != nil || site != a.SiteID {
			return errs.Invalid("qualification_id", "no such qualification at this site")
		}
	}
	if err := s.cfg.Payments.CheckPlans(ctx, tx, "plan_ids", a.PlanIDs); err != nil {
		return err
	}
	if len(a.AnimateurIDs) > 0 {
		people, err := s.cfg.Accounts.People(ctx, tx, a.AnimateurIDs)
		if err != nil {
			return err
		}
		for i, uid := range a.AnimateurIDs {
			if _, ok := people[uid]; !ok {
				return errs.Invalid(fmt.Sprintf("animateur_ids[%d]", i), "no such user")
			}
		}
	}
	return nil
}

func dedupe(ids []string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// load reads an atelier with its resources, animateurs and sessions (with
// their counts).
func (s *Service) load(ctx context.Context, idb bun.IDB, atelierID string) (*Atelier, error) {
	if !id.Valid(atelierID) {
		return nil, errAtelierNotFound
	}
	a := new(Atelier)
	if err := idb.NewSelect().Model(a).Where("id = ?", atelierID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errAtelierNotFound
		}
		return nil, fmt.Errorf("read atelier: %w", err)
	}
	if err := s.fill(ctx, idb, []*Atelier{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// fill reads the resources, animateurs and sessions of as.
func (s *Service) fill(ctx context.Context, idb bun.IDB, as []*Atelier) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[string]*Atelier, len(as))
	ids := make([]string, 0, len(as))
	for _, a := range as {
		byID[a.ID], a.ResourceIDs, a.AnimateurIDs, a.PlanIDs, a.Sessions = a, []string{}, []string{}, []string{}, []Session{}
		ids = append(ids, a.ID)
	}
	var res []atelierResource
	if err := idb.NewSelect().Model(&res).Where("atelier_id IN (?)", bun.In(ids)).Order("resource_id").Scan(ctx); err != nil {
		return fmt.Errorf("read atelier resources: %w", err)
	}
	for _, r := range res {
		byID[r.AtelierID].ResourceIDs = append(byID[r.AtelierID].ResourceIDs, r.ResourceID)
	}
	var an []atelierAnimateur
	if err := idb.NewSelect().Model(&an).Where("atelier_id IN (?)", bun.In(ids)).Order("user_id").Scan(ctx); err != nil {
		return fmt.Errorf("read animateurs: %w", err)
	}
	for _, r := range an {
		byID[r.AtelierID].AnimateurIDs = append(byID[r.AtelierID].AnimateurIDs, r.UserID)
	}
	var plans []atelierPlan
	if err := idb.NewSelect().Model(&plans).Where("atelier_id IN (?)", bun.In(ids)).Order("plan_id").Scan(ctx); err != nil {
		return fmt.Errorf("read atelier plans: %w", err)
	}
	for _, r := range plans {
		byID[r.AtelierID].PlanIDs = append(byID[r.AtelierID].PlanIDs, r.PlanID)
	}
	var ss []Session
	if err := idb.NewSelect().Model(&ss).Where("atelier_id IN (?)", bun.In(ids)).Order("starts_at", "id").Scan(ctx); err != nil {
		return fmt.Errorf("read sessions: %w", err)
	}
	var counts []struct {
		SessionID string `bun:"session_id"`
		Status    string `bun:"status"`
		N         int    `bun:"n"`
	}
	if err := idb.NewSelect().Model((*Registration)(nil)).Column("session_id", "status").ColumnExpr("count(*) AS n").
		Where("atelier_id IN (?) AND status <> ?", bun.In(ids), StatusCancelled).Group("session_id", "status").Scan(ctx, &counts); err != nil {
		return fmt.Errorf("count registrations: %w", err)
	}
	type key struct{ session, status string }
	n := make(map[key]int, len(counts))
	for _, c := range counts {
		n[key{c.SessionID, c.Status}] = c.N
	}
	for _, x := range ss {
		x.StartsAt, x.EndsAt = x.StartsAt.UTC(), x.EndsAt.UTC()
		x.Confirmed, x.Waitlisted = n[key{x.ID, StatusConfirmed}], n[key{x.ID, StatusWaitlisted}]
		byID[x.AtelierID].Sessions = append(byID[x.AtelierID].Sessions, x)
	}
	return nil
}
