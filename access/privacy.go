package access

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/id"
)

// What the gate's audit does for personal data (the privacy package
// orchestrates): a member's export, and the purge of events older than the
// retention period. An erasure leaves the events of the member in place
// until that purge: the audit of who opened which door is kept, for the
// site's security, for that period only (see README, "Personal data").

// ExportMember returns the access events about userID or made by them,
// oldest first.
func (e *Events) ExportMember(ctx context.Context, userID string) ([]Event, error) {
	evs := []Event{}
	if err := e.db.NewSelect().Model(&evs).Where("user_id = ? OR actor_id = ?", userID, userID).
		OrderExpr("occurred_at, id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export access events: %w", err)
	}
	return evs, nil
}

// MinRetention is the shortest retention the audit accepts: the database
// refuses to delete a younger event (migration 20261207000101), so that no
// mistake in a flag or in code can empty the audit of last month.
const MinRetention = 28 * 24 * time.Hour

// PurgeBefore deletes the access events that occurred before before, batch
// at a time, each batch in its own transaction (no statement holds a long
// lock on a busy audit), and reports how many. The database lets only the
// purge delete events: each transaction first records the purge's bound in
// access_event_purges, which the append-only trigger reads, and removes it
// before committing. Machine sessions are not events: billing's usage
// refers to them.
func (e *Events) PurgeBefore(ctx context.Context, before time.Time, batch int) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.Tx(ctx, e.db, func(ctx context.Context, tx bun.Tx) error {
			purge := id.New()
			if _, err := tx.ExecContext(ctx, "INSERT INTO access_event_purges (id, purge_before) VALUES (?, ?)", purge, before.UTC()); err != nil {
				return fmt.Errorf("open purge: %w", err)
			}
			old := tx.NewSelect().Model((*Event)(nil)).Column("id").Where("occurred_at < ?", before.UTC()).
				OrderExpr("occurred_at").Limit(batch)
			res, err := tx.NewDelete().Model((*Event)(nil)).Where("id IN (?)", old).Exec(ctx)
			if err != nil {
				return fmt.Errorf("purge access events: %w", err)
			}
			n, _ = res.RowsAffected()
			_, err = tx.ExecContext(ctx, "DELETE FROM access_event_purges WHERE id = ?", purge)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
