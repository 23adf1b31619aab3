package calendar

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Waiting-list statuses.
const (
	WaitWaiting   = "waiting"   // in line
	WaitOffered   = "offered"   // the slot is held for them until OfferExpiresAt
	WaitBooked    = "booked"    // they got it
	WaitExpired   = "expired"   // the offer lapsed
	WaitCancelled = "cancelled" // they left the line
)

// DefaultOfferTTL is how long a freed slot is held for the first in line.
const DefaultOfferTTL = 2 * time.Hour

// WaitlistEntry is a member queueing for a taken slot.
type WaitlistEntry struct {
	bun.BaseModel `bun:"table:waitlist_entries,alias:wl"`

	ID             string     `bun:"id,pk"`
	ResourceID     string     `bun:"resource_id"`
	UserID         string     `bun:"user_id"`
	StartsAt       time.Time  `bun:"starts_at"`
	EndsAt         time.Time  `bun:"ends_at"`
	Seats          int        `bun:"seats"`
	AutoBook       bool       `bun:"auto_book"`
	Status         string     `bun:"status"`
	ReservationID  *string    `bun:"reservation_id"`
	OfferExpiresAt *time.Time `bun:"offer_expires_at"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// OfferExpiryArgs is the durable job that ends an unanswered offer and
// passes the slot to the next in line.
type OfferExpiryArgs struct {
	EntryID string `json:"entry_id"`
}

// Kind names the job in river_job.
func (OfferExpiryArgs) Kind() string { return "calendar.offer_expiry" }

type offerExpiryWorker struct {
	river.WorkerDefaults[OfferExpiryArgs]
	svc *Service
}

func (w *offerExpiryWorker) Work(ctx context.Context, job *river.Job[OfferExpiryArgs]) error {
	return w.svc.ExpireOffer(ctx, job.Args.EntryID)
}

// AddWorkers registers the calendar's job kinds.
func (svc *Service) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &offerExpiryWorker{svc: svc}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &releaseWorker{svc: svc})
}

// JoinWaitlist queues userID for a slot that is taken now. With autoBook the
// slot is booked for them as soon as it frees (if they may book it then);
// otherwise it is held for them for the offer time.
// b.By is the member (see authorizeWaitlist); b.UserID is ignored.
func (svc *Service) JoinWaitlist(ctx context.Context, b Booking, autoBook bool) (*WaitlistEntry, error) {
	if b.By.IsAPIKey() {
		return nil, errMembersWait
	}
	var out *WaitlistEntry
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		// Lapsed holds are ended below: a write of the resource's reservations.
		if err := lockResource(ctx, tx, b.ResourceID); err != nil {
			return err
		}
		res, err := getResource(ctx, tx, b.ResourceID, true)
		if errors.Is(err, errs.ErrNotFound) {
			return errNoSuchResource()
		}
		if err != nil {
			return err
		}
		if err := authorizeWaitlist(res, &b); err != nil {
			return err
		}
		site, err := getSite(ctx, tx, res.SiteID)
		if err != nil {
			return err
		}
		if err := svc.expireOverdueHolds(ctx, tx, res); err != nil {
			return err
		}
		s, err := svc.checkSlot(ctx, tx, res, site, b)
		if err != nil {
			return err
		}
		if err := svc.checkFree(ctx, tx, s, ""); err == nil {
			return errs.Rule("start", "slot_available", "this slot is free: book it instead")
		} else if !errors.Is(err, errs.ErrConflict) {
			return err
		}
		n, err := tx.NewSelect().Model((*WaitlistEntry)(nil)).
			Where("resource_id = ? AND user_id = ? AND starts_at = ? AND ends_at = ? AND status IN (?)",
				res.ID, b.UserID, s.start, s.end, bun.In([]string{WaitWaiting, WaitOffered})).Count(ctx)
		if err != nil {
			return fmt.Errorf("count waitlist entries: %w", err)
		}
		if n > 0 {
			return &errs.Problem{Kind: errs.ErrConflict, Code: "already_waiting", Detail: "you are already in line for this slot"}
		}
		now := svc.now()
		out = &WaitlistEntry{ID: id.New(), ResourceID: res.ID, UserID: b.UserID, StartsAt: s.start, EndsAt: s.end,
			Seats: s.seats, AutoBook: autoBook, Status: WaitWaiting, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(out).Exec(ctx); err != nil {
			return fmt.Errorf("insert waitlist entry: %w", err)
		}
		return nil
	})
	return out, err
}

var errEntryNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "waitlist_entry_not_found", Detail: "no such waiting-list entry"}

// GetWaitlistEntry returns one of p's entries (see ownsEntry).
func (svc *Service) GetWaitlistEntry(ctx context.Context, p *identity.Principal, entryID string) (*WaitlistEntry, error) {
	e, err := svc.getWaitlistEntry(ctx, entryID)
	if err != nil {
		return nil, err
	}
	if err := ownsEntry(p, e); err != nil {
		return nil, err
	}
	return e, nil
}

// getWaitlistEntry reads an entry, whoever's it is.
func (svc *Service) getWaitlistEntry(ctx context.Context, entryID string) (*WaitlistEntry, error) {
	if !id.Valid(entryID) {
		return nil, errEntryNotFound
	}
	var e WaitlistEntry
	if err := svc.db.NewSelect().Model(&e).Where("id = ?", entryID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errEntryNotFound
		}
		return nil, fmt.Errorf("get waitlist entry: %w", err)
	}
	return &e, nil
}

// ListWaitlist returns p's entries still in play, soonest slot first. An
// API key, which waits in no line, has none.
func (svc *Service) ListWaitlist(ctx context.Context, p *identity.Principal) ([]WaitlistEntry, error) {
	es := []WaitlistEntry{}
	if p == nil || p.IsAPIKey() {
		return es, nil
	}
	err := svc.db.NewSelect().Model(&es).Where("user_id = ? AND ends_at > ?", p.UserID, svc.now()).
		Order("starts_at", "created_at").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list waitlist: %w", err)
	}
	return es, nil
}

// LeaveWaitlist takes p out of the line of one of their entries; an offer
// they hold is released to the next in line.
func (svc *Service) LeaveWaitlist(ctx context.Context, p *identity.Principal, entryID string) (*WaitlistEntry, error) {
	var out *WaitlistEntry
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := svc.lockEntryAndResource(ctx, tx, entryID)
		if err != nil {
			return err
		}
		if err := ownsEntry(p, e); err != nil {
			return err
		}
		if e.Status != WaitWaiting && e.Status != WaitOffered {
			out = e
			return nil
		}
		wasOffered := e.Status == WaitOffered
		if err := svc.setEntry(ctx, tx, e, WaitCancelled); err != nil {
			return err
		}
		if wasOffered {
			if err := svc.releaseHold(ctx, tx, e); err != nil {
				return err
			}
		}
		out = e
		return nil
	})
	return out, err
}

// AcceptOffer turns a held slot into the confirmed reservation of p, the
// entry's member.
func (svc *Service) AcceptOffer(ctx context.Context, p *identity.Principal, entryID string) (*Reservation, error) {
	var out *Reservation
	err := db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := svc.lockEntryAndResource(ctx, tx, entryID)
		if err != nil {
			return err
		}
		if err := ownsEntry(p, e); err != nil {
			return err
		}
		now := svc.now()
		if e.Status != WaitOffered || e.ReservationID == nil || (e.OfferExpiresAt != nil && !now.Before(*e.OfferExpiresAt)) {
			return errs.Rule("entry_id", "no_open_offer", "there is no open offer on this entry")
		}
		r, err := getReservation(ctx, tx, *e.ReservationID, true)
		if err != nil {
			return err
		}
		r.Status, r.HoldExpiresAt, r.UpdatedAt = StatusConfirmed, nil, now
		if _, err := tx.NewUpdate().Model(r).Column("status", "hold_expires_at", "updated_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("confirm held reservation: %w", err)
		}
		if err := svc.publishAccepted(ctx, tx, r); err != nil {
			return err
		}
		if err := svc.setEntry(ctx, tx, e, WaitBooked); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// ExpireOffer ends an offer that was not accepted in time and passes the
// slot on. Running it twice, or after the offer was accepted, does nothing.
func (svc *Service) ExpireOffer(ctx context.Context, entryID string) error {
	return db.Tx(ctx, svc.db, func(ctx context.Context, tx bun.Tx) error {
		e, err := svc.lockEntryAndResource(ctx, tx, entryID)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Status != WaitOffered || e.OfferExpiresAt == nil || svc.now().Before(*e.OfferExpiresAt) {
			return nil
		}
		res, err := getResource(ctx, tx, e.ResourceID, false)
		if err != nil {
			return err
		}
		return svc.lapse(ctx, tx, res.SiteID, e)
	})
}

// lapse ends e's unanswered offer: the entry expires, its hold is
// released to the next in line, and waitlist.lapsed tells the member.
func (svc *Service) lapse(ctx context.Context, tx bun.Tx, siteID string, e *WaitlistEntry) error {
	if err := svc.setEntry(ctx, tx, e, WaitExpired); err != nil {
		return err
	}
	if err := svc.releaseHold(ctx, tx, e); err != nil {
		return err
	}
	return svc.publishWaitlist(ctx, tx, EventWaitlistLapsed, siteID, e)
}

// lockEntryAndResource takes the lock of an entry's resource (its offer's
// reservation may be written: see reservationLocks), then reads the entry
// afresh, its row locked.
func (svc *Service) lockEntryAndResource(ctx context.Context, tx bun.Tx, entryID string) (*WaitlistEntry, error) {
	e, err := svc.readEntry(ctx, tx, entryID, false)
	if err != nil {
		return nil, err
	}
	if err := lockResource(ctx, tx, e.ResourceID); err != nil {
		return nil, err
	}
	return svc.readEntry(ctx, tx, entryID, true)
}

func (svc *Service) readEntry(ctx context.Context, tx bun.Tx, entryID string, forUpdate bool) (*WaitlistEntry, error) {
	if !id.Valid(entryID) {
		return nil, errEntryNotFound
	}
	var e WaitlistEntry
	q := tx.NewSelect().Model(&e).Where("id = ?", entryID)
	if forUpdate {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errEntryNotFound
		}
		return nil, fmt.Errorf("get waitlist entry: %w", err)
	}
	return &e, nil
}

func (svc *Service) setEntry(ctx context.Context, tx bun.IDB, e *WaitlistEntry, status string) error {
	e.Status, e.UpdatedAt = status, svc.now()
	if _, err := tx.NewUpdate().Model(e).Column("status", "reservation_id", "offer_expires_at", "updated_at").WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("update waitlist entry: %w", err)
	}
	return nil
}

// releaseHold cancels the held reservation of e, which frees its slot for
// the next in line.
func (svc *Service) releaseHold(ctx context.Context, tx bun.Tx, e *WaitlistEntry) error {
	if e.ReservationID == nil {
		return nil
	}
	r, err := getReservation(ctx, tx, *e.ReservationID, true)
	if err != nil {
		return err
	}
	if r.Status != StatusHeld {
		return nil
	}
	_, err = svc.cancel(ctx, tx, r, e.UserID, "offer "+e.Status)
	return err
}

// expireOverdueHolds cancels holds of res whose offer lapsed, so that a
// missed or late expiry job never keeps a slot taken. It runs in the
// booking transaction, under the resource's lock.
func (svc *Service) expireOverdueHolds(ctx context.Context, tx bun.Tx, res *Resource) error {
	var es []WaitlistEntry
	if err := tx.NewSelect().Model(&es).Where("resource_id = ? AND status = ? AND offer_expires_at <= ?", res.ID, WaitOffered, svc.now()).
		Order("offer_expires_at").Scan(ctx); err != nil {
		return fmt.Errorf("read overdue offers: %w", err)
	}
	for i := range es {
		if err := svc.lapse(ctx, tx, res.SiteID, &es[i]); err != nil {
			return err
		}
	}
	return nil
}

// offerFreed runs, inside the transaction of a cancellation or a move,
// when [start, end) of res frees up: the first entries in line whose slot
// now fits get it, booked or held.
func (svc *Service) offerFreed(ctx context.Context, tx bun.Tx, res *Resource, start, end time.Time) error {
	var es []WaitlistEntry
	if err := tx.NewSelect().Model(&es).
		Where("resource_id = ? AND status = ? AND starts_at < ? AND ends_at > ? AND starts_at > ?", res.ID, WaitWaiting, end, start, svc.now()).
		Order("created_at", "id").Scan(ctx); err != nil {
		return fmt.Errorf("read waiting list: %w", err)
	}
	if len(es) == 0 {
		return nil
	}
	site, err := getSite(ctx, tx, res.SiteID)
	if err != nil {
		return err
	}
	for i := range es {
		e := &es[i]
		// Booked by relais itself, as a manager would: the rules were
		// checked when they joined.
		b := Booking{By: identity.System(), ResourceID: res.ID, UserID: e.UserID,
			Start: e.StartsAt.Format(time.RFC3339), End: e.EndsAt.Format(time.RFC3339), Seats: e.Seats}
		if err := authorizeBooking(res, &b); err != nil {
			return err
		}
		s, err := svc.checkSlot(ctx, tx, res, site, b)
		if err != nil {
			continue // no longer bookable (closure, training expired): leave them waiting
		}
		if err := svc.checkFree(ctx, tx, s, ""); err != nil {
			if errors.Is(err, errs.ErrConflict) {
				continue
			}
			return err
		}
		r, err := svc.insertReservation(ctx, tx, s, b, nil)
		if err != nil {
			var p *errs.Problem
			if errors.As(err, &p) {
				continue // refused by the guard (no membership now): skip them
			}
			return err
		}
		e.ReservationID = &r.ID
		if e.AutoBook {
			// Booked: told as any booking is (webhooks, the member's
			// confirmation), and no offer to tell.
			if err := svc.publish(ctx, tx, EventReservationCreated, r); err != nil {
				return err
			}
			if err := svc.setEntry(ctx, tx, e, WaitBooked); err != nil {
				return err
			}
			continue
		}
		expires := svc.now().Add(svc.offerTTL)
		if expires.After(r.StartsAt) {
			expires = r.StartsAt
		}
		r.Status, r.HoldExpiresAt = StatusHeld, &expires
		if _, err := tx.NewUpdate().Model(r).Column("status", "hold_expires_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("hold reservation: %w", err)
		}
		if err := svc.publish(ctx, tx, EventReservationCreated, r); err != nil {
			return err
		}
		e.OfferExpiresAt = &expires
		if err := svc.setEntry(ctx, tx, e, WaitOffered); err != nil {
			return err
		}
		if err := svc.publishWaitlist(ctx, tx, EventWaitlistOffered, res.SiteID, e); err != nil {
			return err
		}
		if _, err := svc.jobs.InsertTx(ctx, tx, OfferExpiryArgs{EntryID: e.ID}, &river.InsertOpts{ScheduledAt: expires}); err != nil {
			return fmt.Errorf("schedule offer expiry: %w", err)
		}
	}
	return nil
}
