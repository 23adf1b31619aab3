package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// CreditGrant is credit a manager gives (or takes back) with a reason.
type CreditGrant struct {
	UserID       string
	SiteID       string
	ActorID      string
	Unit         string
	ResourceKind string
	Amount       int64
	ExpiresAt    *time.Time
	Reason       string
}

// Adjust grants (action "grant") or withdraws ("withdraw") a member's
// credit usable at a site, as the manager p. The member sees the movement
// it answers.
func (s *Service) Adjust(ctx context.Context, p *identity.Principal, action string, g CreditGrant) (*MemberMovement, error) {
	switch action {
	case "grant":
		return s.Grant(ctx, p, g)
	case "withdraw":
		return s.Withdraw(ctx, p, g)
	}
	// Who may not adjust the site's credit learns that first, as before
	// any mistake in what they asked.
	if err := s.mayAdjust(ctx, p, g.SiteID); err != nil {
		return nil, err
	}
	return nil, errs.Invalid("action", "must be grant or withdraw")
}

// Grant gives a member credit usable at the manager's site. ActorID is
// the manager's (p's) own; the system names who it acts for.
func (s *Service) Grant(ctx context.Context, p *identity.Principal, g CreditGrant) (*MemberMovement, error) {
	if err := s.mayAdjust(ctx, p, g.SiteID); err != nil {
		return nil, err
	}
	g.ActorID = actorOf(p, g.ActorID)
	now := s.now()
	var v errs.Validator
	checkAdjustment(&v, g)
	v.Check(g.ExpiresAt == nil || g.ExpiresAt.After(now), "expires_at", "must be in the future")
	if err := v.Err(); err != nil {
		return nil, err
	}
	mv := &CreditMovement{Kind: MoveGrant, UserID: g.UserID, ActorID: &g.ActorID, Reason: strings.TrimSpace(g.Reason), CreatedAt: now}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := s.holdMember(ctx, tx, g.UserID); err != nil {
			return err
		}
		lot := &CreditLot{UserID: g.UserID, Unit: g.Unit, ResourceKind: g.ResourceKind, SiteID: &g.SiteID,
			Origin: OriginGrant, OriginID: g.ActorID, ExpiresAt: utcPtr(g.ExpiresAt), CreatedAt: now}
		if err := s.newLot(ctx, tx, lot); err != nil {
			return err
		}
		return post(ctx, tx, mv, []leg{{lot: lot.ID, from: acctGranted, to: memberAccount(g.UserID), amount: g.Amount}})
	})
	if err != nil {
		return nil, err
	}
	return s.movementOf(ctx, g.UserID, mv.ID)
}

// checkAdjustment is what a grant and a withdrawal both ask of g: an
// amount of credit and a reason the member will read.
func checkAdjustment(v *errs.Validator, g CreditGrant) {
	checkAmount(v, g.Unit, g.ResourceKind, g.Amount)
	v.Check(strings.TrimSpace(g.Reason) != "", "reason", "is required")
	v.Check(len(g.Reason) <= 500, "reason", "must be at most 500 bytes")
}

// Withdraw takes credit usable at the manager's site back from a member,
// the soonest-expiring first; never more than they hold.
func (s *Service) Withdraw(ctx context.Context, p *identity.Principal, g CreditGrant) (*MemberMovement, error) {
	if err := s.mayAdjust(ctx, p, g.SiteID); err != nil {
		return nil, err
	}
	g.ActorID = actorOf(p, g.ActorID)
	var v errs.Validator
	checkAdjustment(&v, g)
	v.Check(g.ExpiresAt == nil, "expires_at", "is only for grants")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	mv := &CreditMovement{Kind: MoveWithdraw, UserID: g.UserID, ActorID: &g.ActorID, Reason: strings.TrimSpace(g.Reason), CreatedAt: now}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := s.holdMember(ctx, tx, g.UserID); err != nil {
			return err
		}
		if _, err := lockHolder(ctx, tx, g.UserID); err != nil {
			return err
		}
		// Only the lots tied to this site: a manager does not take what
		// another site (or the network) gave.
		lots, err := heldLots(ctx, tx, memberAccount(g.UserID), &lotFilter{unit: g.Unit, kind: g.ResourceKind, now: now})
		if err != nil {
			return err
		}
		lots = slices.DeleteFunc(lots, func(l heldLot) bool { return l.SiteID == nil || *l.SiteID != g.SiteID })
		legs, got := take(lots, memberAccount(g.UserID), acctWithdrawn, g.Amount)
		if got < g.Amount {
			return errInsufficientCredit("amount", got)
		}
		return post(ctx, tx, mv, legs)
	})
	if err != nil {
		return nil, err
	}
	return s.movementOf(ctx, g.UserID, mv.ID)
}

