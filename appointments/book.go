package appointments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

var (
	errSlotTaken      = errs.Problemf(errs.ErrConflict, "slot_taken", "this slot has just been booked: choose another")
	errCancelled      = errs.Problemf(errs.ErrConflict, "appointment_cancelled", "this appointment is cancelled")
	errStarted        = errs.Problemf(errs.ErrConflict, "appointment_started", "this appointment has started: record its outcome instead")
	errNotStarted     = errs.Problemf(errs.ErrConflict, "appointment_not_started", "the outcome is recorded once the appointment has started")
	errPartnerClosed  = errs.Problemf(errs.ErrConflict, "partner_inactive", "this partner takes no appointments for now")
	errOtherPartner   = errs.Invalid("window_id", "a window of the same partner is needed to move an appointment")
	errNotAWindowSlot = errs.Invalid("start", "is not a free slot of this window")
)

// NewAppointment is a booking: a slot (a window and its start, an RFC 3339
// instant or the site's wall clock) with a purpose of the partner, for the
// caller (UserID "") or, by the site's managers, for a member or a guest.
type NewAppointment struct {
	WindowID, Start, PurposeID, UserID string
}

// slotOf resolves start in the window's site and checks it is one of the
// window's slots, not started.
func (s *Service) slotOf(ctx context.Context, w *Window, start string) (Slot, error) {
	site, err := s.cfg.Calendar.GetSite(ctx, w.SiteID)
	if err != nil {
		return Slot{}, err
	}
	loc := site.Location()
	t, err := calendar.ResolveTime("start", start, loc)
	if err != nil {
		return Slot{}, err
	}
	if !t.After(s.now()) {
		return Slot{}, errs.Invalid("start", "must be in the future")
	}
	for _, sl := range w.slotsOn(loc, t.In(loc)) {
		if sl.Start.Equal(t) {
			return sl, nil
		}
	}
	return Slot{}, errNotAWindowSlot
}

// Book books a slot. The resource is reserved through the calendar as a
// block and the appointment inserted in one transaction: a slot taken — by
// another appointment, a booking or an atelier — is a 409 slot_taken and
// nothing is written. Two residents racing for one slot: the calendar's
// lock of the resource queues them, and the unique index on (window,
// start) of live appointments is the last word, so exactly one wins on
// either database.
func (s *Service) Book(ctx context.Context, p *identity.Principal, in NewAppointment) (*Appointment, error) {
	if p == nil || p.IsAPIKey() || p.UserID == "" {
		return nil, errs.ErrForbidden
	}
	var v errs.Validator
	v.Check(id.Valid(in.WindowID), "window_id", "must be a window's id")
	v.Check(in.Start != "", "start", "is required")
	v.Check(in.PurposeID != "", "purpose_id", "is required")
	v.Check(in.UserID == "" || id.Valid(in.UserID), "user_id", "must be a user's id")
	if err := v.Err(); err != nil {
		return nil, err
	}
	w, err := s.loadWindow(ctx, s.db, "", in.WindowID)
	if err != nil || w.Status != "open" {
		return nil, errs.Invalid("window_id", "no such open window")
	}
	pt, err := s.loadPartner(ctx, s.db, w.PartnerID)
	if err != nil {
		return nil, err
	}
	if !pt.Active {
		return nil, errPartnerClosed
	}
	userID := in.UserID
	if userID == "" || userID == p.UserID {
		userID = p.UserID
	} else if !managesSite(p, w.SiteID) {
		return nil, errs.ErrForbidden
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, []string{userID})
	if err != nil {
		return nil, err
	}
	if _, ok := people[userID]; !ok {
		return nil, errs.Invalid("user_id", "no such person")
	}
	var purpose *Purpose
	for i := range pt.Purposes {
		if pt.Purposes[i].ID == in.PurposeID {
			purpose = &pt.Purposes[i]
		}
	}
	if purpose == nil {
		return nil, errs.Invalid("purpose_id", "no such purpose of this partner")
	}
	sl, err := s.slotOf(ctx, w, in.Start)
	if err != nil {
		return nil, err
	}
	a := &Appointment{ID: id.New(), PartnerID: pt.ID, WindowID: w.ID, SiteID: w.SiteID, ResourceID: w.ResourceID, UserID: userID,
		AgentID: w.AgentID, PurposeID: purpose.ID, Purpose: purpose.Name, Checklist: purpose.Documents, StartsAt: sl.Start, EndsAt: sl.End,
		Status: StatusConfirmed, CreatedBy: &p.UserID, CreatedAt: s.now()}
	if a.Checklist == nil {
		a.Checklist = []string{}
	}
	if a.VideoURL, err = s.videoURL(ctx, pt, w, nil); err != nil {
		return nil, err
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		r, err := s.cfg.Calendar.ReserveForAppointment(ctx, tx, p.UserID, w.SiteID, w.ResourceID, sl.Start, sl.End, "Rendez-vous : "+pt.Name)
		if err != nil {
			return err
		}
		a.ReservationID = &r.ID
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			if db.IsUnique(err) {
				return errSlotTaken
			}
			return fmt.Errorf("insert appointment: %w", err)
		}
		return s.tell(ctx, tx, EventAppointmentBooked, a, "")
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// videoURL is the link the appointment carries: a room of its own under
// the partner's base for VideoGenerated (kept is the one it already has,
// when it moves), the window's agent's fixed room for VideoAgentRoom.
func (s *Service) videoURL(ctx context.Context, pt *Partner, w *Window, kept *string) (*string, error) {
	if pt.VideoMode == VideoGenerated && pt.VideoBaseURL != nil {
		if kept != nil && strings.HasPrefix(*kept, *pt.VideoBaseURL) {
			return kept, nil
		}
		room := newRoomURL(*pt.VideoBaseURL)
		return &room, nil
	}
	if pt.VideoMode != VideoAgentRoom || w.AgentID == nil {
		return nil, nil
	}
	ag := new(Agent)
	err := s.db.NewSelect().Model(ag).Where("partner_id = ? AND user_id = ?", pt.ID, *w.AgentID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read agent: %w", err)
	}
	return ag.VideoURL, nil
}

func (s *Service) load(ctx context.Context, idb bun.IDB, appointmentID string, lock bool) (*Appointment, error) {
	if !id.Valid(appointmentID) {
		return nil, errAppointmentNotFound
	}
	a := new(Appointment)
	q := idb.NewSelect().Model(a).Where("id = ?", appointmentID)
	if lock {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errAppointmentNotFound
		}
		return nil, fmt.Errorf("read appointment: %w", err)
	}
	a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
	return a, nil
}

