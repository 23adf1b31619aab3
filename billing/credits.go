package billing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// Credit units: money in cents, or minutes of one resource kind.
const (
	UnitCents   = "cents"
	UnitMinutes = "minutes"
)

// Where credit comes from (CreditLot.Origin).
const (
	OriginCampaign = "campaign"
	OriginPack     = "pack"
	OriginGrant    = "grant"
	OriginRefund   = "refund"
	OriginGift     = "gift"
)

// Movement kinds.
const (
	MoveCredit   = "credit"   // a contribution's credit (pending or vested)
	MoveVest     = "vest"     // pending credit becomes spendable
	MoveVoid     = "void"     // pending credit is cancelled
	MoveSpend    = "spend"    // a booking paid with credit
	MoveRelease  = "release"  // a cancelled booking gives credit back
	MoveGift     = "gift"     // from one member to another
	MoveGrant    = "grant"    // a manager gives credit
	MoveWithdraw = "withdraw" // a manager takes credit back
	MoveExpire   = "expire"   // credit past its date
)

// Accounts that are not a member's.
const (
	acctGranted   = "granted"
	acctWithdrawn = "withdrawn"
	acctSpent     = "spent"
	acctExpired   = "expired"
	acctVoided    = "voided"
	acctTransfer  = "transfer"
)

func memberAccount(userID string) string   { return "member:" + userID }
func pendingAccount(userID string) string  { return "pending:" + userID }
func campaignAccount(campID string) string { return "campaign:" + campID }

// CreditLot is credit as it was created: never changed afterwards. Its
// balance is the sum of its entries in its holder's account.
type CreditLot struct {
	bun.BaseModel `bun:"table:credit_lots,alias:cl"`

	ID           string     `bun:"id,pk"`
	UserID       string     `bun:"user_id"`
	Unit         string     `bun:"unit"`
	ResourceKind string     `bun:"resource_kind"`
	SiteID       *string    `bun:"site_id"`
	Origin       string     `bun:"origin"`
	OriginID     string     `bun:"origin_id"`
	ExpiresAt    *time.Time `bun:"expires_at"`
	CreatedAt    time.Time  `bun:"created_at"`
}

func (l *CreditLot) expired(now time.Time) bool {
	return l.ExpiresAt != nil && !now.Before(*l.ExpiresAt)
}

// CreditMovement is one event of the ledger; its entries say what moved.
type CreditMovement struct {
	bun.BaseModel `bun:"table:credit_movements,alias:cm"`

	ID            string    `bun:"id,pk"`
	Kind          string    `bun:"kind"`
	UserID        string    `bun:"user_id"`
	ReservationID *string   `bun:"reservation_id"`
	CampaignID    *string   `bun:"campaign_id"`
	CounterpartID *string   `bun:"counterpart_id"`
	ActorID       *string   `bun:"actor_id"`
	Reason        string    `bun:"reason"`
	CreatedAt     time.Time `bun:"created_at"`
}

// CreditEntry moves Amount of a lot into (positive) or out of (negative)
// an account.
type CreditEntry struct {
	bun.BaseModel `bun:"table:credit_entries,alias:ce"`

	ID         string `bun:"id,pk"`
	MovementID string `bun:"movement_id"`
	LotID      string `bun:"lot_id"`
	Account    string `bun:"account"`
	Amount     int64  `bun:"amount"`
}

// leg moves amount of a lot from one account to another: two entries that
// sum to zero.
type leg struct {
	lot      string
	from, to string
	amount   int64
}

// post writes a movement and its legs. It is the only way entries are
// written, so every movement balances on every lot.
func post(ctx context.Context, tx bun.IDB, mv *CreditMovement, legs []leg) error {
	if len(legs) == 0 {
		return nil
	}
	if mv.ID == "" {
		mv.ID = id.New()
	}
	if _, err := tx.NewInsert().Model(mv).Exec(ctx); err != nil {
		return fmt.Errorf("insert credit movement: %w", err)
	}
	entries := make([]CreditEntry, 0, 2*len(legs))
	for _, l := range legs {
		if l.amount <= 0 {
			return fmt.Errorf("credit movement %s: leg of %d", mv.Kind, l.amount)
		}
		entries = append(entries,
			CreditEntry{ID: id.New(), MovementID: mv.ID, LotID: l.lot, Account: l.from, Amount: -l.amount},
			CreditEntry{ID: id.New(), MovementID: mv.ID, LotID: l.lot, Account: l.to, Amount: l.amount})
	}
	if _, err := tx.NewInsert().Model(&entries).Exec(ctx); err != nil {
		return fmt.Errorf("insert credit entries: %w", err)
	}
	return nil
}

