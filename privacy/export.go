package privacy

import (
	"context"
	"database/sql"
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

// Statuses of an export.
const (
	ExportPending = "pending" // the job is building it
	ExportReady   = "ready"   // it can be downloaded until ExpiresAt
	ExportFailed  = "failed"  // the job gave up; start another
)

// Export is a member's export of their data as they see it.
type Export struct {
	ID        string
	Status    string
	CreatedAt time.Time
	ReadyAt   *time.Time
	ExpiresAt *time.Time
	SizeBytes int64
}

type exportRow struct {
	bun.BaseModel `bun:"table:privacy_exports,alias:pe"`

	ID        string     `bun:"id,pk"`
	UserID    string     `bun:"user_id"`
	Status    string     `bun:"status"`
	CreatedAt time.Time  `bun:"created_at"`
	ReadyAt   *time.Time `bun:"ready_at"`
	ExpiresAt *time.Time `bun:"expires_at"`
	SizeBytes int64      `bun:"size_bytes"`
	Content   []byte     `bun:"content"`
}

func (r *exportRow) export() *Export {
	return &Export{ID: r.ID, Status: r.Status, CreatedAt: r.CreatedAt.UTC(), ReadyAt: utc(r.ReadyAt), ExpiresAt: utc(r.ExpiresAt), SizeBytes: r.SizeBytes}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

var (
	errExportRunning = &errs.Problem{Kind: errs.ErrConflict, Code: "export_in_progress",
		Detail: "an export of your data is already being prepared; you will get a mail when it is ready"}
	errNoExport    = &errs.Problem{Kind: errs.ErrNotFound, Code: "export_not_found", Detail: "no export of your data; start one with POST /v1/me/export"}
	errExportReady = &errs.Problem{Kind: errs.ErrConflict, Code: "export_not_ready", Detail: "the export is not ready yet"}
)

// ExportArgs is the job that builds an export.
type ExportArgs struct {
	ExportID string `json:"export_id"`
}

// Kind names the job in river_job.
func (ExportArgs) Kind() string { return "privacy.export" }

// ExportMailArgs is the job that mails "your export is ready".
type ExportMailArgs struct {
	ExportID string `json:"export_id"`
}

// Kind names the job in river_job.
func (ExportMailArgs) Kind() string { return "privacy.export_mail" }

// StartExport starts an export of the caller's data: a job builds it and a
// mail says when it is ready. One export at a time per member (a second
// is a 409 export_in_progress); a new one replaces the previous.
func (s *Service) StartExport(ctx context.Context, p *identity.Principal) (*Export, error) {
	if err := mayExport(p); err != nil {
		return nil, err
	}
	row := &exportRow{ID: id.New(), UserID: p.UserID, Status: ExportPending, CreatedAt: s.now()}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			if db.IsUnique(err) {
				return errExportRunning
			}
			return fmt.Errorf("insert export: %w", err)
		}
		if _, err := s.cfg.Jobs.InsertTx(ctx, tx, ExportArgs{ExportID: row.ID}, nil); err != nil {
			return fmt.Errorf("queue export: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return row.export(), nil
}

// LatestExport is the caller's newest export that has not expired.
func (s *Service) LatestExport(ctx context.Context, p *identity.Principal) (*Export, error) {
	if err := mayExport(p); err != nil {
		return nil, err
	}
	row, err := s.latest(ctx, p.UserID, false)
	if err != nil {
		return nil, err
	}
	return row.export(), nil
}

// DownloadExport returns the caller's newest ready export and its ZIP.
func (s *Service) DownloadExport(ctx context.Context, p *identity.Principal) (*Export, []byte, error) {
	if err := mayExport(p); err != nil {
		return nil, nil, err
	}
	row, err := s.latest(ctx, p.UserID, true)
	if err != nil {
		return nil, nil, err
	}
	if row.Status != ExportReady {
		return nil, nil, errExportReady
	}
	return row.export(), row.Content, nil
}

func (s *Service) latest(ctx context.Context, userID string, content bool) (*exportRow, error) {
	var row exportRow
	q := s.db.NewSelect().Model(&row).Where("user_id = ? AND (expires_at IS NULL OR expires_at > ?)", userID, s.now()).
		Order("created_at DESC", "id DESC").Limit(1)
	if !content {
		q = q.ExcludeColumn("content")
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, errNoRows) {
			return nil, errNoExport
		}
		return nil, fmt.Errorf("read export: %w", err)
	}
	return &row, nil
}

type exportWorker struct {
	river.WorkerDefaults[ExportArgs]
	s *Service
}

func (w *exportWorker) Work(ctx context.Context, job *river.Job[ExportArgs]) error {
	err := w.s.BuildExport(ctx, job.Args.ExportID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		// The last try: say so, so that the member may start another.
		_, _ = w.s.db.NewUpdate().Model((*exportRow)(nil)).Set("status = ?", ExportFailed).
			Where("id = ? AND status = ?", job.Args.ExportID, ExportPending).Exec(ctx)
	}
	return err
}

// BuildExport builds the ZIP of a pending export, stores it ready for
// ExportTTL, and queues the mail that says so, in one transaction. An
// export already built, or gone (its account erased), is left alone.
func (s *Service) BuildExport(ctx context.Context, exportID string) error {
	var row exportRow
	if err := s.db.NewSelect().Model(&row).ExcludeColumn("content").Where("id = ?", exportID).Scan(ctx); err != nil {
		if errors.Is(err, errNoRows) {
			return nil
		}
		return fmt.Errorf("read export: %w", err)
	}
	if row.Status != ExportPending {
		return nil
	}
	zip, err := s.buildZIP(ctx, row.UserID)
	if err != nil {
		return err
	}
	now := s.now()
	expires := now.Add(ExportTTL)
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*exportRow)(nil)).
			Set("status = ?, ready_at = ?, expires_at = ?, size_bytes = ?, content = ?", ExportReady, now, expires, len(zip), zip).
			Where("id = ? AND status = ?", exportID, ExportPending).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store export: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		// Older exports are replaced by this one.
		if _, err := tx.NewDelete().Model((*exportRow)(nil)).Where("user_id = ? AND id <> ?", row.UserID, exportID).Exec(ctx); err != nil {
			return fmt.Errorf("delete older exports: %w", err)
		}
		if _, err := s.cfg.Jobs.InsertTx(ctx, tx, ExportMailArgs{ExportID: exportID}, nil); err != nil {
			return fmt.Errorf("queue export mail: %w", err)
		}
		return nil
	})
}

// PruneExports deletes the exports that expired, and those that failed or
// never finished a day ago. It runs in the periodic prune job.
func (s *Service) PruneExports(ctx context.Context, now time.Time) (int64, error) {
	now = now.UTC()
	res, err := s.db.NewDelete().Model((*exportRow)(nil)).
		Where("expires_at < ? OR (status <> ? AND created_at < ?)", now, ExportReady, now.Add(-24*time.Hour)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune exports: %w", err)
	}
	return res.RowsAffected()
}

var errNoRows = sql.ErrNoRows
