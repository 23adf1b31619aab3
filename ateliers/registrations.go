package ateliers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

var (
	errInvitationOnly = errs.Problemf(errs.ErrForbidden, "invitation_only", "this atelier takes only the people its animateurs register")
	errMembersOnly    = errs.Problemf(errs.ErrForbidden, "members_only", "this atelier is for the site's members: a membership or a day pass is needed")
	errNotOpenYet     = errs.Problemf(errs.ErrConflict, "registration_not_open", "registrations for this atelier are not open yet")
	errClosed         = errs.Problemf(errs.ErrConflict, "registration_closed", "registrations for this session are closed")
	errAlready        = errs.Problemf(errs.ErrConflict, "already_registered", "this person is already registered for this session")
	errTooLate        = errs.Problemf(errs.ErrConflict, "cancellation_deadline_passed", "the deadline to cancel this registration has passed: ask the animateur")
	errNotStarted     = errs.Problemf(errs.ErrConflict, "session_not_started", "attendance is taken once the session has started")
	errNotConfirmed   = errs.Problemf(errs.ErrConflict, "registration_not_confirmed", "only a confirmed registration has an attendance")
	errAtelierOver    = errs.Problemf(errs.ErrConflict, "atelier_cancelled", "this atelier is cancelled")
)

// Register registers a person for sessions of an atelier: sessionIDs, or
// every session not started yet. userID "" is the caller themselves, who
// may when the atelier's audience lets them (public: anyone; members: a
// membership or day pass at the site; invitation: no one) and its
// registration window is open; the site's managers register anyone, a
// member or a guest, at any time before the session. Each session takes
// the person if a seat is left, or puts them on its waiting list, in
// order. Under the session's lock, so that 30 people for 10 seats make 10
// confirmed and 20 waiting on either database.
func (s *Service) Register(ctx context.Context, p *identity.Principal, atelierID string, sessionIDs []string, userID string) ([]Registration, error) {
	a, err := s.load(ctx, s.db, atelierID)
	if err != nil {
		return nil, err
	}
	manager := mayRun(p, a.SiteID) == nil
	if !mayRead(p, a) && !manager {
		return nil, errAtelierNotFound
	}
	if a.Status != "active" {
		return nil, errAtelierOver
	}
	now := s.now()
	self := userID == "" || userID == p.UserID
	switch {
	case self && p.IsAPIKey():
		return nil, errs.ErrForbidden
	case self:
		userID = p.UserID
		if !manager {
			if err := s.mayRegisterSelf(ctx, a, userID, now); err != nil {
				return nil, err
			}
		}
	case !manager:
		return nil, errs.ErrForbidden
	}
	if !id.Valid(userID) {
		return nil, errs.Invalid("user_id", "must be a user's id")
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, []string{userID})
	if err != nil {
		return nil, err
	}
	if _, ok := people[userID]; !ok {
		return nil, errs.Invalid("user_id", "no such person")
	}
	if err := s.mayRegisterPriced(ctx, a, userID, now); err != nil {
		return nil, err
	}
	sessions, err := pickSessions(a, sessionIDs, now, manager)
	if err != nil {
		return nil, err
	}
	var out []Registration
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		out = out[:0]
		for _, ss := range sessions {
			r, err := s.registerAt(ctx, tx, p, a, ss, userID, now)
			if err != nil {
				return err
			}
			if r.Status == StatusConfirmed {
				if err := s.tell(ctx, tx, EventRegistrationConfirmed, a, r, ""); err != nil {
					return err
				}
			}
			out = append(out, *r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) mayRegisterSelf(ctx context.Context, a *Atelier, userID string, now time.Time) error {
	switch a.Audience {
	case AudienceInvitation:
		return errInvitationOnly
	case AudienceMembers:
		e, err := s.cfg.Rights.MayEnter(ctx, userID, a.SiteID, now)
		if err != nil {
			return err
		}
		// A membership or pass held, whether or not its door window is
		// open at this minute.
		if !e.Allowed && e.Code != "outside_door_window" && e.Code != "no_door_access" {
			return errMembersOnly
		}
	}
	if a.RegistrationOpensAt != nil && now.Before(*a.RegistrationOpensAt) {
		return errNotOpenYet
	}
	return nil
}

// pickSessions are the sessions asked, or all those not started; each must
// be scheduled and still take registrations (managers: until it starts).
func pickSessions(a *Atelier, ids []string, now time.Time, manager bool) ([]Session, error) {
	closes := func(ss Session) time.Time {
		if manager {
			return ss.StartsAt
		}
		return ss.StartsAt.Add(-time.Duration(a.RegistrationClosesMinutes) * time.Minute)
	}
	var out []Session
	if len(ids) == 0 {
		for _, ss := range a.Sessions {
			if ss.Status == "scheduled" && now.Before(closes(ss)) {
				out = append(out, ss)
			}
		}
		if len(out) == 0 {
			return nil, errClosed
		}
		return out, nil
	}
	if len(ids) > MaxSessions {
		return nil, errs.Invalid("session_ids", "must be at most %d", MaxSessions)
	}
	for i, sid := range dedupe(ids) {
		j := slices.IndexFunc(a.Sessions, func(ss Session) bool { return ss.ID == sid })
		if j < 0 {
			return nil, errs.Invalid(fmt.Sprintf("session_ids[%d]", i), "no such session of this atelier")
		}
		ss := a.Sessions[j]
		if ss.Status != "scheduled" || !now.Before(closes(ss)) {
			return nil, errClosed
		}
		out = append(out, ss)
	}
	return out, nil
}

// lockSession takes a session's row lock (PostgreSQL; SQLite's write lock
// is held already) and reads it afresh.
func lockSession(ctx context.Context, tx bun.IDB, sessionID string) (*Session, error) {
	ss := new(Session)
	if err := db.ForUpdate(tx.NewSelect().Model(ss).Where("id = ?", sessionID)).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errSessionNotFound
		}
		return nil, fmt.Errorf("lock session: %w", err)
	}
	return ss, nil
}

