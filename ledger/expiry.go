package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
)

// CreditExpiryArgs is the durable job that expires what is left of a lot
// at its date.
type CreditExpiryArgs struct {
	LotID string `json:"lot_id"`
}

// Kind names the job in river_job. It keeps the name it had when billing
// held the ledger, so that jobs queued then still find their worker.
func (CreditExpiryArgs) Kind() string { return "billing.credit_expiry" }

type creditExpiryWorker struct {
	river.WorkerDefaults[CreditExpiryArgs]
	svc *Service
}

func (w *creditExpiryWorker) Work(ctx context.Context, job *river.Job[CreditExpiryArgs]) error {
	return w.svc.ExpireLot(ctx, job.Args.LotID)
}

// AddWorkers registers the ledger's job kind.
func (s *Service) AddWorkers(w *river.Workers) error {
	return river.AddWorkerSafely(w, &creditExpiryWorker{svc: s})
}

// scheduleExpiry queues the expiry of a lot in the caller's transaction.
func (s *Service) scheduleExpiry(ctx context.Context, tx bun.IDB, lotID string, at time.Time) error {
	if _, err := s.jobs.InsertTx(ctx, tx, CreditExpiryArgs{LotID: lotID}, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("schedule credit expiry: %w", err)
	}
	return nil
}

// ExpireLot moves what is left of an expired lot to the expired account.
// Running it twice, or before the date, changes nothing.
func (s *Service) ExpireLot(ctx context.Context, lotID string) error {
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var lot CreditLot
		if err := tx.NewSelect().Model(&lot).Where("id = ?", lotID).Scan(ctx); err != nil {
			if isNoRows(err) {
				return nil
			}
			return fmt.Errorf("read credit lot: %w", err)
		}
		if _, err := lockHolder(ctx, tx, lot.UserID); err != nil {
			return err
		}
		return s.expireIfDue(ctx, tx, &lot)
	})
}

// expireIfDue expires the member's balance of lot when its date has
// passed. The caller holds the member's lock.
func (s *Service) expireIfDue(ctx context.Context, tx bun.IDB, lot *CreditLot) error {
	now := s.now()
	if !lot.expired(now) {
		return nil
	}
	var bal int64
	if err := tx.NewSelect().Table("credit_entries").ColumnExpr("COALESCE(SUM(amount), 0)").
		Where("lot_id = ? AND account = ?", lot.ID, memberAccount(lot.UserID)).Scan(ctx, &bal); err != nil {
		return fmt.Errorf("credit lot balance: %w", err)
	}
	if bal <= 0 {
		return nil
	}
	mv := &CreditMovement{Kind: MoveExpire, UserID: lot.UserID, Reason: "expired " + lot.ExpiresAt.Format(time.RFC3339), CreatedAt: now}
	return post(ctx, tx, mv, []leg{{lot: lot.ID, from: memberAccount(lot.UserID), to: acctExpired, amount: bal}})
}

// ExpireDue expires every lot whose date has passed and still holds
// credit: the safety net behind the per-lot jobs, run by the hourly
// housekeeping (a jobs.Pruner).
func (s *Service) ExpireDue(ctx context.Context, now time.Time) (int64, error) {
	var lotIDs []string
	if err := s.db.NewSelect().TableExpr("credit_lots AS cl").Column("cl.id").
		Join("JOIN credit_entries AS ce ON ce.lot_id = cl.id AND ce.account = 'member:' || cl.user_id").
		Where("cl.expires_at <= ?", now).GroupExpr("cl.id").Having("SUM(ce.amount) > 0").
		Scan(ctx, &lotIDs); err != nil {
		return 0, fmt.Errorf("find expired credit: %w", err)
	}
	for _, l := range lotIDs {
		if err := s.ExpireLot(ctx, l); err != nil {
			return 0, err
		}
	}
	return int64(len(lotIDs)), nil
}

// LedgerReport is what VerifyLedger found.
type LedgerReport struct {
	Movements        int
	Unbalanced       []string // movements whose entries on a lot do not sum to zero
	NegativeBalances int      // (member account, lot) pairs below zero
}

// VerifyLedger checks the ledger's invariants: every movement balances on
// every lot, and no member holds less than nothing of any lot.
func (s *Service) VerifyLedger(ctx context.Context) (LedgerReport, error) {
	var r LedgerReport
	n, err := s.db.NewSelect().Table("credit_movements").Count(ctx)
	if err != nil {
		return r, fmt.Errorf("count movements: %w", err)
	}
	r.Movements = n
	if err := s.db.NewSelect().Table("credit_entries").ColumnExpr("DISTINCT movement_id").
		GroupExpr("movement_id, lot_id").Having("SUM(amount) <> 0").Scan(ctx, &r.Unbalanced); err != nil {
		return r, fmt.Errorf("check balance of movements: %w", err)
	}
	var neg []string
	if err := s.db.NewSelect().Table("credit_entries").ColumnExpr("account").
		Where("account LIKE 'member:%' OR account LIKE 'pending:%'").
		GroupExpr("account, lot_id").Having("SUM(amount) < 0").Scan(ctx, &neg); err != nil {
		return r, fmt.Errorf("check member balances: %w", err)
	}
	r.NegativeBalances = len(neg)
	return r, nil
}
