package ateliers

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// RegistrationRecord is a registration as the person's export shows it.
type RegistrationRecord struct {
	ID           string     `json:"id"`
	AtelierID    string     `json:"atelier_id"`
	Atelier      string     `json:"atelier"`
	SiteID       string     `json:"site_id"`
	SessionStart time.Time  `json:"session_start"`
	SessionEnd   time.Time  `json:"session_end"`
	Status       string     `json:"status"`
	Attendance   *string    `json:"attendance"`
	CreatedAt    time.Time  `json:"created_at"`
	CancelledAt  *time.Time `json:"cancelled_at"`
}

// ExportMember returns every registration of userID, for their privacy
// export: the ateliers they came to (or not) are data about them.
func (s *Service) ExportMember(ctx context.Context, userID string) ([]RegistrationRecord, error) {
	out := []RegistrationRecord{}
	if err := s.db.NewRaw(`SELECT r.id, r.atelier_id, a.title AS atelier, a.site_id, ss.starts_at AS session_start, ss.ends_at AS session_end,
			r.status, r.attendance, r.created_at, r.cancelled_at
		FROM atelier_registrations r JOIN atelier_sessions ss ON ss.id = r.session_id JOIN ateliers a ON a.id = r.atelier_id
		WHERE r.user_id = ? ORDER BY ss.starts_at, r.id`, userID).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("export atelier registrations: %w", err)
	}
	for i := range out {
		out[i].SessionStart, out[i].SessionEnd, out[i].CreatedAt = out[i].SessionStart.UTC(), out[i].SessionEnd.UTC(), out[i].CreatedAt.UTC()
	}
	return out, nil
}

// ForgetMember cancels, in the erasure's transaction, userID's
// registrations for sessions not started yet, each seat going to the
// first waiting as any cancellation's does. Past registrations stay: they
// are the counts funders were given, and the account they point to is
// pseudonymised.
func (s *Service) ForgetMember(ctx context.Context, tx bun.Tx, userID string) error {
	now := s.now()
	var future []Registration
	if err := tx.NewSelect().Model(&future).Where("user_id = ? AND status <> ?", userID, StatusCancelled).
		Where("session_id IN (SELECT id FROM atelier_sessions WHERE starts_at > ?)", now).Order("session_id").Scan(ctx); err != nil {
		return fmt.Errorf("read registrations to cancel: %w", err)
	}
	for i := range future {
		r := &future[i]
		ss, err := lockSession(ctx, tx, r.SessionID)
		if err != nil {
			return err
		}
		wasConfirmed := r.Status == StatusConfirmed
		r.Status, r.CancelledAt = StatusCancelled, &now
		if _, err := tx.NewUpdate().Model(r).Column("status", "cancelled_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel registration: %w", err)
		}
		if wasConfirmed {
			a, err := s.load(ctx, tx, r.AtelierID)
			if err != nil {
				return err
			}
			if err := s.promote(ctx, tx, a, ss, now); err != nil {
				return err
			}
		}
	}
	return nil
}