func (s *Service) registerAt(ctx context.Context, tx bun.Tx, p *identity.Principal, a *Atelier, at Session, userID string, now time.Time) (*Registration, error) {
	ss, err := lockSession(ctx, tx, at.ID)
	if err != nil {
		return nil, err
	}
	if ss.Status != "scheduled" {
		return nil, errClosed
	}
	live, err := tx.NewSelect().Model((*Registration)(nil)).Where("session_id = ? AND user_id = ? AND status <> ?", ss.ID, userID, StatusCancelled).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("find registration: %w", err)
	}
	if live > 0 {
		return nil, errAlready
	}
	confirmed, err := tx.NewSelect().Model((*Registration)(nil)).Where("session_id = ? AND status = ?", ss.ID, StatusConfirmed).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count registrations: %w", err)
	}
	r := &Registration{ID: id.New(), AtelierID: a.ID, SessionID: ss.ID, UserID: userID, Status: StatusConfirmed, CreatedAt: now}
	if confirmed >= a.Seats {
		r.Status = StatusWaitlisted
	}
	if p.UserID != "" && !p.IsAPIKey() {
		r.CreatedBy = &p.UserID
	}
	if _, err := tx.NewInsert().Model(r).Exec(ctx); err != nil {
		if db.IsUnique(err) {
			return nil, errAlready
		}
		return nil, fmt.Errorf("insert registration: %w", err)
	}
	if r.Status == StatusConfirmed {
		paid, err := s.payForSeat(ctx, tx, a, ss, r)
		if err != nil {
			return nil, err
		}
		if !paid {
			return nil, errNotEnoughCredit
		}
	}
	return r, nil
}

// loadRegistration reads a registration, its atelier and its session.
func (s *Service) loadRegistration(ctx context.Context, idb bun.IDB, regID string) (*Registration, *Atelier, *Session, error) {
	if !id.Valid(regID) {
		return nil, nil, nil, errRegistrationNotFound
	}
	r := new(Registration)
	if err := idb.NewSelect().Model(r).Where("id = ?", regID).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, nil, errRegistrationNotFound
		}
		return nil, nil, nil, fmt.Errorf("read registration: %w", err)
	}
	a, err := s.load(ctx, idb, r.AtelierID)
	if err != nil {
		return nil, nil, nil, err
	}
	i := slices.IndexFunc(a.Sessions, func(ss Session) bool { return ss.ID == r.SessionID })
	return r, a, &a.Sessions[i], nil
}