// ensureHolder creates the member's lock row the first time they receive
// credit.
func ensureHolder(ctx context.Context, tx bun.IDB, userID string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO credit_holders (user_id, created_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
		userID, now); err != nil {
		return fmt.Errorf("credit holder: %w", db.Classify(err))
	}
	return nil
}

// lockHolder serialises everything that takes credit from userID until the
// transaction ends: on PostgreSQL a row lock on their holder row, on SQLite
// the write lock every transaction holds from BEGIN. It reports false when
// the member never held credit.
func lockHolder(ctx context.Context, tx bun.IDB, userID string) (bool, error) {
	q := tx.NewSelect().Table("credit_holders").Column("user_id").Where("user_id = ?", userID)
	var got string
	if err := db.ForUpdate(q).Scan(ctx, &got); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, fmt.Errorf("lock credit holder: %w", err)
	}
	return true, nil
}

// lockHolders locks several members in one order, so that two gifts in
// opposite directions cannot deadlock.
func lockHolders(ctx context.Context, tx bun.IDB, userIDs ...string) error {
	ids := slices.Clone(userIDs)
	slices.Sort(ids)
	for _, u := range slices.Compact(ids) {
		if _, err := lockHolder(ctx, tx, u); err != nil {
			return err
		}
	}
	return nil
}

// newLot stores a lot and, when it expires, schedules its expiry.
func (s *Service) newLot(ctx context.Context, tx bun.IDB, l *CreditLot) error {
	if l.ID == "" {
		l.ID = id.New()
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = s.now()
	}
	if err := ensureHolder(ctx, tx, l.UserID, l.CreatedAt); err != nil {
		return err
	}
	if _, err := tx.NewInsert().Model(l).Exec(ctx); err != nil {
		return fmt.Errorf("insert credit lot: %w", err)
	}
	if l.ExpiresAt != nil {
		return s.schedule(ctx, tx, CreditExpiryArgs{LotID: l.ID}, *l.ExpiresAt)
	}
	return nil
}

// heldLot is a lot with what an account holds of it.
type heldLot struct {
	CreditLot `bun:",extend"`
	Balance   int64 `bun:"balance"`
}

// lotFilter selects the lots a spend may take from.
type lotFilter struct {
	unit, kind string
	site       string // "" for any site
	now        time.Time
}

// heldLots returns the lots account holds a positive balance of, the
// soonest-expiring first (lots that never expire last).
func heldLots(ctx context.Context, tx bun.IDB, account string, f *lotFilter) ([]heldLot, error) {
	var out []heldLot
	q := tx.NewSelect().Model(&out).ColumnExpr("cl.*").ColumnExpr("SUM(ce.amount) AS balance").
		Join("JOIN credit_entries AS ce ON ce.lot_id = cl.id").
		Where("ce.account = ?", account).
		GroupExpr("cl.id").Having("SUM(ce.amount) <> 0").
		OrderExpr("cl.expires_at IS NULL, cl.expires_at, cl.id")
	if f != nil {
		q = q.Where("cl.unit = ? AND cl.resource_kind = ?", f.unit, f.kind).
			Where("cl.expires_at IS NULL OR cl.expires_at > ?", f.now)
		if f.site != "" {
			q = q.Where("cl.site_id IS NULL OR cl.site_id = ?", f.site)
		}
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("read credit lots: %w", err)
	}
	return out, nil
}

// take plans legs moving up to want from account's lots, soonest-expiring
// first, into to. It returns the legs and what they add up to.
func take(lots []heldLot, account, to string, want int64) ([]leg, int64) {
	var legs []leg
	var got int64
	for _, l := range lots {
		if got == want {
			break
		}
		if l.Balance <= 0 {
			continue
		}
		n := min(l.Balance, want-got)
		legs = append(legs, leg{lot: l.ID, from: account, to: to, amount: n})
		got += n
	}
	return legs, got
}

