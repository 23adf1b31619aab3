package billing

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// MoveHistory moves what billing holds of fromUserID — memberships, day
// passes, packs, their uses and charges, payments — to toUserID, in the
// tx of a guest's merge into an account (people.HistoryMover). Invoices
// keep the buyer they were issued to (invoicing's, never changed).
func (s *Service) MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error {
	for _, table := range []string{"memberships", "day_passes", "packs", "allowance_uses", "usage_charges", "payments"} {
		if _, err := tx.NewUpdate().Table(table).Set("user_id = ?", toUserID).Where("user_id = ?", fromUserID).Exec(ctx); err != nil {
			return fmt.Errorf("move %s: %w", table, err)
		}
	}
	return nil
}