// Cancel cancels a registration: the person themselves until the
// atelier's deadline before the session, the site's managers at any
// time. A confirmed seat freed before the session goes to the first on its
// waiting list, in the same transaction.
func (s *Service) Cancel(ctx context.Context, p *identity.Principal, regID string) (*Registration, error) {
	r, a, ss, err := s.loadRegistration(ctx, s.db, regID)
	if err != nil {
		return nil, err
	}
	manager := mayRun(p, a.SiteID) == nil
	if !manager && (p.IsAPIKey() || p.UserID != r.UserID) {
		return nil, errRegistrationNotFound
	}
	now := s.now()
	if !manager && !now.Before(ss.StartsAt.Add(-time.Duration(a.CancelBeforeMinutes)*time.Minute)) {
		return nil, errTooLate
	}
	var out *Registration
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := lockSession(ctx, tx, ss.ID); err != nil {
			return err
		}
		cur := new(Registration)
		if err := tx.NewSelect().Model(cur).Where("id = ?", regID).Scan(ctx); err != nil {
			return fmt.Errorf("read registration: %w", err)
		}
		out = cur
		if cur.Status == StatusCancelled {
			return nil // cancelling twice changes nothing
		}
		wasConfirmed := cur.Status == StatusConfirmed
		cur.Status, cur.CancelledAt = StatusCancelled, &now
		if _, err := tx.NewUpdate().Model(cur).Column("status", "cancelled_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel registration: %w", err)
		}
		if wasConfirmed && now.Before(ss.StartsAt.Add(-time.Duration(a.CancelBeforeMinutes)*time.Minute)) {
			// In time: what the seat paid comes back (pricing.go).
			if err := s.giveBack(ctx, tx, a, cur); err != nil {
				return err
			}
		}
		if wasConfirmed {
			if err := s.tell(ctx, tx, EventRegistrationCancelled, a, cur, ""); err != nil {
				return err
			}
		}
		if wasConfirmed && now.Before(ss.StartsAt) {
			return s.promote(ctx, tx, a, ss, now)
		}
		return nil
	})
	return out, err
}

// promote confirms the first on the session's waiting list, if a seat is
// free.
// A seat is paid at promotion (pricing.go): whoever's credit falls short
// by then is passed over and stays waiting.
func (s *Service) promote(ctx context.Context, tx bun.Tx, a *Atelier, ss *Session, now time.Time) error {
	confirmed, err := tx.NewSelect().Model((*Registration)(nil)).Where("session_id = ? AND status = ?", ss.ID, StatusConfirmed).Count(ctx)
	if err != nil {
		return fmt.Errorf("count registrations: %w", err)
	}
	if confirmed >= a.Seats {
		return nil
	}
	q := tx.NewSelect().Model((*Registration)(nil)).Where("session_id = ? AND status = ?", ss.ID, StatusWaitlisted).Order("created_at", "id")
	if a.Pricing != PricingCredits {
		q = q.Limit(a.Seats - confirmed) // everyone promoted pays, or owes
	}
	var next []Registration
	if err := q.Scan(ctx, &next); err != nil {
		return fmt.Errorf("read waiting list: %w", err)
	}
	for i := range next {
		if confirmed >= a.Seats {
			break
		}
		paid, err := s.payForSeat(ctx, tx, a, ss, &next[i])
		if err != nil {
			return err
		}
		if !paid {
			continue
		}
		next[i].Status, next[i].PromotedAt = StatusConfirmed, &now
		if _, err := tx.NewUpdate().Model(&next[i]).Column("status", "promoted_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("promote: %w", err)
		}
		if err := s.tell(ctx, tx, EventRegistrationPromoted, a, &next[i], ""); err != nil {
			return err
		}
		confirmed++
	}
	return nil
}

// SetAttendance records whether a confirmed participant came, once the
// session has started: the site's managers and the atelier's animateurs.
// Marking present at a training that teaches a qualification grants it,
// from now, for the atelier's qualification_months, recorded as granted by
// whoever marked them.
func (s *Service) SetAttendance(ctx context.Context, p *identity.Principal, regID, attendance string) (*Registration, error) {
	if attendance != Present && attendance != Absent && attendance != Excused {
		return nil, errs.Invalid("attendance", "must be present, absent or excused")
	}
	r, a, ss, err := s.loadRegistration(ctx, s.db, regID)
	if err != nil {
		return nil, err
	}
	if !mayTakeAttendance(p, a) {
		if p.UserID == r.UserID || mayRead(p, a) {
			return nil, errs.ErrForbidden
		}
		return nil, errRegistrationNotFound
	}
	now := s.now()
	if now.Before(ss.StartsAt) {
		return nil, errNotStarted
	}
	if r.Status != StatusConfirmed {
		return nil, errNotConfirmed
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		by := p.UserID
		r.Attendance, r.AttendanceAt = &attendance, &now
		r.AttendanceBy = nil
		if by != "" {
			r.AttendanceBy = &by
		}
		res, err := tx.NewUpdate().Model(r).Column("attendance", "attendance_by", "attendance_at").WherePK().
			Where("status = ?", StatusConfirmed).Exec(ctx)
		if err != nil {
			return fmt.Errorf("record attendance: %w", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errNotConfirmed
		}
		if attendance != Present || a.QualificationID == nil {
			return nil
		}
		var expires *time.Time
		if a.QualificationMonths > 0 {
			e := now.AddDate(0, a.QualificationMonths, 0)
			expires = &e
		}
		return s.cfg.Calendar.GrantOnAttendance(ctx, tx, *a.QualificationID, r.UserID, by, now, expires)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Registrations lists an atelier's registrations with the people's names
// (all sessions, or one): the site's managers and the animateurs.
func (s *Service) Registrations(ctx context.Context, p *identity.Principal, atelierID, sessionID string) ([]Registration, error) {
	a, err := s.load(ctx, s.db, atelierID)
	if err != nil {
		return nil, err
	}
	if !seesAll(p, a) {
		if mayRead(p, a) {
			return nil, errs.ErrForbidden
		}
		return nil, errAtelierNotFound
	}
	q := s.db.NewSelect().Model((*Registration)(nil)).Where("atelier_id = ?", a.ID)
	if sessionID != "" {
		q = q.Where("session_id = ?", sessionID)
	}
	var out []Registration
	if err := q.Order("session_id", "status", "created_at", "id").Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("list registrations: %w", err)
	}
	ids := make([]string, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.UserID)
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, dedupe(ids))
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Name = people[out[i].UserID].Name
	}
	return out, nil
}