var errInsufficientCredit = func(field string, have int64) error {
	return errs.Rule(field, "insufficient_credit", "the balance is %d", have)
}

func checkUnit(v *errs.Validator, unit, kind string) {
	switch unit {
	case UnitCents:
		v.Check(kind == "", "resource_kind", "money credit has no resource kind")
	case UnitMinutes:
		v.Check(kind != "", "resource_kind", "hour credit names the resource kind it applies to")
	default:
		v.Add("unit", "must be cents or minutes")
	}
}

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

// Grant gives a member credit usable at the manager's site.
func (s *Service) Grant(ctx context.Context, g CreditGrant) (*CreditMovement, error) {
	now := s.now()
	var v errs.Validator
	checkUnit(&v, g.Unit, g.ResourceKind)
	v.Check(g.Amount > 0, "amount", "must be positive")
	v.Check(g.Amount <= maxCreditAmount, "amount", "must be at most %d", maxCreditAmount)
	v.Check(strings.TrimSpace(g.Reason) != "", "reason", "is required")
	v.Check(len(g.Reason) <= 500, "reason", "must be at most 500 bytes")
	v.Check(g.ExpiresAt == nil || g.ExpiresAt.After(now), "expires_at", "must be in the future")
	if err := v.Err(); err != nil {
		return nil, err
	}
	mv := &CreditMovement{Kind: MoveGrant, UserID: g.UserID, ActorID: &g.ActorID, Reason: strings.TrimSpace(g.Reason), CreatedAt: now}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := checkUser(ctx, tx, g.UserID, "user_id"); err != nil {
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
	return mv, nil
}

// Withdraw takes credit usable at the manager's site back from a member,
// the soonest-expiring first; never more than they hold.
func (s *Service) Withdraw(ctx context.Context, g CreditGrant) (*CreditMovement, error) {
	var v errs.Validator
	checkUnit(&v, g.Unit, g.ResourceKind)
	v.Check(g.Amount > 0, "amount", "must be positive")
	v.Check(g.Amount <= maxCreditAmount, "amount", "must be at most %d", maxCreditAmount)
	v.Check(strings.TrimSpace(g.Reason) != "", "reason", "is required")
	v.Check(len(g.Reason) <= 500, "reason", "must be at most 500 bytes")
	v.Check(g.ExpiresAt == nil, "expires_at", "is only for grants")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	mv := &CreditMovement{Kind: MoveWithdraw, UserID: g.UserID, ActorID: &g.ActorID, Reason: strings.TrimSpace(g.Reason), CreatedAt: now}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := checkUser(ctx, tx, g.UserID, "user_id"); err != nil {
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
	return mv, nil
}

// maxCreditAmount bounds one grant, withdrawal or gift: 1 000 000 € or as
// many minutes.
const maxCreditAmount = 100_000_000

// CreditGift is credit one member gives another.
type CreditGift struct {
	FromUserID   string
	ToEmail      string
	Unit         string
	ResourceKind string
	Amount       int64
	Message      string
}

// Gift moves credit from one member to another, the soonest-expiring
// first. The recipient's credit keeps the giver's site and expiry: a lot
// per lot given.
func (s *Service) Gift(ctx context.Context, g CreditGift) (*CreditMovement, error) {
	var v errs.Validator
	checkUnit(&v, g.Unit, g.ResourceKind)
	v.Check(g.Amount > 0, "amount", "must be positive")
	v.Check(g.Amount <= maxCreditAmount, "amount", "must be at most %d", maxCreditAmount)
	v.Check(strings.TrimSpace(g.ToEmail) != "", "to_email", "is required")
	v.Check(len(g.Message) <= 500, "message", "must be at most 500 bytes")
	if err := v.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	var mv *CreditMovement
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var to string
		err := tx.NewSelect().Table("users").Column("id").
			Where("lower(email) = lower(?) AND deleted_at IS NULL", strings.TrimSpace(g.ToEmail)).Scan(ctx, &to)
		if isNoRows(err) {
			return errs.Invalid("to_email", "no member has this email")
		}
		if err != nil {
			return fmt.Errorf("find recipient: %w", err)
		}
		if to == g.FromUserID {
			return errs.Invalid("to_email", "is your own account")
		}
		if err := lockHolders(ctx, tx, g.FromUserID, to); err != nil {
			return err
		}
		lots, err := heldLots(ctx, tx, memberAccount(g.FromUserID), &lotFilter{unit: g.Unit, kind: g.ResourceKind, now: now})
		if err != nil {
			return err
		}
		out, got := take(lots, memberAccount(g.FromUserID), acctTransfer, g.Amount)
		if got < g.Amount {
			return errInsufficientCredit("amount", got)
		}
		mv = &CreditMovement{Kind: MoveGift, UserID: g.FromUserID, CounterpartID: &to, Reason: strings.TrimSpace(g.Message), CreatedAt: now}
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
		return post(ctx, tx, mv, legs)
	})
	if err != nil {
		return nil, err
	}
	return mv, nil
}

