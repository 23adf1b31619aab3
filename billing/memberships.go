package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Membership statuses.
const (
	StatusPending   = "pending"
	StatusActive    = "active"
	StatusPastDue   = "past_due"
	StatusSuspended = "suspended"
	StatusCanceled  = "canceled"
)

// Sources of a membership or pass.
const (
	SourceStripe = "stripe"
	SourceOnSite = "onsite"
)

// Membership is a member's subscription to a monthly plan.
type Membership struct {
	bun.BaseModel `bun:"table:memberships,alias:m"`

	ID                   string     `bun:"id,pk"`
	UserID               string     `bun:"user_id"`
	PlanID               string     `bun:"plan_id"`
	SiteID               *string    `bun:"site_id"`
	Status               string     `bun:"status"`
	Source               string     `bun:"source"`
	CurrentPeriodStart   *time.Time `bun:"current_period_start"`
	CurrentPeriodEnd     *time.Time `bun:"current_period_end"`
	CancelAtPeriodEnd    bool       `bun:"cancel_at_period_end"`
	CanceledAt           *time.Time `bun:"canceled_at"`
	PastDueSince         *time.Time `bun:"past_due_since"`
	NextPlanID           *string    `bun:"next_plan_id"`
	StripeSubscriptionID *string    `bun:"stripe_subscription_id"`
	CreatedAt            time.Time  `bun:"created_at"`
	UpdatedAt            time.Time  `bun:"updated_at"`
}

// Usable reports whether the membership gives its rights at instant t:
// active within (or, when renewing, beyond) its period, or past due within
// the grace period.
func (m *Membership) Usable(t time.Time, grace time.Duration) bool {
	switch m.Status {
	case StatusActive:
	case StatusPastDue:
		if m.PastDueSince == nil || !t.Before(m.PastDueSince.Add(grace)) {
			return false
		}
	default:
		return false
	}
	if m.CurrentPeriodStart != nil && t.Before(*m.CurrentPeriodStart) {
		return false
	}
	// A membership that ends at its period's end gives nothing after it.
	if m.CancelAtPeriodEnd && m.CurrentPeriodEnd != nil && !t.Before(*m.CurrentPeriodEnd) {
		return false
	}
	return true
}

// periodStart is the start of the monthly period containing t, counting
// whole months from the current period's start.
func (m *Membership) periodStart(t time.Time, loc *time.Location) time.Time {
	if m.CurrentPeriodStart == nil {
		return t
	}
	start := *m.CurrentPeriodStart
	for i := 0; t.Before(start) && i < 240; i++ {
		start = addMonths(start, -1, loc)
	}
	for i := 0; i < 240; i++ {
		next := addMonths(start, 1, loc)
		if t.Before(next) {
			break
		}
		start = next
	}
	return start.UTC()
}

var errMembershipNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "membership_not_found", Detail: "no such membership"}

// GetMembership returns one membership.
func (s *Service) GetMembership(ctx context.Context, membershipID string) (*Membership, error) {
	return getMembership(ctx, s.db, membershipID, false)
}

func getMembership(ctx context.Context, idb bun.IDB, membershipID string, forUpdate bool) (*Membership, error) {
	if !id.Valid(membershipID) {
		return nil, errMembershipNotFound
	}
	var m Membership
	q := idb.NewSelect().Model(&m).Where("id = ?", membershipID)
	if forUpdate {
		q = db.ForUpdate(q)
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errMembershipNotFound
		}
		return nil, fmt.Errorf("get membership: %w", err)
	}
	return &m, nil
}

// ListMemberships returns a user's memberships, newest first.
func (s *Service) ListMemberships(ctx context.Context, userID string) ([]Membership, error) {
	ms := []Membership{}
	if err := s.db.NewSelect().Model(&ms).Where("user_id = ?", userID).Order("created_at DESC", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list memberships: %w", err)
	}
	return ms, nil
}