// View is an appointment as its reader may see it: the outcome's note is
// the partner's only.
type View struct {
	*Appointment
	ShowNote bool
	// Name is the resident's, for the partner's agents and the site's
	// managers (who they meet), "" for the resident themselves.
	Name string
}

// name fills the residents' names of vs, for those who meet them.
func (s *Service) name(ctx context.Context, vs []View) error {
	ids := make([]string, 0, len(vs))
	for _, v := range vs {
		ids = append(ids, v.UserID)
	}
	people, err := s.cfg.Accounts.People(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for i := range vs {
		vs[i].Name = people[vs[i].UserID].Name
	}
	return nil
}

func (s *Service) view(ctx context.Context, p *identity.Principal, a *Appointment) (View, appointmentRole, error) {
	role, err := s.roleOn(ctx, p, a)
	if err != nil {
		return View{}, role, err
	}
	if !role.any() {
		return View{}, role, errAppointmentNotFound
	}
	return View{Appointment: a, ShowNote: role.agent}, role, nil
}

// Get reads an appointment: its resident, the site's managers and the
// partner's agents; others are told there is none.
func (s *Service) Get(ctx context.Context, p *identity.Principal, appointmentID string) (View, error) {
	a, err := s.load(ctx, s.db, appointmentID, false)
	if err != nil {
		return View{}, err
	}
	v, role, err := s.view(ctx, p, a)
	if err != nil || !(role.agent || role.manager) {
		return v, err
	}
	vs := []View{v}
	err = s.name(ctx, vs)
	return vs[0], err
}

// Cancel cancels an appointment not started, by any side (the resident,
// the site's managers, the partner's agents), and frees the resource.
func (s *Service) Cancel(ctx context.Context, p *identity.Principal, appointmentID, reason string) (View, error) {
	a, err := s.load(ctx, s.db, appointmentID, false)
	if err != nil {
		return View{}, err
	}
	v, _, err := s.view(ctx, p, a)
	if err != nil {
		return View{}, err
	}
	if utf8.RuneCountInString(reason) > MaxNote {
		return View{}, errs.Invalid("reason", "must be at most %d characters", MaxNote)
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		cur, err := s.load(ctx, tx, a.ID, true)
		if err != nil {
			return err
		}
		if cur.Status != StatusConfirmed {
			return errCancelled
		}
		if !cur.StartsAt.After(s.now()) {
			return errStarted
		}
		if cur.ReservationID != nil {
			if err := s.cfg.Calendar.ReleaseForAppointment(ctx, tx, p.UserID, *cur.ReservationID, strings.TrimSpace("Rendez-vous annulé "+reason)); err != nil {
				return err
			}
		}
		now := s.now()
		cur.Status, cur.CancelledAt, cur.CancelledBy = StatusCancelled, &now, &p.UserID
		cur.Sequence++
		if _, err := tx.NewUpdate().Model(cur).Column("status", "cancelled_at", "cancelled_by", "sequence").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel appointment: %w", err)
		}
		v.Appointment = cur
		return s.tell(ctx, tx, EventAppointmentCancelled, cur, strings.TrimSpace(reason))
	})
	if err != nil {
		return View{}, err
	}
	return v, nil
}