// CreditGift is credit one member gives another.
type CreditGift struct {
	ToEmail      string
	Unit         string
	ResourceKind string
	Amount       int64
	Message      string
}

// Gift moves credit from one member to another, the soonest-expiring
// first. The recipient's credit keeps the giver's site and expiry: a lot
// per lot given. The giver is p, and sees the movement it answers.
func (s *Service) Gift(ctx context.Context, p *identity.Principal, g CreditGift) (*MemberMovement, error) {
	if err := MayHoldCredit(p); err != nil {
		return nil, err
	}
	from := p.UserID
	var v errs.Validator
	checkAmount(&v, g.Unit, g.ResourceKind, g.Amount)
	v.Check(strings.TrimSpace(g.ToEmail) != "", "to_email", "is required")
	v.Check(len(g.Message) <= 500, "message", "must be at most 500 bytes")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var mv *CreditMovement
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		recipient, err := s.accounts.ContactByEmail(ctx, tx, g.ToEmail)
		if errors.Is(err, errs.ErrNotFound) {
			return errs.Invalid("to_email", "no member has this email")
		}
		if err != nil {
			return fmt.Errorf("find recipient: %w", err)
		}
		to := recipient.ID
		if to == from {
			return errs.Invalid("to_email", "is your own account")
		}
		if err := lockHolders(ctx, tx, from, to); err != nil {
			return err
		}
		lots, err := heldLots(ctx, tx, memberAccount(from), &lotFilter{unit: g.Unit, kind: g.ResourceKind, now: now})
		if err != nil {
			return err
		}
		out, got := take(lots, memberAccount(from), acctTransfer, g.Amount)
		if got < g.Amount {
			return errInsufficientCredit("amount", got)
		}
		mv = &CreditMovement{Kind: MoveGift, UserID: from, CounterpartID: &to, Reason: strings.TrimSpace(g.Message), CreatedAt: now}
		legs := out
		for _, l := range out {
			src := lots[slices.IndexFunc(lots, func(h heldLot) bool { return h.ID == l.lot })]
			lot := &CreditLot{UserID: to, Unit: src.Unit, ResourceKind: src.ResourceKind, SiteID: src.SiteID,
				Origin: OriginGift, OriginID: src.ID, ExpiresAt: src.ExpiresAt, CreatedAt: now}
			if err := s.newLot(ctx, tx, lot); err != nil {
				return err
			}
			legs = append(legs, leg{lot: lot.ID, from: acctTransfer, to: memberAccount(to), amount: l.amount})
		}
		if err := post(ctx, tx, mv, legs); err != nil {
			return err
		}
		return s.publish(ctx, tx, EventGiftReceived, giftEvent(mv, to, g, lots, out))
	})
	if err != nil {
		return nil, err
	}
	return s.movementOf(ctx, from, mv.ID)
}

// giftEvent describes the gift mv to its recipient: the soonest expiry of
// the lots given, and their site when they share one.
func giftEvent(mv *CreditMovement, to string, g CreditGift, lots []heldLot, out []leg) CreditEvent {
	ev := CreditEvent{MovementID: mv.ID, UserID: to, FromUserID: mv.UserID, Unit: g.Unit, ResourceKind: g.ResourceKind, Amount: g.Amount}
	for i, l := range out {
		src := lots[slices.IndexFunc(lots, func(h heldLot) bool { return h.ID == l.lot })]
		ev.ExpiresAt = soonest(ev.ExpiresAt, src.ExpiresAt)
		site := ""
		if src.SiteID != nil {
			site = *src.SiteID
		}
		if i == 0 {
			ev.SiteID = site
		} else if ev.SiteID != site {
			ev.SiteID = ""
		}
	}
	return ev
}

var errUserNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "user_not_found", Detail: "no such user"}

// holdMember checks that credit may go to userID, an account not deleted,
// and keeps it so until tx ends.
func (s *Service) holdMember(ctx context.Context, tx bun.IDB, userID string) error {
	if !id.Valid(userID) {
		return errUserNotFound
	}
	c, err := s.accounts.HoldAccount(ctx, tx, userID)
	if errors.Is(err, errs.ErrNotFound) || (err == nil && c.Deleted) {
		return errUserNotFound
	}
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	return nil
}

// CreditBalance is what a member holds of one lot.
type CreditBalance struct {
	Lot       CreditLot
	Available int64 // spendable now
	Pending   int64 // waiting for its campaign to reach its goal
}