// SiteMember is a membership with its holder's name and email, for the
// managers' view of their site.
type SiteMember struct {
	Membership
	UserName  string
	UserEmail string
}

// SiteMembers returns the memberships valid on a site (its plans and the
// network's) that are not cancelled, with who holds them, by name. The
// names come from identity in one batch for the whole list.
func (s *Service) SiteMembers(ctx context.Context, siteID string) ([]SiteMember, error) {
	var ms []Membership
	if err := s.db.NewSelect().Model(&ms).
		Where("site_id = ? OR site_id IS NULL", siteID).
		Where("status <> ?", StatusCanceled).
		Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list site members: %w", err)
	}
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	contacts, err := s.accounts.Contacts(ctx, s.db, ids)
	if err != nil {
		return nil, fmt.Errorf("list site members: %w", err)
	}
	out := make([]SiteMember, 0, len(ms))
	for _, m := range ms {
		c := contacts[m.UserID]
		out = append(out, SiteMember{Membership: m, UserName: c.Name, UserEmail: c.Email})
	}
	// By name, then (stable) by the memberships' creation, as the listing
	// always was.
	slices.SortStableFunc(out, func(a, b SiteMember) int { return strings.Compare(a.UserName, b.UserName) })
	return out, nil
}

// createMembership inserts a pending membership for plan; activation comes
// with the payment.
func (s *Service) createMembership(ctx context.Context, tx bun.IDB, userID string, p *Plan, source string) (*Membership, error) {
	if p.Kind != PlanMembership {
		return nil, errs.Invalid("plan_id", "this plan is not a membership")
	}
	now := s.now()
	m := &Membership{ID: id.New(), UserID: userID, PlanID: p.ID, SiteID: p.SiteID, Status: StatusPending, Source: source, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
		if db.IsForeignKey(err) {
			return nil, errs.Invalid("user_id", "no such user")
		}
		return nil, fmt.Errorf("insert membership: %w", err)
	}
	return m, nil
}

// activate starts (or renews) m for one month from start.
func (s *Service) activate(ctx context.Context, tx bun.IDB, m *Membership, start time.Time) error {
	loc := siteLocation(ctx, tx, m.SiteID)
	end := addMonths(start, 1, loc).UTC()
	start = start.UTC()
	m.Status, m.CurrentPeriodStart, m.CurrentPeriodEnd, m.PastDueSince, m.UpdatedAt = StatusActive, &start, &end, nil, s.now()
	return s.saveMembership(ctx, tx, m)
}

// saveMembership stores m and publishes what changed for integrators
// (created, renewed, past due, suspended, cancelled), in tx.
func (s *Service) saveMembership(ctx context.Context, tx bun.IDB, m *Membership) error {
	before, periodStart, err := storedMembership(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	if _, err := tx.NewUpdate().Model(m).WherePK().ExcludeColumn("id", "user_id", "created_at").Exec(ctx); err != nil {
		return fmt.Errorf("update membership: %w", err)
	}
	newPeriod := m.CurrentPeriodStart != nil && (periodStart == nil || !periodStart.Equal(*m.CurrentPeriodStart))
	return s.publishMembership(ctx, tx, membershipEvent(before, m, newPeriod), m)
}

// CancelMembership ends a membership: at the end of the period (the
// default, as members expect) or at once.
func (s *Service) CancelMembership(ctx context.Context, membershipID string, atPeriodEnd bool) (*Membership, error) {
	// A membership paid by a Stripe subscription is cancelled at Stripe
	// first, so Stripe stops charging; if Stripe cannot be reached nothing
	// changes here and the member may retry.
	if m, err := s.GetMembership(ctx, membershipID); err != nil {
		return nil, err
	} else if m.StripeSubscriptionID != nil && m.Status != StatusCanceled {
		if err := s.cancelAtStripe(*m.StripeSubscriptionID, m.ID, atPeriodEnd); err != nil {
			return nil, err
		}
	}
	var out *Membership
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		m, err := getMembership(ctx, tx, membershipID, true)
		if err != nil {
			return err
		}
		if m.Status == StatusCanceled {
			out = m
			return nil
		}
		now := s.now()
		if atPeriodEnd && m.Status != StatusPending && m.CurrentPeriodEnd != nil && now.Before(*m.CurrentPeriodEnd) {
			m.CancelAtPeriodEnd = true
		} else {
			m.Status, m.CanceledAt = StatusCanceled, &now
		}
		m.UpdatedAt = now
		out = m
		return s.saveMembership(ctx, tx, m)
	})
	return out, err
}

