package ateliers

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// --- services-mail ---

var errMergeRegistrations = errs.Problemf(errs.ErrConflict, "merge_registration_conflict",
	"the guest and the account are both registered to one session: cancel one of the registrations first")

// MoveHistory moves fromUserID's registrations to toUserID, in the tx of a
// guest's merge (people.HistoryMover). Two live registrations of one
// session would break the one-per-person rule: that is refused (409), the
// desk cancels one first.
func (s *Service) MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error {
	both, err := tx.NewSelect().Model((*Registration)(nil)).
		Where("user_id = ? AND status <> ?", fromUserID, StatusCancelled).
		Where("session_id IN (SELECT r2.session_id FROM atelier_registrations r2 WHERE r2.user_id = ? AND r2.status <> ?)", toUserID, StatusCancelled).
		Exists(ctx)
	if err != nil {
		return fmt.Errorf("find double registrations: %w", err)
	}
	if both {
		return errMergeRegistrations
	}
	if _, err := tx.NewUpdate().Model((*Registration)(nil)).Set("user_id = ?", toUserID).Where("user_id = ?", fromUserID).Exec(ctx); err != nil {
		return fmt.Errorf("move registrations: %w", err)
	}
	return nil
}