// Reschedule moves an appointment not started to another slot of the same
// partner (windowID "" is its own window), by any side: in one
// transaction the old block is released and the new one reserved, so a
// slot taken leaves the appointment where it was.
func (s *Service) Reschedule(ctx context.Context, p *identity.Principal, appointmentID, windowID, start string) (View, error) {
	a, err := s.load(ctx, s.db, appointmentID, false)
	if err != nil {
		return View{}, err
	}
	v, role, err := s.view(ctx, p, a)
	if err != nil {
		return View{}, err
	}
	if windowID == "" {
		windowID = a.WindowID
	}
	if !id.Valid(windowID) {
		return View{}, errs.Invalid("window_id", "must be a window's id")
	}
	if start == "" {
		return View{}, errs.Invalid("start", "is required")
	}
	w, err := s.loadWindow(ctx, s.db, "", windowID)
	if err != nil || w.Status != "open" {
		return View{}, errs.Invalid("window_id", "no such open window")
	}
	if w.PartnerID != a.PartnerID {
		return View{}, errOtherPartner
	}
	if !role.resident && !role.agent && !managesSite(p, w.SiteID) {
		// A site's manager moves an appointment only to their own sites.
		return View{}, errs.ErrForbidden
	}
	pt, err := s.loadPartner(ctx, s.db, w.PartnerID)
	if err != nil {
		return View{}, err
	}
	sl, err := s.slotOf(ctx, w, start)
	if err != nil {
		return View{}, err
	}
	video, err := s.videoURL(ctx, pt, w, a.VideoURL)
	if err != nil {
		return View{}, err
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		cur, err := s.load(ctx, tx, a.ID, true)
		if err != nil {
			return err
		}
		if cur.Status != StatusConfirmed {
			return errCancelled
		}
		if !cur.StartsAt.After(s.now()) {
			return errStarted
		}
		if cur.ReservationID != nil {
			if err := s.cfg.Calendar.ReleaseForAppointment(ctx, tx, p.UserID, *cur.ReservationID, "Rendez-vous déplacé"); err != nil {
				return err
			}
		}
		r, err := s.cfg.Calendar.ReserveForAppointment(ctx, tx, p.UserID, w.SiteID, w.ResourceID, sl.Start, sl.End, "Rendez-vous : "+pt.Name)
		if err != nil {
			return err
		}
		cur.WindowID, cur.SiteID, cur.ResourceID, cur.AgentID, cur.VideoURL = w.ID, w.SiteID, w.ResourceID, w.AgentID, video
		cur.StartsAt, cur.EndsAt, cur.ReservationID = sl.Start, sl.End, &r.ID
		cur.Sequence++
		if _, err := tx.NewUpdate().Model(cur).Column("window_id", "site_id", "resource_id", "agent_id", "video_url", "starts_at", "ends_at", "reservation_id", "sequence").
			WherePK().Exec(ctx); err != nil {
			if db.IsUnique(err) {
				return errSlotTaken
			}
			return fmt.Errorf("move appointment: %w", err)
		}
		v.Appointment = cur
		return s.tell(ctx, tx, EventAppointmentMoved, cur, "")
	})
	if err != nil {
		return View{}, err
	}
	return v, nil
}