// Balances lists the credit of the member p that is not spent, expired or
// void, the soonest-expiring first.
func (s *Service) Balances(ctx context.Context, p *identity.Principal) ([]CreditBalance, error) {
	if err := MayHoldCredit(p); err != nil {
		return nil, err
	}
	userID := p.UserID
	now := s.now()
	var out []CreditBalance
	for i, acct := range []string{memberAccount(userID), pendingAccount(userID)} {
		lots, err := heldLots(ctx, s.db, acct, nil)
		if err != nil {
			return nil, err
		}
		for _, l := range lots {
			if l.expired(now) || l.Balance <= 0 {
				continue
			}
			j := slices.IndexFunc(out, func(b CreditBalance) bool { return b.Lot.ID == l.ID })
			if j < 0 {
				out = append(out, CreditBalance{Lot: l.CreditLot})
				j = len(out) - 1
			}
			if i == 0 {
				out[j].Available = l.Balance
			} else {
				out[j].Pending = l.Balance
			}
		}
	}
	slices.SortStableFunc(out, func(a, b CreditBalance) int {
		switch {
		case a.Lot.ExpiresAt == nil && b.Lot.ExpiresAt == nil:
			return strings.Compare(a.Lot.ID, b.Lot.ID)
		case a.Lot.ExpiresAt == nil:
			return 1
		case b.Lot.ExpiresAt == nil:
			return -1
		}
		return a.Lot.ExpiresAt.Compare(*b.Lot.ExpiresAt)
	})
	return out, nil
}

// MovementLine is what one movement did to one of the member's lots.
type MovementLine struct {
	LotID        string `bun:"lot_id"`
	Unit         string `bun:"unit"`
	ResourceKind string `bun:"resource_kind"`
	Pending      bool   `bun:"-"`
	Account      string `bun:"account"`
	Amount       int64  `bun:"amount"`
}

// MemberMovement is a movement as a member sees it: the lines on their
// own accounts.
type MemberMovement struct {
	CreditMovement
	Lines []MovementLine
}

// Movements lists the movements touching the credit of the member p,
// oldest first, after the movement id after (exclusive), at most limit.
func (s *Service) Movements(ctx context.Context, p *identity.Principal, after string, limit int) ([]MemberMovement, error) {
	if err := MayHoldCredit(p); err != nil {
		return nil, err
	}
	return s.memberMovements(ctx, p.UserID, after, limit, "")
}

// movementOf is one movement as the member userID sees it, to answer the
// operation that just made it.
func (s *Service) movementOf(ctx context.Context, userID, movementID string) (*MemberMovement, error) {
	mvs, err := s.memberMovements(ctx, userID, "", 1, movementID)
	if err != nil {
		return nil, err
	}
	if len(mvs) == 0 {
		return nil, fmt.Errorf("movement %s of %s: %w", movementID, userID, errs.ErrNotFound)
	}
	return &mvs[0], nil
}

// memberMovements lists the movements touching userID's credit (only the
// movement only, when not empty), oldest first, after the movement id
// after (exclusive), at most limit.
func (s *Service) memberMovements(ctx context.Context, userID, after string, limit int, only string) ([]MemberMovement, error) {
	accts := []string{memberAccount(userID), pendingAccount(userID)}
	var mvs []CreditMovement
	q := s.db.NewSelect().Model(&mvs).
		Where("cm.id IN (SELECT ce.movement_id FROM credit_entries AS ce WHERE ce.account IN (?))", bun.In(accts)).
		Order("cm.id").Limit(limit)
	if after != "" {
		q = q.Where("cm.id > ?", after)
	}
	if only != "" {
		q = q.Where("cm.id = ?", only)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list credit movements: %w", err)
	}
	out := make([]MemberMovement, len(mvs))
	if len(mvs) == 0 {
		return out, nil
	}
	ids := make([]string, len(mvs))
	for i, m := range mvs {
		ids[i] = m.ID
		out[i].CreditMovement = m
	}
	var lines []struct {
		MovementID string `bun:"movement_id"`
		MovementLine
	}
	if err := s.db.NewSelect().TableExpr("credit_entries AS ce").Join("JOIN credit_lots AS cl ON cl.id = ce.lot_id").
		ColumnExpr("ce.movement_id, ce.lot_id, cl.unit, cl.resource_kind, ce.account, ce.amount").
		Where("ce.movement_id IN (?) AND ce.account IN (?)", bun.In(ids), bun.In(accts)).
		OrderExpr("ce.movement_id, ce.id").Scan(ctx, &lines); err != nil {
		return nil, fmt.Errorf("list credit entries: %w", err)
	}
	for _, l := range lines {
		i := slices.IndexFunc(out, func(m MemberMovement) bool { return m.ID == l.MovementID })
		ml := l.MovementLine
		ml.Pending = ml.Account == pendingAccount(userID)
		out[i].Lines = append(out[i].Lines, ml)
	}
	return out, nil
}
