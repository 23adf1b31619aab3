package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/ledger"
)

// Mails about a member's credits: received as a gift, vested when a
// campaign reached its goal (the ledger publishes both, in the movement's
// transaction), and about to expire, a week ahead.
//
// The expiry reminder is a sweep, not a job per lot: an hourly periodic
// job (enqueued by the elected replica alone) lists the lots that expire
// within ExpiryNotice and were created at least ExpiryNotice before their
// expiry, and for each writes a row in notify_credit_reminders (its lot as
// primary key) and queues its mail in the same transaction. The row makes
// the mail once per lot: two sweeps that overlap (a replica elected while
// the last one's job still runs) or a sweep run again after a crash find
// it and queue nothing. A sweep also reaches lots the ledger creates by
// any path (packs, grants, gifts, campaigns), where a job per lot would
// need every one of them to schedule it, and a lot spent meanwhile is left
// out because the sweep reads what the member still holds.

// ExpiryNotice is how long before credit expires its member is mailed.
const ExpiryNotice = 7 * 24 * time.Hour

// Credits is what notify reads of the ledger (*ledger.Service).
type Credits interface {
	ExpiringLots(ctx context.Context, idb bun.IDB, from, to time.Time, lead time.Duration) ([]ledger.ExpiringLot, error)
}

// Campaigns is what notify reads of campaigns (*campaigns.Service).
type Campaigns interface {
	GetCampaign(ctx context.Context, campaignID string) (*campaigns.Campaign, error)
}

// CreditMailArgs is a gift received or credit vested, to tell its member.
type CreditMailArgs struct {
	EventID string             `json:"event_id"`
	Type    string             `json:"type"`
	Credit  ledger.CreditEvent `json:"credit"`
}

// Kind names the job in river_job.
func (CreditMailArgs) Kind() string { return "notify.credits" }

// CreditExpiryArgs is the reminder that a lot expires soon: what the
// member held of it when the sweep found it.
type CreditExpiryArgs struct {
	Lot ledger.ExpiringLot `json:"lot"`
}

// Kind names the job in river_job.
func (CreditExpiryArgs) Kind() string { return "notify.credit_expiry" }

// creditSweepArgs is the hourly sweep of credit about to expire.
type creditSweepArgs struct{}

func (creditSweepArgs) Kind() string { return "notify.credit_expiry_sweep" }

// creditArgs is the job of a ledger event, or nil.
func creditArgs(e events.Event) river.JobArgs {
	c, ok := e.Data.(ledger.CreditEvent)
	if !ok || (e.Type != ledger.EventGiftReceived && e.Type != ledger.EventCreditVested) {
		return nil
	}
	return CreditMailArgs{EventID: e.ID, Type: e.Type, Credit: c}
}

// PeriodicJobs returns the hourly sweep of credit about to expire, for the
// job client (jobs.Config.Periodic).
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) {
			return creditSweepArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
		}, &river.PeriodicJobOpts{ID: creditSweepArgs{}.Kind(), RunOnStart: true})}
}

// creditData is what the credit mails show.
type creditData struct {
	noticeData
	Amount, Expires string
	// From is the giver's name; Campaign the campaign's title.
	From, Campaign string
}

type creditWorker struct {
	river.WorkerDefaults[CreditMailArgs]
	svc *Service
}

// Work mails the member the gift or the vested credit as the event told
// it (the ledger is append-only: what was received stays received).
func (w *creditWorker) Work(ctx context.Context, job *river.Job[CreditMailArgs]) error {
	s, a := w.svc, job.Args
	c := a.Credit
	to, ok, err := s.recipient(ctx, c.UserID)
	if err != nil || !ok || !wants(to, identity.CategoryCredits) {
		return err
	}
	nd, site, err := s.siteData(ctx, to.Name, &c.SiteID)
	if err != nil {
		return err
	}
	d := creditData{noticeData: nd, Amount: formatCredit(c.Unit, c.Amount, to.Language)}
	if c.ExpiresAt != nil {
		d.Expires = formatDate(c.ExpiresAt.In(siteZone(site)), to.Language)
	}
	message := "credits_gift"
	if a.Type == ledger.EventCreditVested {
		message = "credits_vested"
		if d.Campaign, err = s.campaignTitle(ctx, c.CampaignID); err != nil {
			return err
		}
	} else if d.From, err = s.giverName(ctx, c.FromUserID); err != nil {
		return err
	}
	return s.mailTo(ctx, to, site, identity.CategoryCredits, message, d)
}

