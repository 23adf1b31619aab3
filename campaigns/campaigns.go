package campaigns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// Campaign modes.
const (
	ModeAllOrNothing = "all_or_nothing" // credit vests only if the goal is met by the deadline
	ModeKeepItAll    = "keep_it_all"    // credit vests at once
)

// Campaign statuses: open until it settles, exactly once.
const (
	CampaignOpen      = "open"
	CampaignSucceeded = "succeeded" // all_or_nothing with the goal met, or any keep_it_all
	CampaignFailed    = "failed"    // all_or_nothing short of its goal
)

// Contribution statuses.
const (
	ContribPending   = "pending"    // an online checkout not paid yet
	ContribPaid      = "paid"       // the money is in
	ContribRefundDue = "refund_due" // the campaign failed: Stripe must refund it
	ContribRefunded  = "refunded"
	ContribFailed    = "failed"  // the payment bounced
	ContribExpired   = "expired" // the checkout was abandoned
)

// Tier is a reward: a contribution of at least MinCents earns credit, as
// money (cents) or as minutes of one resource kind, optionally expiring
// ExpiresAfterDays after it vests.
type Tier struct {
	Name             string `json:"name"`
	MinCents         int64  `json:"min_cents"`
	CreditUnit       string `json:"credit_unit"`
	CreditAmount     int64  `json:"credit_amount"`
	ResourceKind     string `json:"resource_kind"`
	ExpiresAfterDays int    `json:"expires_after_days"`
}