// MyRegistrations lists the caller's registrations not cancelled, for
// sessions not over.
func (s *Service) MyRegistrations(ctx context.Context, p *identity.Principal) ([]Registration, error) {
	if err := identity.MayActAsMe(p); err != nil {
		return nil, err
	}
	var out []Registration
	if err := s.db.NewSelect().Model(&out).Where("user_id = ? AND status <> ?", p.UserID, StatusCancelled).
		Where("session_id IN (SELECT id FROM atelier_sessions WHERE ends_at > ?)", s.now()).
		Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list my registrations: %w", err)
	}
	if err := s.positions(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CancelSession cancels a session (the site's managers): its resources are
// released through the calendar and its registrations cancelled, in one
// transaction.
func (s *Service) CancelSession(ctx context.Context, p *identity.Principal, atelierID, sessionID, reason string) (*Session, error) {
	a, err := s.load(ctx, s.db, atelierID)
	if err != nil {
		return nil, err
	}
	if err := mayRun(p, a.SiteID); err != nil {
		if mayRead(p, a) {
			return nil, err
		}
		return nil, errAtelierNotFound
	}
	if !slices.ContainsFunc(a.Sessions, func(ss Session) bool { return ss.ID == sessionID }) {
		return nil, errSessionNotFound
	}
	now := s.now()
	var out *Session
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		ss, err := lockSession(ctx, tx, sessionID)
		if err != nil {
			return err
		}
		out = ss
		if ss.Status == "cancelled" {
			return nil
		}
		if !now.Before(ss.EndsAt) {
			return errs.Problemf(errs.ErrConflict, "session_over", "this session is over")
		}
		ss.Status, ss.CancelledAt = "cancelled", &now
		if _, err := tx.NewUpdate().Model(ss).Column("status", "cancelled_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel session: %w", err)
		}
		// Those who held a seat are told (with the animateur's reason), and
		// what each paid comes back: the site cancels.
		var seated []Registration
		if err := tx.NewSelect().Model(&seated).Where("session_id = ? AND status = ?", sessionID, StatusConfirmed).Order("id").Scan(ctx); err != nil {
			return fmt.Errorf("read seated: %w", err)
		}
		for i := range seated {
			if a.Pricing == PricingPrice || a.Pricing == PricingCredits {
				if err := s.giveBack(ctx, tx, a, &seated[i]); err != nil {
					return err
				}
			}
			if err := s.tell(ctx, tx, EventRegistrationCancelled, a, &seated[i], reason); err != nil {
				return err
			}
		}
		if _, err := tx.NewUpdate().Model((*Registration)(nil)).Set("status = ?, cancelled_at = ?", StatusCancelled, now).
			Where("session_id = ? AND status <> ?", sessionID, StatusCancelled).Exec(ctx); err != nil {
			return fmt.Errorf("cancel registrations: %w", err)
		}
		var blocks []string
		if err := tx.NewSelect().Model((*sessionBlock)(nil)).Column("reservation_id").Where("session_id = ?", sessionID).Scan(ctx, &blocks); err != nil {
			return fmt.Errorf("read session blocks: %w", err)
		}
		return s.cfg.Calendar.ReleaseForAtelier(ctx, tx, p.UserID, blocks, strings.TrimSpace("Atelier annulé. "+reason))
	})
	return out, err
}