// giverName is the name of the member who gave credit (their name alone,
// never their address); "" when the account is gone.
func (s *Service) giverName(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", nil
	}
	from, ok, err := s.recipient(ctx, userID)
	if err != nil || !ok || from.Deleted {
		return "", err
	}
	return from.Name, nil
}

func (s *Service) campaignTitle(ctx context.Context, campaignID string) (string, error) {
	if s.campaigns == nil {
		return "", errors.New("notify: Config.Campaigns is not set")
	}
	c, err := s.campaigns.GetCampaign(ctx, campaignID)
	if errors.Is(err, errs.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	return c.Title, nil
}

type creditSweepWorker struct {
	river.WorkerDefaults[creditSweepArgs]
	svc *Service
}

func (w *creditSweepWorker) Work(ctx context.Context, _ *river.Job[creditSweepArgs]) error {
	_, err := w.svc.SweepExpiringCredit(ctx)
	return err
}

// SweepExpiringCredit queues the reminder of every lot that expires within
// ExpiryNotice and was not reminded yet (see the top of this file), and
// returns how many it queued.
func (s *Service) SweepExpiringCredit(ctx context.Context) (int, error) {
	if s.credits == nil {
		return 0, errors.New("notify: Config.Credits is not set")
	}
	now := s.now().UTC()
	lots, err := s.credits.ExpiringLots(ctx, s.db, now, now.Add(ExpiryNotice), ExpiryNotice)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, lot := range lots {
		err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			row := &creditReminder{LotID: lot.LotID, UserID: lot.UserID, QueuedAt: now}
			res, err := tx.NewInsert().Model(row).On("CONFLICT (lot_id) DO NOTHING").Exec(ctx)
			if err != nil {
				return fmt.Errorf("mark the reminder of lot %s: %w", lot.LotID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // reminded already
			}
			queued++
			_, err = s.jobs.InsertTx(ctx, tx, CreditExpiryArgs{Lot: lot}, nil)
			return err
		})
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// creditReminder marks a lot whose reminder is queued (migration
// 20261207000300).
type creditReminder struct {
	bun.BaseModel `bun:"table:notify_credit_reminders"`

	LotID    string    `bun:"lot_id,pk"`
	UserID   string    `bun:"user_id"`
	QueuedAt time.Time `bun:"queued_at"`
}

type creditExpiryWorker struct {
	river.WorkerDefaults[CreditExpiryArgs]
	svc *Service
}

// Work mails the member what they held of the lot when the sweep found it.
func (w *creditExpiryWorker) Work(ctx context.Context, job *river.Job[CreditExpiryArgs]) error {
	s, lot := w.svc, job.Args.Lot
	to, ok, err := s.recipient(ctx, lot.UserID)
	if err != nil || !ok || !wants(to, identity.CategoryCredits) {
		return err
	}
	nd, site, err := s.siteData(ctx, to.Name, lot.SiteID)
	if err != nil {
		return err
	}
	d := creditData{noticeData: nd, Amount: formatCredit(lot.Unit, lot.Amount, to.Language),
		Expires: formatDate(lot.ExpiresAt.In(siteZone(site)), to.Language)}
	return s.mailTo(ctx, to, site, identity.CategoryCredits, "credits_expiring", d)
}

// formatCredit is an amount of credit: euros, or minutes.
func formatCredit(unit string, n int64, lang string) string {
	if unit == ledger.UnitCents {
		return formatEuros(n, lang)
	}
	if lang == identity.LanguageEnglish {
		return fmt.Sprintf("%d minutes", n)
	}
	return fmt.Sprintf("%d\u00a0minutes", n)
}
