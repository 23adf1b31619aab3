package appointments

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// --- services-mail ---

// MoveHistory moves fromUserID's appointments to toUserID, in the tx of a
// guest's merge (people.HistoryMover).
func (s *Service) MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error {
	if _, err := tx.NewUpdate().Model((*Appointment)(nil)).Set("user_id = ?", toUserID).Where("user_id = ?", fromUserID).Exec(ctx); err != nil {
		return fmt.Errorf("move appointments: %w", err)
	}
	return nil
}
