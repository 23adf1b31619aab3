package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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

	ID            string  `bun:"id,pk"`
	Kind          string  `bun:"kind"`
	UserID        string  `bun:"user_id"`
	ReservationID *string `bun:"reservation_id"`
	// AtelierRegistrationID: the atelier registration a spend paid for
	// (or a release gave back), instead of a reservation.
	AtelierRegistrationID *string   `bun:"atelier_registration_id"`
	CampaignID            *string   `bun:"campaign_id"`
	CounterpartID         *string   `bun:"counterpart_id"`
	ActorID               *string   `bun:"actor_id"`
	Reason                string    `bun:"reason"`
	CreatedAt             time.Time `bun:"created_at"`
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
		return s.scheduleExpiry(ctx, tx, l.ID, *l.ExpiresAt)
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

// checkAmount is the one rule on an amount of credit a member moves (a
// grant, a withdrawal, a gift): its unit, and a positive amount within
// MaxAmount.
func checkAmount(v *errs.Validator, unit, kind string, amount int64) {
	checkUnit(v, unit, kind)
	v.Check(amount > 0, "amount", "must be positive")
	v.Check(amount <= MaxAmount, "amount", "must be at most %d", MaxAmount)
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

// MaxAmount bounds one grant, withdrawal, gift or reward: 1 000 000 € or as
// many minutes.
const MaxAmount = 100_000_000

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