// Campaign is a site's crowdfunding campaign.
type Campaign struct {
	bun.BaseModel `bun:"table:campaigns,alias:cp"`

	ID            string     `bun:"id,pk"`
	SiteID        string     `bun:"site_id"`
	Title         string     `bun:"title"`
	Description   string     `bun:"description"`
	GoalCents     int64      `bun:"goal_cents"`
	StartsAt      time.Time  `bun:"starts_at"`
	Deadline      time.Time  `bun:"deadline"`
	Mode          string     `bun:"mode"`
	Tiers         []Tier     `bun:"tiers,type:json"`
	VATRateBP     int        `bun:"vat_rate_bp"`
	Status        string     `bun:"status"`
	CreatedBy     *string    `bun:"created_by"`
	ClosedEarlyAt *time.Time `bun:"closed_early_at"`
	SettledAt     *time.Time `bun:"settled_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	UpdatedAt     time.Time  `bun:"updated_at"`
}

// Started reports whether contributions are taken at now.
func (c *Campaign) Started(now time.Time) bool { return !now.Before(c.StartsAt) }

// tierFor is the best tier amount reaches, or -1.
func (c *Campaign) tierFor(amount int64) int {
	best := -1
	for i, t := range c.Tiers {
		if amount >= t.MinCents && (best < 0 || t.MinCents > c.Tiers[best].MinCents) {
			best = i
		}
	}
	return best
}

// Contribution is money given to a campaign, online or imported.
type Contribution struct {
	bun.BaseModel `bun:"table:campaign_contributions,alias:cc"`

	ID                      string           `bun:"id,pk"`
	CampaignID              string           `bun:"campaign_id"`
	Platform                string           `bun:"platform"`
	ExternalID              string           `bun:"external_id"`
	ReceiptSeq              int              `bun:"receipt_seq"`
	UserID                  *string          `bun:"user_id"`
	Email                   string           `bun:"email"`
	Name                    string           `bun:"name"`
	PublicName              *string          `bun:"public_name"`
	AmountCents             int64            `bun:"amount_cents"`
	TierIndex               *int             `bun:"tier_index"`
	CreditUnit              string           `bun:"credit_unit"`
	CreditAmount            int64            `bun:"credit_amount"`
	CreditResourceKind      string           `bun:"credit_resource_kind"`
	Status                  string           `bun:"status"`
	LotID                   *string          `bun:"lot_id"`
	ContributedAt           time.Time        `bun:"contributed_at"`
	StripeCheckoutSessionID *string          `bun:"stripe_checkout_session_id"`
	StripePaymentIntentID   *string          `bun:"stripe_payment_intent_id"`
	RefundedCents           int64            `bun:"refunded_cents"`
	Buyer                   *invoicing.Buyer `bun:"buyer,type:json"`
	InvoiceID               *string          `bun:"invoice_id"`
	ImportID                *string          `bun:"import_id"`
	CreatedAt               time.Time        `bun:"created_at"`
	UpdatedAt               time.Time        `bun:"updated_at"`
}

// ReceiptNumber names the contribution's receipt: the campaign's and the
// contribution's rank in it.
func (c *Contribution) ReceiptNumber() string {
	return fmt.Sprintf("CF-%s-%06d", c.CampaignID[len(c.CampaignID)-8:], c.ReceiptSeq)
}

// NewCampaign is what a manager gives to create or edit a campaign.
type NewCampaign struct {
	SiteID      string
	Title       string
	Description string
	GoalCents   int64
	StartsAt    *time.Time // default now
	Deadline    time.Time
	Mode        string
	Tiers       []Tier
	VATRateBP   *int // default 20 %, 0 for a VAT-exempt site
	CreatedBy   string
}

const (
	maxGoalCents = 100_000_000_00 // 100 M€
	maxTiers     = 50
)

func (s *Service) validateCampaign(in *NewCampaign, site *calendar.Site, now time.Time) error {
	var v errs.Validator
	in.Title = strings.TrimSpace(in.Title)
	v.Check(in.Title != "" && len(in.Title) <= 200, "title", "is required, at most 200 bytes")
	v.Check(len(in.Description) <= 20000, "description", "must be at most 20000 bytes")
	v.Check(in.GoalCents > 0, "goal_cents", "must be positive")
	v.Check(in.GoalCents <= maxGoalCents, "goal_cents", "must be at most %d", int64(maxGoalCents))
	start := now
	if in.StartsAt != nil {
		start = in.StartsAt.UTC()
	}
	v.Check(!in.Deadline.IsZero(), "deadline", "is required")
	v.Check(in.Deadline.IsZero() || in.Deadline.After(now), "deadline", "must be in the future")
	v.Check(in.Deadline.IsZero() || in.Deadline.After(start), "deadline", "must be after starts_at")
	v.Check(in.Deadline.IsZero() || in.Deadline.Before(start.AddDate(1, 0, 1)), "deadline", "must be at most a year after the start")
	v.Check(in.Mode == ModeAllOrNothing || in.Mode == ModeKeepItAll, "mode", "must be all_or_nothing or keep_it_all")
	v.Check(len(in.Tiers) <= maxTiers, "tiers", "at most %d tiers", maxTiers)
	for i, t := range in.Tiers {
		f := fmt.Sprintf("tiers[%d]", i)
		v.Check(strings.TrimSpace(t.Name) != "" && len(t.Name) <= 200, f+".name", "is required, at most 200 bytes")
		v.Check(t.MinCents > 0, f+".min_cents", "must be positive")
		v.Check(t.MinCents <= in.GoalCents, f+".min_cents", "must not be above the goal")
		v.Check(t.CreditAmount > 0, f+".credit_amount", "must be positive")
		v.Check(t.CreditAmount <= ledger.MaxAmount, f+".credit_amount", "must be at most %d", ledger.MaxAmount)
		switch t.CreditUnit {
		case ledger.UnitCents:
			v.Check(t.ResourceKind == "", f+".resource_kind", "money credit has no resource kind")
		case ledger.UnitMinutes:
			v.Check(slices.Contains([]string{calendar.KindDesk, calendar.KindRoom, calendar.KindZone, calendar.KindMachine}, t.ResourceKind),
				f+".resource_kind", "must be desk, room, zone or machine")
		default:
			v.Add(f+".credit_unit", "must be cents or minutes")
		}
		v.Check(t.ExpiresAfterDays >= 0 && t.ExpiresAfterDays <= 3650, f+".expires_after_days", "must be between 0 (never) and 3650")
		for j := range i {
			v.Check(in.Tiers[j].MinCents != t.MinCents, f+".min_cents", "another tier has the same minimum")
		}
	}
	if in.VATRateBP == nil {
		rate := 2000
		if site != nil && site.Legal.VATExempt {
			rate = 0
		}
		in.VATRateBP = &rate
	}
	v.Check(slices.Contains(invoicing.VATRates, *in.VATRateBP), "vat_rate_bp", "must be one of 0, 550, 1000, 2000")
	if site != nil && site.Legal.VATExempt {
		v.Check(*in.VATRateBP == 0, "vat_rate_bp", "the site is VAT-exempt")
	}
	if err := v.Err(); err != nil {
		return err
	}
	in.StartsAt = &start
	slices.SortStableFunc(in.Tiers, func(a, b Tier) int { return int(a.MinCents - b.MinCents) })
	for i := range in.Tiers {
		in.Tiers[i].Name = strings.TrimSpace(in.Tiers[i].Name)
	}
	return nil
}

var errCampaignNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "campaign_not_found", Detail: "no such campaign"}

// CreateCampaign opens a campaign of a site p runs, and schedules its
// settlement at the deadline. It is recorded as created by p (the system
// names whom in in.CreatedBy).
func (s *Service) CreateCampaign(ctx context.Context, p *identity.Principal, in NewCampaign) (*Campaign, error) {
	if err := mayCreateCampaign(p, in.SiteID); err != nil {
		return nil, err
	}
	if !p.IsSystem() {
		in.CreatedBy = p.UserID
	}
	now := s.now()
	site, err := calendar.LoadSite(ctx, s.db, in.SiteID)
	if err != nil {
		return nil, err
	}
	if in.Tiers == nil {
		in.Tiers = []Tier{}
	}
	if err := s.validateCampaign(&in, site, now); err != nil {
		return nil, err
	}
	c := &Campaign{ID: id.New(), SiteID: in.SiteID, Title: in.Title, Description: in.Description, GoalCents: in.GoalCents,
		StartsAt: *in.StartsAt, Deadline: in.Deadline.UTC(), Mode: in.Mode, Tiers: in.Tiers, VATRateBP: *in.VATRateBP,
		Status: CampaignOpen, CreatedAt: now, UpdatedAt: now}
	if in.CreatedBy != "" {
		c.CreatedBy = &in.CreatedBy
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
			return fmt.Errorf("insert campaign: %w", err)
		}
		return s.schedule(ctx, tx, CampaignDeadlineArgs{CampaignID: c.ID}, c.Deadline)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// GetCampaign returns one campaign.
func (s *Service) GetCampaign(ctx context.Context, campaignID string) (*Campaign, error) {
	return getCampaign(ctx, s.db, campaignID, false)
}

func getCampaign(ctx context.Context, idb bun.IDB, campaignID string, lock bool) (*Campaign, error) {
	if !id.Valid(campaignID) {
		return nil, errCampaignNotFound
	}
	var c Campaign
	q := idb.NewSelect().Model(&c).Where("id = ?", campaignID)
	if lock {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errCampaignNotFound
		}
		return nil, fmt.Errorf("get campaign: %w", err)
	}
	return &c, nil
}

// ListCampaigns returns a site's campaigns, newest first; anyone may read
// them (they are public).
func (s *Service) ListCampaigns(ctx context.Context, siteID string) ([]Campaign, error) {
	if _, err := calendar.LoadSite(ctx, s.db, siteID); err != nil {
		return nil, err
	}
	out := []Campaign{}
	if err := s.db.NewSelect().Model(&out).Where("site_id = ?", siteID).Order("created_at DESC", "id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign edits a campaign that has not started yet; fields left
// nil keep their value.
type CampaignUpdate struct {
	Title       *string
	Description *string
	GoalCents   *int64
	StartsAt    *time.Time
	Deadline    *time.Time
	Mode        *string
	Tiers       []Tier // nil keeps them
	VATRateBP   *int
}

// UpdateCampaign applies up, as p who runs the campaign, before it
// starts; afterwards backers have relied on it and it is refused
// (campaign_started).
func (s *Service) UpdateCampaign(ctx context.Context, p *identity.Principal, campaignID string, up CampaignUpdate) (*Campaign, error) {
	var out *Campaign
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c, err := getCampaign(ctx, tx, campaignID, true)
		if err != nil {
			return err
		}
		if err := mayRunCampaign(p, c); err != nil {
			return err
		}
		now := s.now()
		if c.Status != CampaignOpen || c.Started(now) {
			return &errs.Problem{Kind: errs.ErrConflict, Code: "campaign_started", Detail: "a campaign is edited only before it starts"}
		}
		in := NewCampaign{SiteID: c.SiteID, Title: c.Title, Description: c.Description, GoalCents: c.GoalCents, StartsAt: &c.StartsAt,
			Deadline: c.Deadline, Mode: c.Mode, Tiers: c.Tiers, VATRateBP: &c.VATRateBP}
		if up.Title != nil {
			in.Title = *up.Title
		}
		if up.Description != nil {
			in.Description = *up.Description
		}
		if up.GoalCents != nil {
			in.GoalCents = *up.GoalCents
		}
		if up.StartsAt != nil {
			in.StartsAt = up.StartsAt
		}
		if up.Deadline != nil {
			in.Deadline = *up.Deadline
		}
		if up.Mode != nil {
			in.Mode = *up.Mode
		}
		if up.Tiers != nil {
			in.Tiers = up.Tiers
		}
		if up.VATRateBP != nil {
			in.VATRateBP = up.VATRateBP
		}
		site, err := calendar.LoadSite(ctx, tx, c.SiteID)
		if err != nil {
			return err
		}
		if err := s.validateCampaign(&in, site, now); err != nil {
			return err
		}
		moved := !in.Deadline.Equal(c.Deadline)
		c.Title, c.Description, c.GoalCents, c.StartsAt, c.Deadline = in.Title, in.Description, in.GoalCents, *in.StartsAt, in.Deadline.UTC()
		c.Mode, c.Tiers, c.VATRateBP, c.UpdatedAt = in.Mode, in.Tiers, *in.VATRateBP, now
		if _, err := tx.NewUpdate().Model(c).WherePK().Column("title", "description", "goal_cents", "starts_at", "deadline", "mode",
			"tiers", "vat_rate_bp", "updated_at").Exec(ctx); err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		out = c
		if moved {
			// The job of the old deadline finds the campaign not due and
			// does nothing.
			return s.schedule(ctx, tx, CampaignDeadlineArgs{CampaignID: c.ID}, c.Deadline)
		}
		return nil
	})
	return out, err
}

// CampaignDeadlineArgs is the durable job that settles a campaign at its
// deadline (and retries Stripe refunds of a failed one until they are done).
type CampaignDeadlineArgs struct {
	CampaignID string `json:"campaign_id"`
}

// Kind names the job in river_job. It keeps the name it had when billing
// held the campaigns, so that jobs queued then still find their worker.
func (CampaignDeadlineArgs) Kind() string { return "billing.campaign_deadline" }

type campaignDeadlineWorker struct {
	river.WorkerDefaults[CampaignDeadlineArgs]
	svc *Service
}

func (w *campaignDeadlineWorker) Work(ctx context.Context, job *river.Job[CampaignDeadlineArgs]) error {
	_, err := w.svc.SettleCampaign(ctx, job.Args.CampaignID, false)
	return err
}

// AddWorkers registers the campaigns' job kind.
func (s *Service) AddWorkers(w *river.Workers) error {
	return river.AddWorkerSafely(w, &campaignDeadlineWorker{svc: s})
}

// schedule inserts a job in the caller's transaction.
func (s *Contributions) schedule(ctx context.Context, tx bun.IDB, args river.JobArgs, at time.Time) error {
	if _, err := s.jobs.InsertTx(ctx, tx, args, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("schedule %s: %w", args.Kind(), err)
	}
	return nil
}

// CloseCampaign ends a campaign p runs before its deadline and settles it
// now.
func (s *Service) CloseCampaign(ctx context.Context, p *identity.Principal, campaignID string) (*Campaign, error) {
	if _, err := s.RunCampaign(ctx, p, campaignID); err != nil {
		return nil, err
	}
	return s.SettleCampaign(ctx, campaignID, true)
}

// EventCampaignSettled tells integrators a campaign ended: succeeded (its
// credit vests) or failed (online contributions are refunded).
const EventCampaignSettled = "campaign.settled"

// CampaignSettledEvent is the data of campaign.settled.
type CampaignSettledEvent struct {
	CampaignID  string `json:"campaign_id"`
	SiteID      string `json:"site_id"`
	Title       string `json:"title"`
	Status      string `json:"status"`
	Mode        string `json:"mode"`
	GoalCents   int64  `json:"goal_cents"`
	RaisedCents int64  `json:"raised_cents"`
	ClosedEarly bool   `json:"closed_early"`
}

// Raised sums the money a campaign has in (paid contributions).
func raised(ctx context.Context, idb bun.IDB, campaignID string) (cents int64, backers int, err error) {
	var row struct {
		Sum   int64 `bun:"s"`
		Count int   `bun:"n"`
	}
	if err := idb.NewSelect().Model((*Contribution)(nil)).ColumnExpr("COALESCE(SUM(amount_cents), 0) AS s, COUNT(*) AS n").
		Where("campaign_id = ? AND status = ?", campaignID, ContribPaid).Scan(ctx, &row); err != nil {
		return 0, 0, fmt.Errorf("sum contributions: %w", err)
	}
	return row.Sum, row.Count, nil
}

// SettleCampaign settles a campaign whose deadline has passed (or now,
// with early): exactly once, however many jobs, replicas or managers try
// at the same time. The status moves from open by a conditional UPDATE in
// the transaction that vests or voids the pending credit, so only the one
// that changed it does the rest. Then, for a failed campaign, the online
// contributions are refunded through Stripe (idempotent on our ids); a
// refund that fails makes the job fail, and River tries again.
func (s *Service) SettleCampaign(ctx context.Context, campaignID string, early bool) (*Campaign, error) {
	var out *Campaign
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c, err := getCampaign(ctx, tx, campaignID, true)
		if err != nil {
			return err
		}
		out = c
		now := s.now()
		if c.Status != CampaignOpen || (!early && now.Before(c.Deadline)) {
			return nil
		}
		sum, _, err := raised(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		status := CampaignSucceeded
		if c.Mode == ModeAllOrNothing && sum < c.GoalCents {
			status = CampaignFailed
		}
		q := tx.NewUpdate().Model((*Campaign)(nil)).Set("status = ?, settled_at = ?, updated_at = ?", status, now, now).
			Where("id = ? AND status = ?", c.ID, CampaignOpen)
		if early {
			q = q.Set("closed_early_at = ?", now)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("settle campaign: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err // settled by someone else meanwhile
		}
		c.Status, c.SettledAt, c.UpdatedAt = status, &now, now
		if early {
			c.ClosedEarlyAt = &now
		}
		if err := s.events.Publish(ctx, tx, events.New(EventCampaignSettled, c.SiteID, now, CampaignSettledEvent{
			CampaignID: c.ID, SiteID: c.SiteID, Title: c.Title, Status: status, Mode: c.Mode,
			GoalCents: c.GoalCents, RaisedCents: sum, ClosedEarly: early})); err != nil {
			return err
		}
		if c.Mode == ModeKeepItAll {
			return nil // its credit vested at once
		}
		if status == CampaignSucceeded {
			return s.ledger.SettlePending(ctx, tx, c.ID, false, "campaign reached its goal: "+c.Title)
		}
		if err := s.ledger.SettlePending(ctx, tx, c.ID, true, "campaign missed its goal: "+c.Title); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Contribution)(nil)).Set("status = ?, updated_at = ?", ContribRefundDue, now).
			Where("campaign_id = ? AND platform = 'stripe' AND status = ?", c.ID, ContribPaid).Exec(ctx); err != nil {
			return fmt.Errorf("mark refunds due: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if out.Status == CampaignFailed {
		if err := s.refundDue(ctx, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// refundDue refunds, through Stripe, the online contributions of a failed
// campaign not refunded yet, each with its credit note.
func (s *Service) refundDue(ctx context.Context, c *Campaign) error {
	var due []Contribution
	if err := s.db.NewSelect().Model(&due).Where("campaign_id = ? AND status = ?", c.ID, ContribRefundDue).Order("id").Scan(ctx); err != nil {
		return fmt.Errorf("list refunds due: %w", err)
	}
	var errList []error
	for i := range due {
		if err := s.refundContribution(ctx, &due[i]); err != nil {
			errList = append(errList, err)
		}
	}
	return errors.Join(errList...)
}

// refundContribution refunds one online contribution at Stripe (the
// idempotency key makes a retry ask once), then records it with its credit
// note. A charge.refunded webhook for it later finds it refunded.
func (s *Service) refundContribution(ctx context.Context, c *Contribution) error {
	if s.payments.OnlinePaymentReady() != nil || c.StripePaymentIntentID == nil {
		return fmt.Errorf("refund contribution %s: online payment is not configured", c.ID)
	}
	if err := s.payments.StripeRefund(ctx, *c.StripePaymentIntentID, c.AmountCents-c.RefundedCents, "relais-campaign-refund-"+c.ID); err != nil {
		slog.WarnContext(ctx, "campaign refund failed", "contribution_id", c.ID, "error", err)
		return err
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var cur Contribution
		found, err := billing.LockStripeRow(ctx, tx, &cur, "id = ?", c.ID)
		if err != nil || !found {
			return fmt.Errorf("lock contribution: %w", err)
		}
		if cur.Status != ContribRefundDue {
			return nil
		}
		return s.recordContributionRefund(ctx, tx, &cur, cur.AmountCents)
	})
}

// recordContributionRefund marks refunded cents of a contribution (the
// cumulative figure) and issues the credit note of the difference.
func (s *Contributions) recordContributionRefund(ctx context.Context, tx bun.IDB, c *Contribution, refundedCents int64) error {
	delta := refundedCents - c.RefundedCents
	if delta <= 0 {
		return nil
	}
	now := s.now()
	c.RefundedCents, c.UpdatedAt = refundedCents, now
	if c.RefundedCents >= c.AmountCents {
		c.Status = ContribRefunded
	}
	if _, err := tx.NewUpdate().Model(c).WherePK().Column("refunded_cents", "status", "updated_at").Exec(ctx); err != nil {
		return fmt.Errorf("record contribution refund: %w", err)
	}
	if c.InvoiceID == nil {
		return nil
	}
	in := invoicing.CreditNoteInput{Reason: "Remboursement de la contribution", Refund: &invoicing.InvoicePayment{PaidAt: now, Method: billing.MethodCard, Reference: c.ExternalID}}
	if delta < c.AmountCents {
		if milli := (delta*1000*2 + c.AmountCents) / (2 * c.AmountCents); milli > 0 && milli < 1000 {
			in.Lines = []invoicing.CreditLine{{Position: 1, QuantityMilli: milli}}
		}
	}
	if _, err := s.invoicer.IssueCreditNote(ctx, tx, *c.InvoiceID, in); err != nil {
		return fmt.Errorf("credit note of contribution %s: %w", c.ID, err)
	}
	return nil
}

// Housekeeping is the periodic safety net behind the durable jobs: it
// abandons unpaid checkouts and settles campaigns past their deadline
// (and retries their refunds). Both are idempotent. (The ledger's
// ExpireDue expires credit past its date.)
func (s *Service) Housekeeping(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	// An online contribution whose checkout was left unpaid for a day is
	// abandoned, as other payments are; a SEPA debit that settles later
	// still revives it through the webhook.
	res, err := s.db.NewUpdate().Model((*Contribution)(nil)).Set("status = ?, updated_at = ?", ContribExpired, now).
		Where("status = ? AND platform = 'stripe' AND created_at <= ?", ContribPending, now.Add(-24*time.Hour)).Exec(ctx)
	if err != nil {
		return n, fmt.Errorf("expire abandoned contributions: %w", err)
	}
	expired, _ := res.RowsAffected()
	n += expired
	var due []string
	if err := s.db.NewSelect().Model((*Campaign)(nil)).Column("id").
		Where("(status = ? AND deadline <= ?) OR id IN (SELECT campaign_id FROM campaign_contributions WHERE status = ?)",
			CampaignOpen, now, ContribRefundDue).Scan(ctx, &due); err != nil {
		return n, fmt.Errorf("find due campaigns: %w", err)
	}
	var errList []error
	for _, c := range due {
		if _, err := s.SettleCampaign(ctx, c, false); err != nil {
			errList = append(errList, err)
		}
		n++
	}
	return n, errors.Join(errList...)
}

// creditContribution grants a paid contribution's reward to its member:
// pending while an all_or_nothing campaign is open, spendable otherwise,
// nothing once it failed. It does nothing for a contribution without a
// member (held until one registers with its email and verifies it), below every tier, or
// already credited. The caller holds the campaign's row.
func (s *Contributions) creditContribution(ctx context.Context, tx bun.IDB, c *Campaign, k *Contribution) error {
	if k.UserID == nil || k.LotID != nil || k.CreditAmount <= 0 || k.Status != ContribPaid || c.Status == CampaignFailed {
		return nil
	}
	var expires *time.Time
	if k.TierIndex != nil && *k.TierIndex < len(c.Tiers) {
		if days := c.Tiers[*k.TierIndex].ExpiresAfterDays; days > 0 {
			base := k.ContributedAt
			if c.Mode == ModeAllOrNothing && c.Deadline.After(base) {
				base = c.Deadline // the credit vests at the deadline
			}
			e := base.AddDate(0, 0, days).UTC()
			expires = &e
		}
	}
	lotID, err := s.ledger.CreditCampaign(ctx, tx, ledger.CampaignCredit{UserID: *k.UserID, CampaignID: c.ID, SiteID: c.SiteID,
		Unit: k.CreditUnit, ResourceKind: k.CreditResourceKind, Amount: k.CreditAmount, ExpiresAt: expires,
		Pending: c.Mode == ModeAllOrNothing && c.Status == CampaignOpen,
		Reason:  "contribution " + k.ReceiptNumber() + " to " + c.Title})
	if err != nil {
		return err
	}
	k.LotID = &lotID
	if _, err := tx.NewUpdate().Model(k).WherePK().Column("lot_id").Exec(ctx); err != nil {
		return fmt.Errorf("link contribution credit: %w", err)
	}
	return nil
}

// nextReceipt numbers a campaign's next contribution. The caller holds the
// campaign's row (PostgreSQL) or the write lock (SQLite).
func nextReceipt(ctx context.Context, tx bun.IDB, campaignID string) (int, error) {
	var n int
	if err := tx.NewSelect().Model((*Contribution)(nil)).ColumnExpr("COALESCE(MAX(receipt_seq), 0)").
		Where("campaign_id = ?", campaignID).Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("next receipt number: %w", err)
	}
	return n + 1, nil
}

// applyTier fills a contribution's reward from the campaign's tiers.
func (c *Campaign) applyTier(k *Contribution) {
	if i := c.tierFor(k.AmountCents); i >= 0 {
		t := c.Tiers[i]
		k.TierIndex = &i
		k.CreditUnit, k.CreditAmount, k.CreditResourceKind = t.CreditUnit, t.CreditAmount, t.ResourceKind
	}
}

// ClaimContributions gives a member the contributions made with their
// email before they had an account (imported ones, typically), and their
// credit, once the member has proved the address is theirs (access's
// email verification): otherwise whoever registered first with a backer's
// address would collect the backer's credit. It is called when a member
// verifies their address and, lazily, when they read their credit.
func (s *Contributions) ClaimContributions(ctx context.Context, userID string) error {
	email, verified, err := s.accounts.VerifiedEmail(ctx, s.db, userID)
	if err != nil {
		return fmt.Errorf("read member email: %w", err)
	}
	if !verified {
		return nil // unknown, gone, or not verified yet
	}
	n, err := s.db.NewSelect().Model((*Contribution)(nil)).Where("user_id IS NULL AND email = ?", normEmail(email)).Count(ctx)
	if err != nil || n == 0 {
		return err
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var ks []Contribution
		if err := tx.NewSelect().Model(&ks).Where("user_id IS NULL AND email = ?", normEmail(email)).Order("id").Scan(ctx); err != nil {
			return fmt.Errorf("find held contributions: %w", err)
		}
		for i := range ks {
			k := &ks[i]
			c, err := getCampaign(ctx, tx, k.CampaignID, true)
			if err != nil {
				return err
			}
			k.UserID = &userID
			if _, err := tx.NewUpdate().Model(k).WherePK().Column("user_id").Where("user_id IS NULL").Exec(ctx); err != nil {
				return fmt.Errorf("claim contribution: %w", err)
			}
			if err := s.creditContribution(ctx, tx, c, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func normEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CampaignProgress is a campaign's public figures.
type CampaignProgress struct {
	RaisedCents int64
	Backers     int
	PublicNames []string
}

// Progress returns what a public campaign page shows: money raised, number
// of backers, and the names of those who asked to be named.
func (s *Service) Progress(ctx context.Context, campaignID string) (*CampaignProgress, error) {
	sum, n, err := raised(ctx, s.db, campaignID)
	if err != nil {
		return nil, err
	}
	p := &CampaignProgress{RaisedCents: sum, Backers: n, PublicNames: []string{}}
	if err := s.db.NewSelect().Model((*Contribution)(nil)).Column("public_name").
		Where("campaign_id = ? AND status = ? AND public_name IS NOT NULL", campaignID, ContribPaid).
		Order("contributed_at", "id").Scan(ctx, &p.PublicNames); err != nil {
		return nil, fmt.Errorf("list public names: %w", err)
	}
	return p, nil
}

// ContributionFilter selects a campaign's contributions: made in
// [From, To) (a zero bound is open), after the contribution id After, at
// most Limit (0: all).
type ContributionFilter struct {
	From, To time.Time
	After    string
	Limit    int
}

// ListContributions returns the contributions of a campaign p runs that f
// selects, in the order they were recorded.
func (s *Service) ListContributions(ctx context.Context, p *identity.Principal, campaignID string, f ContributionFilter) ([]Contribution, error) {
	if _, err := s.RunCampaign(ctx, p, campaignID); err != nil {
		return nil, err
	}
	return s.listContributions(ctx, campaignID, f)
}

func (s *Service) listContributions(ctx context.Context, campaignID string, f ContributionFilter) ([]Contribution, error) {
	out := []Contribution{}
	q := s.db.NewSelect().Model(&out).Where("campaign_id = ? AND id > ?", campaignID, f.After).Order("id")
	if !f.From.IsZero() {
		q = q.Where("contributed_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("contributed_at < ?", f.To.UTC())
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list contributions: %w", err)
	}
	return out, nil
}

// MyContributions returns the contributions of the member p, newest
// first, once those made with their verified address before they had an
// account are theirs (ClaimContributions).
func (s *Service) MyContributions(ctx context.Context, p *identity.Principal) ([]Contribution, error) {
	if err := mayHoldCredit(p); err != nil {
		return nil, err
	}
	userID := p.UserID
	if err := s.ClaimContributions(ctx, userID); err != nil {
		return nil, err
	}
	out := []Contribution{}
	if err := s.db.NewSelect().Model(&out).Where("user_id = ?", userID).Order("created_at DESC", "id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list contributions: %w", err)
	}
	return out, nil
}

// GetContribution returns one contribution.
func (s *Service) GetContribution(ctx context.Context, contributionID string) (*Contribution, error) {
	notFound := &errs.Problem{Kind: errs.ErrNotFound, Code: "contribution_not_found", Detail: "no such contribution"}
	if !id.Valid(contributionID) {
		return nil, notFound
	}
	var k Contribution
	if err := s.db.NewSelect().Model(&k).Where("id = ?", contributionID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, notFound
		}
		return nil, fmt.Errorf("get contribution: %w", err)
	}
	return &k, nil
}