// ChangePlan moves a membership to another monthly plan: an upgrade (a
// dearer plan) applies now, a downgrade at the end of the period. A
// membership paid by a Stripe subscription is changed at Stripe (see
// planchange.go) and returned unchanged: the webhooks apply the change once
// Stripe has made it (and, for an upgrade, been paid the difference). If
// Stripe cannot be reached nothing changes and the member may retry.
func (s *Service) ChangePlan(ctx context.Context, membershipID, planID string) (*Membership, error) {
	m, err := s.GetMembership(ctx, membershipID)
	if err != nil {
		return nil, err
	}
	if m.StripeSubscriptionID != nil {
		cur, next, err := checkPlanChange(ctx, s.db, m, planID)
		if err != nil {
			return nil, err
		}
		if m.NextPlanID != nil && next.ID != m.PlanID && next.PriceCents > cur.PriceCents {
			// Stripe would prorate from the pending (cheaper) price, charging
			// more than the difference the member owes.
			return nil, errs.Rule("plan_id", "plan_change_pending",
				"a downgrade is pending: change back to the current plan first, then upgrade")
		}
		if next.ID == m.PlanID && m.NextPlanID == nil {
			return m, nil // nothing to change
		}
		if err := s.changePlanAtStripe(ctx, m, cur, next); err != nil {
			return nil, err
		}
		return m, nil
	}
	var out *Membership
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		m, err := getMembership(ctx, tx, membershipID, true)
		if err != nil {
			return err
		}
		cur, next, err := checkPlanChange(ctx, tx, m, planID)
		if err != nil {
			return err
		}
		switch {
		case next.ID == m.PlanID:
			m.NextPlanID = nil
		case next.PriceCents >= cur.PriceCents:
			m.PlanID, m.SiteID, m.NextPlanID = next.ID, next.SiteID, nil
		default:
			m.NextPlanID = &next.ID
		}
		m.UpdatedAt = s.now()
		out = m
		return s.saveMembership(ctx, tx, m)
	})
	return out, err
}

// checkPlanChange validates moving m to planID and returns both plans.
func checkPlanChange(ctx context.Context, idb bun.IDB, m *Membership, planID string) (cur, next *Plan, err error) {
	if m.Status != StatusActive && m.Status != StatusPastDue {
		return nil, nil, errs.Rule("membership_id", "membership_not_active", "only an active membership changes plan")
	}
	cur, err = getPlan(ctx, idb, m.PlanID)
	if err != nil {
		return nil, nil, err
	}
	next, err = getPlan(ctx, idb, planID)
	if err != nil {
		return nil, nil, errs.Invalid("plan_id", "no such plan")
	}
	if next.Kind != PlanMembership || (!next.Active && next.ID != cur.ID) {
		return nil, nil, errs.Invalid("plan_id", "not a membership plan on sale")
	}
	if (next.SiteID == nil) != (cur.SiteID == nil) || (next.SiteID != nil && *next.SiteID != *cur.SiteID) {
		return nil, nil, errs.Invalid("plan_id", "the new plan must be sold where the current one is")
	}
	if m.StripeSubscriptionID != nil && next.PriceCents < stripeMinimumCents {
		return nil, nil, errs.Rule("plan_id", "price_too_low_for_online_payment", "online payment needs a price of at least 0,50 €")
	}
	return cur, next, nil
}

