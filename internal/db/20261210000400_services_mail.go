package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Services' mails, video links and guest merges (issue 18, services-mail):
//   - partners.video_mode takes 'generated' (each appointment gets its own
//     room under the partner's video_base_url);
//   - appointments.sequence: the iCalendar SEQUENCE of the appointment's
//     invitations, one more at each move and at the cancellation;
//   - guests.merged_into: a guest merged into a member's account (their
//     history moved there) points to it, and is no longer listed. No
//     REFERENCES: SQLite cannot drop a column a foreign key names, and the
//     migration must go down; people writes only ids it has just read.
//
// Widening the CHECK of video_mode: PostgreSQL drops and re-adds the
// named constraint; SQLite has no ALTER for a CHECK, and rebuilding
// partners would have to drop a table three others reference, so it edits
// the table's definition in sqlite_schema as SQLite's documentation allows
// for a change that touches no stored row (ALTER TABLE, "Making Other Kinds
// Of Table Schema Changes": writable_schema and a new schema_version).
func init() {
	const oldCheck, newCheck = "video_mode IN ('none', 'agent_room')", "video_mode IN ('none', 'agent_room', 'generated')"
	widen := func(ctx context.Context, tx bun.Tx, from, to string) error {
		if !IsSQLite(tx) {
			return execDDL(ctx, tx, `ALTER TABLE partners DROP CONSTRAINT partners_video_mode_check`,
				`ALTER TABLE partners ADD CONSTRAINT partners_video_mode_check CHECK (`+to+`)`)
		}
		var version int64
		if err := tx.NewRaw("PRAGMA schema_version").Scan(ctx, &version); err != nil {
			return fmt.Errorf("read schema_version: %w", err)
		}
		var def string
		if err := tx.NewRaw("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'partners'").Scan(ctx, &def); err != nil {
			return fmt.Errorf("read partners' definition: %w", err)
		}
		if !strings.Contains(def, from) {
			return fmt.Errorf("partners' definition has no %q", from)
		}
		return execDDL(ctx, tx, `PRAGMA writable_schema = ON`,
			`UPDATE sqlite_schema SET sql = '`+strings.ReplaceAll(strings.Replace(def, from, to, 1), "'", "''")+`' WHERE type = 'table' AND name = 'partners'`,
			fmt.Sprintf(`PRAGMA schema_version = %d`, version+1),
			`PRAGMA writable_schema = OFF`)
	}
	up := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := widen(ctx, tx, oldCheck, newCheck); err != nil {
				return err
			}
			return execDDL(ctx, tx,
				`ALTER TABLE partners ADD COLUMN video_base_url TEXT`,
				`ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0`,
				`ALTER TABLE guests ADD COLUMN merged_into TEXT`,
				`ALTER TABLE guests ADD COLUMN merged_at {TS}`,
				`ALTER TABLE guests ADD COLUMN merged_by TEXT`,
			)
		})
	}
	down := func(ctx context.Context, db *bun.DB) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if err := execDDL(ctx, tx, `UPDATE partners SET video_mode = 'none' WHERE video_mode = 'generated'`,
				`ALTER TABLE partners DROP COLUMN video_base_url`,
				`ALTER TABLE appointments DROP COLUMN sequence`,
				`ALTER TABLE guests DROP COLUMN merged_by`,
				`ALTER TABLE guests DROP COLUMN merged_at`,
				`ALTER TABLE guests DROP COLUMN merged_into`); err != nil {
				return err
			}
			return widen(ctx, tx, newCheck, oldCheck)
		})
	}
	if err := Migrations.Register(up, down); err != nil {
		panic(err)
	}
}
