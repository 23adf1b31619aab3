package appointments

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ForgetMember is package privacy's erasure of a person, in tx: their
// appointments to come are cancelled and their booths freed (the slots
// are offered again), and the partners' notes about them are deleted.
// The appointments themselves stay, pseudonymous with the account, for
// the funders' counts.
func (s *Service) ForgetMember(ctx context.Context, tx bun.Tx, userID string) error {
	now := s.now()
	var next []Appointment
	if err := tx.NewSelect().Model(&next).Where("user_id = ? AND status = ? AND starts_at > ?", userID, StatusConfirmed, now).Scan(ctx); err != nil {
		return fmt.Errorf("read appointments: %w", err)
	}
	for i := range next {
		a := &next[i]
		if a.ReservationID != nil {
			if err := s.cfg.Calendar.ReleaseForAppointment(ctx, tx, userID, *a.ReservationID, "Compte supprimé"); err != nil {
				return err
			}
		}
		a.Status, a.CancelledAt, a.CancelledBy = StatusCancelled, &now, &userID
		if _, err := tx.NewUpdate().Model(a).Column("status", "cancelled_at", "cancelled_by").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("cancel appointment: %w", err)
		}
	}
	if _, err := tx.NewUpdate().Model((*Appointment)(nil)).Set("outcome_note = NULL").Where("user_id = ? AND outcome_note IS NOT NULL", userID).Exec(ctx); err != nil {
		return fmt.Errorf("forget notes: %w", err)
	}
	// The rooms made for them (video_mode generated) go too: a link that
	// led to the person's conversation is not kept for the counts.
	if _, err := tx.NewUpdate().Model((*Appointment)(nil)).Set("video_url = NULL").Where("user_id = ? AND video_url IS NOT NULL", userID).Exec(ctx); err != nil {
		return fmt.Errorf("forget video rooms: %w", err)
	}
	return nil
}

// Exported is one appointment in a person's data export: what they
// booked, its outcome, and the partner's note about it — hidden from the
// site's staff, but data about the person, who has the right to read it
// (as managers' notes are in notes.json).
type Exported struct {
	ID          string    `json:"id"`
	PartnerID   string    `json:"partner_id"`
	SiteID      string    `json:"site_id"`
	Purpose     string    `json:"purpose"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Status      string    `json:"status"`
	Outcome     *string   `json:"outcome"`
	OutcomeNote *string   `json:"outcome_note"`
	// VideoURL is the appointment's video room, when it had one.
	VideoURL    *string    `json:"video_url"`
	CreatedAt   time.Time  `json:"created_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
}

// ExportMember lists a person's appointments for their data export.
func (s *Service) ExportMember(ctx context.Context, userID string) ([]Exported, error) {
	var as []Appointment
	if err := s.db.NewSelect().Model(&as).Where("user_id = ?", userID).Order("starts_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export appointments: %w", err)
	}
	out := make([]Exported, 0, len(as))
	for _, a := range as {
		out = append(out, Exported{ID: a.ID, PartnerID: a.PartnerID, SiteID: a.SiteID, Purpose: a.Purpose, Start: a.StartsAt.UTC(), End: a.EndsAt.UTC(),
			Status: a.Status, Outcome: a.Outcome, OutcomeNote: a.OutcomeNote, VideoURL: a.VideoURL, CreatedAt: a.CreatedAt.UTC(), CancelledAt: a.CancelledAt})
	}
	return out, nil
}