// Renew starts the next period of an active membership once it is paid
// (on-site renewals, Stripe's invoice.paid), applying a pending downgrade.
func (s *Service) renew(ctx context.Context, tx bun.IDB, m *Membership) error {
	start := s.now()
	if m.CurrentPeriodEnd != nil {
		start = *m.CurrentPeriodEnd
	}
	if m.NextPlanID != nil {
		m.PlanID, m.NextPlanID = *m.NextPlanID, nil
	}
	return s.activate(ctx, tx, m, start)
}

// Lifecycle moves memberships along as time passes; the periodic billing
// job runs it. It is idempotent.
//   - past_due beyond the grace period → suspended;
//   - cancel_at_period_end and period over → canceled;
//   - on-site memberships whose period ended unpaid → past_due;
//   - pending for more than a day (a checkout never completed) → canceled.
func (s *Service) Lifecycle(ctx context.Context, now time.Time) (int64, error) {
	now = now.UTC()
	var total int64
	upd := func(q *bun.UpdateQuery) error {
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("membership lifecycle: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		return nil
	}
	// The transitions integrators are told of: each statement returns the
	// memberships it moved, whose events go in the same transaction.
	told := func(typ string, q func(tx bun.Tx) *bun.UpdateQuery) error {
		return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
			var moved []Membership
			if err := q(tx).Returning("id, user_id, plan_id, site_id, status, current_period_start, current_period_end").Scan(ctx, &moved); err != nil {
				return fmt.Errorf("membership lifecycle: %w", err)
			}
			for i := range moved {
				if err := s.publishMembership(ctx, tx, typ, &moved[i]); err != nil {
					return err
				}
			}
			total += int64(len(moved))
			return nil
		})
	}
	if err := told(EventMembershipSuspended, func(tx bun.Tx) *bun.UpdateQuery {
		return tx.NewUpdate().Model((*Membership)(nil)).Set("status = ?, updated_at = ?", StatusSuspended, now).
			Where("status = ? AND past_due_since <= ?", StatusPastDue, now.Add(-s.grace))
	}); err != nil {
		return total, err
	}
	if err := told(EventMembershipCancelled, func(tx bun.Tx) *bun.UpdateQuery {
		return tx.NewUpdate().Model((*Membership)(nil)).Set("status = ?, canceled_at = ?, updated_at = ?", StatusCanceled, now, now).
			Where("status IN (?) AND cancel_at_period_end AND current_period_end <= ?", bun.In([]string{StatusActive, StatusPastDue}), now)
	}); err != nil {
		return total, err
	}
	if err := told(EventMembershipPastDue, func(tx bun.Tx) *bun.UpdateQuery {
		return tx.NewUpdate().Model((*Membership)(nil)).Set("status = ?, past_due_since = current_period_end, updated_at = ?", StatusPastDue, now).
			Where("status = ? AND source = ? AND current_period_end <= ?", StatusActive, SourceOnSite, now)
	}); err != nil {
		return total, err
	}
	if err := upd(s.db.NewUpdate().Model((*Membership)(nil)).Set("status = ?, canceled_at = ?, updated_at = ?", StatusCanceled, now, now).
		Where("status = ? AND created_at <= ?", StatusPending, now.Add(-24*time.Hour))); err != nil {
		return total, err
	}
	// Not an online payment of charges whose debit is on its way: it holds
	// them until Stripe says how it ended.
	if err := upd(s.db.NewUpdate().TableExpr("payments").Set("status = 'expired', updated_at = ?", now).
		Where("status = 'pending' AND created_at <= ?", now.Add(-24*time.Hour)).
		Where("NOT (purpose = ? AND stripe_payment_intent_id IS NOT NULL)", PurposeUsage)); err != nil {
		return total, err
	}
	return total, nil
}