// SetOutcome records, once the appointment has started, whether it was
// held, the resident did not come, or it is to be followed up, with a
// short note that only the partner's agents read: by the partner's agents
// and the site's managers (the animateur at the booth).
func (s *Service) SetOutcome(ctx context.Context, p *identity.Principal, appointmentID, outcome string, note *string) (View, error) {
	a, err := s.load(ctx, s.db, appointmentID, false)
	if err != nil {
		return View{}, err
	}
	v, role, err := s.view(ctx, p, a)
	if err != nil {
		return View{}, err
	}
	if !role.agent && !role.manager {
		return View{}, errs.ErrForbidden
	}
	var val errs.Validator
	val.Check(outcome == OutcomeHeld || outcome == OutcomeNoShow || outcome == OutcomeFollowUp, "outcome", "must be held, no_show or follow_up")
	if note != nil {
		*note = strings.TrimSpace(*note)
		val.Check(utf8.RuneCountInString(*note) <= MaxNote, "note", "must be at most %d characters", MaxNote)
	}
	if err := val.Err(); err != nil {
		return View{}, err
	}
	if a.Status != StatusConfirmed {
		return View{}, errCancelled
	}
	now := s.now()
	if a.StartsAt.After(now) {
		return View{}, errNotStarted
	}
	a.Outcome, a.OutcomeBy, a.OutcomeAt = &outcome, &p.UserID, &now
	cols := []string{"outcome", "outcome_by", "outcome_at"}
	if note != nil {
		a.OutcomeNote = note
		if *note == "" {
			a.OutcomeNote = nil
		}
		cols = append(cols, "outcome_note")
	}
	if _, err := s.db.NewUpdate().Model(a).Column(cols...).WherePK().Exec(ctx); err != nil {
		return View{}, fmt.Errorf("record outcome: %w", err)
	}
	return v, nil
}

// Day is a partner's appointments on a date (each read in its site's
// zone), by start: for its agents and the admins all of them, for a
// site's managers those at their sites. Anyone else — an agent of another
// partner included — is told the partner does not exist.
func (s *Service) Day(ctx context.Context, p *identity.Principal, partnerID, date string) ([]View, error) {
	pt, err := s.loadPartner(ctx, s.db, partnerID)
	if err != nil {
		return nil, err
	}
	agent, err := s.isAgent(ctx, s.db, p, pt.ID)
	if err != nil {
		return nil, err
	}
	all := agent || (p.IsAdmin() || p.IsSystem())
	if !all && (p == nil || p.IsAPIKey() || len(p.ManagedSites) == 0) {
		return nil, errPartnerNotFound
	}
	d, err := time.Parse(dateLayout, date)
	if err != nil {
		return nil, errs.Invalid("date", "must be a date such as 2026-03-03")
	}
	var as []Appointment
	if err := s.db.NewSelect().Model(&as).Where("partner_id = ? AND starts_at >= ? AND starts_at < ?", pt.ID, d.Add(-24*time.Hour), d.Add(48*time.Hour)).
		Order("starts_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	sites := map[string]*time.Location{}
	out := []View{}
	for i := range as {
		a := &as[i]
		if !all && !managesSite(p, a.SiteID) {
			continue
		}
		loc, ok := sites[a.SiteID]
		if !ok {
			site, err := s.cfg.Calendar.GetSite(ctx, a.SiteID)
			if err != nil {
				return nil, err
			}
			loc = site.Location()
			sites[a.SiteID] = loc
		}
		if a.StartsAt.In(loc).Format(dateLayout) == date {
			a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
			out = append(out, View{Appointment: a, ShowNote: agent})
		}
	}
	if err := s.name(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// MaxMine bounds a resident's list.
const MaxMine = 200

// Mine lists the caller's appointments, those to come first (by start),
// then the past ones (latest first), at most MaxMine: the resident's own
// view, without the partner's notes.
func (s *Service) Mine(ctx context.Context, p *identity.Principal) ([]View, error) {
	if p == nil || p.IsAPIKey() || p.UserID == "" {
		return nil, errs.ErrForbidden
	}
	now := s.now()
	var next, past []Appointment
	if err := s.db.NewSelect().Model(&next).Where("user_id = ? AND ends_at > ?", p.UserID, now).Order("starts_at", "id").Limit(MaxMine).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	if err := s.db.NewSelect().Model(&past).Where("user_id = ? AND ends_at <= ?", p.UserID, now).OrderExpr("starts_at DESC, id").Limit(MaxMine - len(next)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	out := make([]View, 0, len(next)+len(past))
	for _, list := range [][]Appointment{next, past} {
		for i := range list {
			a := &list[i]
			a.StartsAt, a.EndsAt = a.StartsAt.UTC(), a.EndsAt.UTC()
			out = append(out, View{Appointment: a})
		}
	}
	return out, nil
}
