package people

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// --- services-mail ---

// A guest who turns out to have an account (they signed up since, or the
// desk registered them twice) is merged into it: everything the domains
// hold under the guest's id — atelier registrations, appointments,
// bookings, waiting lists, qualifications, memberships, passes, packs,
// payments, credit, desk registrations and notes — moves to the account in
// one transaction, and the guest row points to the account (merged_into).
// Invoices stay as they were issued (the law keeps a document's buyer),
// the ledger's past movements as recorded (its balance moves by a new
// one), and the gate's audit as it happened.

// HistoryMover is a domain that moves what it holds of one person to
// another account, in the merge's transaction (ateliers, appointments,
// calendar and billing implement it; serve lists them).
type HistoryMover interface {
	MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error
}

var (
	errGuestMerged = func() *errs.Problem {
		p := errs.Problemf(errs.ErrConflict, "guest_merged", "this guest has already been merged into an account")
		p.Fields = []errs.FieldError{errs.Fieldf("guest_id", "has already been merged")}
		return p
	}()
	errMergeTarget = errs.Invalid("user_id", "must be an account that exists and has not been erased, other than the guest")
)

// MayMergeGuest: the managers of the site where the guest was registered,
// and the admins; never an API key (a person's act at the desk). To
// anyone else the guest does not exist.
func MayMergeGuest(p *identity.Principal, guestSiteID string) error {
	if p == nil || p.IsAPIKey() || MayServePeople(p, guestSiteID) != nil {
		return errGuestNotFound
	}
	return nil
}

// MergedGuest is the outcome of a merge.
type MergedGuest struct {
	GuestID, UserID string
	MergedAt        time.Time
}

// MergeGuest moves guestID's history to the account userID and marks the
// guest merged, in one transaction that first locks the guest row: of two
// merges of one guest racing, the second waits and finds it merged (409
// guest_merged naming guest_id), whatever the engine.
func (s *Service) MergeGuest(ctx context.Context, p *identity.Principal, guestID, userID string) (*MergedGuest, error) {
	if !id.Valid(guestID) {
		return nil, errGuestNotFound
	}
	if !id.Valid(userID) || userID == guestID {
		return nil, errMergeTarget
	}
	out := &MergedGuest{GuestID: guestID, UserID: userID, MergedAt: s.now()}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var row struct {
			SiteID     string  `bun:"site_id"`
			MergedInto *string `bun:"merged_into"`
		}
		q := tx.NewSelect().Table("guests").Column("site_id", "merged_into").Where("user_id = ?", guestID)
		if err := db.ForUpdate(q).Scan(ctx, &row); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errGuestNotFound
			}
			return fmt.Errorf("lock guest: %w", err)
		}
		if err := MayMergeGuest(p, row.SiteID); err != nil {
			return err
		}
		if row.MergedInto != nil {
			return errGuestMerged
		}
		people, err := s.cfg.Identity.People(ctx, tx, []string{userID})
		if err != nil {
			return err
		}
		if _, ok := people[userID]; !ok {
			return errMergeTarget
		}
		merged, err := tx.NewSelect().Table("guests").Where("user_id = ? AND merged_into IS NOT NULL", userID).Exists(ctx)
		if err != nil {
			return fmt.Errorf("read target: %w", err)
		}
		if merged {
			return errMergeTarget
		}
		for _, m := range s.cfg.Movers {
			if err := m.MoveHistory(ctx, tx, guestID, userID); err != nil {
				return err
			}
		}
		if err := s.moveDesk(ctx, tx, guestID, userID); err != nil {
			return err
		}
		var by *string
		if p.UserID != "" {
			by = &p.UserID
		}
		if _, err := tx.NewUpdate().Table("guests").Set("merged_into = ?, merged_at = ?, merged_by = ?, updated_at = ?", userID, out.MergedAt, by, out.MergedAt).
			Where("user_id = ?", guestID).Exec(ctx); err != nil {
			return fmt.Errorf("mark guest merged: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// moveDesk registers the account at the guest's desks (if it is not yet)
// and moves the managers' notes about the guest to it.
func (s *Service) moveDesk(ctx context.Context, tx bun.Tx, from, to string) error {
	var rows []sitePerson
	if err := tx.NewSelect().Model(&rows).Where("user_id = ?", from).Scan(ctx); err != nil {
		return fmt.Errorf("read desk registrations: %w", err)
	}
	for _, r := range rows {
		r.UserID = to
		if _, err := tx.NewInsert().Model(&r).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("register account at desk: %w", err)
		}
	}
	if _, err := tx.NewDelete().Model((*sitePerson)(nil)).Where("user_id = ?", from).Exec(ctx); err != nil {
		return fmt.Errorf("delete guest's desk registrations: %w", err)
	}
	if _, err := tx.NewUpdate().Table("people_notes").Set("user_id = ?", to).Where("user_id = ?", from).Exec(ctx); err != nil {
		return fmt.Errorf("move notes: %w", err)
	}
	return nil
}
