package calendar

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// MoveHistory moves what the calendar holds of fromUserID — bookings,
// series, waiting-list entries, qualifications — to toUserID, in the tx
// of a guest's merge into an account (people.HistoryMover). Calendar
// feed links stay: they are the guest's and end with them.
func (s *Service) MoveHistory(ctx context.Context, tx bun.Tx, fromUserID, toUserID string) error {
	for _, table := range []string{"reservations", "reservation_series", "waitlist_entries", "qualification_grants"} {
		if _, err := tx.NewUpdate().Table(table).Set("user_id = ?", toUserID).Where("user_id = ?", fromUserID).Exec(ctx); err != nil {
			return fmt.Errorf("move %s: %w", table, err)
		}
	}
	return nil
}