func checkUser(ctx context.Context, tx bun.IDB, userID, field string) error {
	if !id.Valid(userID) {
		return &errs.Problem{Kind: errs.ErrNotFound, Code: "user_not_found", Detail: "no such user"}
	}
	n, err := tx.NewSelect().Table("users").Where("id = ? AND deleted_at IS NULL", userID).Count(ctx)
	if err != nil {
		return fmt.Errorf("find user: %w", err)
	}
	if n == 0 {
		return &errs.Problem{Kind: errs.ErrNotFound, Code: "user_not_found", Detail: "no such user"}
	}
	return nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreditBalance is what a member holds of one lot.
type CreditBalance struct {
	Lot       CreditLot
	Available int64 // spendable now
	Pending   int64 // waiting for its campaign to reach its goal
}

// Balances lists the member's credit that is not spent, expired or void,
// the soonest-expiring first.
func (s *Service) Balances(ctx context.Context, userID string) ([]CreditBalance, error) {
	if err := s.ClaimContributions(ctx, userID); err != nil {
		return nil, err
	}
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

// Movements lists the movements touching the member's credit, oldest
// first, after the movement id after (exclusive), at most limit.
func (s *Service) Movements(ctx context.Context, userID, after string, limit int) ([]MemberMovement, error) {
	accts := []string{memberAccount(userID), pendingAccount(userID)}
	var mvs []CreditMovement
	q := s.db.NewSelect().Model(&mvs).
		Where("cm.id IN (SELECT ce.movement_id FROM credit_entries AS ce WHERE ce.account IN (?))", bun.In(accts)).
		Order("cm.id").Limit(limit)
	if after != "" {
		q = q.Where("cm.id > ?", after)
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

// CreditExpiryArgs is the durable job that expires what is left of a lot
// at its date.
type CreditExpiryArgs struct {
	LotID string `json:"lot_id"`
}

// Kind names the job in river_job.
func (CreditExpiryArgs) Kind() string { return "billing.credit_expiry" }

type creditExpiryWorker struct {
	river.WorkerDefaults[CreditExpiryArgs]
	svc *Service
}

func (w *creditExpiryWorker) Work(ctx context.Context, job *river.Job[CreditExpiryArgs]) error {
	return w.svc.ExpireLot(ctx, job.Args.LotID)
}

// AddWorkers registers billing's job kinds.
func (s *Service) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &creditExpiryWorker{svc: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &campaignDeadlineWorker{svc: s})
}

// schedule inserts a job in the caller's transaction, when billing has a
// queue and the caller a transaction.
func (s *Service) schedule(ctx context.Context, tx bun.IDB, args river.JobArgs, at time.Time) error {
	if s.jobs == nil {
		return nil
	}
	btx, ok := tx.(bun.Tx)
	if !ok {
		return fmt.Errorf("schedule %s: not inside a transaction", args.Kind())
	}
	if _, err := s.jobs.InsertTx(ctx, btx, args, &river.InsertOpts{ScheduledAt: at}); err != nil {
		return fmt.Errorf("schedule %s: %w", args.Kind(), err)
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

// expireDue expires every lot whose date has passed and still holds
// credit: the safety net behind the per-lot jobs.
func (s *Service) expireDue(ctx context.Context, now time.Time) (int64, error) {
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
