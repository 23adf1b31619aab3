package billing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// AllowanceUse records included minutes a reservation took from a
// membership's month or a pack.
type AllowanceUse struct {
	bun.BaseModel `bun:"table:allowance_uses,alias:au"`

	ID            string     `bun:"id,pk"`
	ReservationID string     `bun:"reservation_id"`
	UserID        string     `bun:"user_id"`
	SourceType    string     `bun:"source_type"`
	SourceID      string     `bun:"source_id"`
	ResourceKind  string     `bun:"resource_kind"`
	PeriodStart   time.Time  `bun:"period_start"`
	Minutes       int        `bun:"minutes"`
	CreatedAt     time.Time  `bun:"created_at"`
	ReleasedAt    *time.Time `bun:"released_at"`
}

// UsageCharge is pay-per-use time beyond what a plan includes, to be paid
// or invoiced.
type UsageCharge struct {
	bun.BaseModel `bun:"table:usage_charges,alias:uc"`

	ID string `bun:"id,pk"`
	// ReservationID is the booking charged, or "" for an atelier
	// registration (RegistrationID).
	ReservationID  string  `bun:"reservation_id,nullzero"`
	RegistrationID *string `bun:"registration_id"`
	// ServiceStartsAt and ServiceEndsAt: when the service of a charge
	// without a reservation (an atelier's session) takes place.
	ServiceStartsAt *time.Time `bun:"service_starts_at"`
	ServiceEndsAt   *time.Time `bun:"service_ends_at"`
	UserID          string     `bun:"user_id"`
	SiteID          string     `bun:"site_id"`
	Description     string     `bun:"description"`
	Minutes         int        `bun:"minutes"`
	AmountCents     int64      `bun:"amount_cents"` // TTC
	VATRateBP       int        `bun:"vat_rate_bp"`
	Status          string     `bun:"status"`
	// PaymentID is the payment settling the charge, or the online checkout
	// holding it while pending.
	PaymentID *string   `bun:"payment_id"`
	CreatedAt time.Time `bun:"created_at"`
}

// Refusals the entitlement check gives, each named for the member.
func refuse(kind error, code, format string, args ...any) *errs.Problem {
	return errs.Problemf(kind, code, format, args...)
}

// right is one thing the member holds that may cover a booking.
type right struct {
	membership *Membership
	pass       *DayPass
	pack       *Pack
	plan       *Plan
}

// rights loads what userID holds on siteID that is usable at instant t,
// locking the member's memberships and packs so that two of their bookings
// racing for the last included hour are serialised.
func (s *Service) rights(ctx context.Context, tx bun.IDB, userID, siteID string, t time.Time) ([]right, error) {
	return s.rightsAt(ctx, tx, userID, siteID, t, true)
}

func (s *Service) rightsAt(ctx context.Context, tx bun.IDB, userID, siteID string, t time.Time, lock bool) ([]right, error) {
	// Every booking with entitlements runs these three reads: prepared
	// statements (db.Prepared), the rows locked on PostgreSQL when lock.
	forUpdate := ""
	if lock {
		forUpdate = db.ForUpdateSQL(tx)
	}
	var out []right
	var ms []Membership
	if err := db.ScanPrepared(ctx, tx, &ms, `SELECT `+s.columns.memberships+` FROM memberships
		WHERE user_id = ? AND status IN ('`+StatusActive+`', '`+StatusPastDue+`') AND (site_id IS NULL OR site_id = ?)
		ORDER BY created_at`+forUpdate, userID, siteID); err != nil {
		return nil, fmt.Errorf("read memberships: %w", err)
	}
	for i := range ms {
		if !ms[i].Usable(t, s.grace) {
			continue
		}
		p, err := s.entitlementPlan(ctx, tx, ms[i].PlanID)
		if err != nil {
			return nil, err
		}
		out = append(out, right{membership: &ms[i], plan: p})
	}
	var passes []DayPass
	if err := db.ScanPrepared(ctx, tx, &passes, `SELECT `+s.columns.passes+` FROM day_passes
		WHERE user_id = ? AND site_id = ? AND status = '`+StatusActive+`' AND starts_at <= ? AND ends_at > ?`,
		userID, siteID, t, t); err != nil {
		return nil, fmt.Errorf("read day passes: %w", err)
	}
	for i := range passes {
		p, err := s.entitlementPlan(ctx, tx, passes[i].PlanID)
		if err != nil {
			return nil, err
		}
		out = append(out, right{pass: &passes[i], plan: p})
	}
	var packs []Pack
	if err := db.ScanPrepared(ctx, tx, &packs, `SELECT `+s.columns.packs+` FROM packs
		WHERE user_id = ? AND status = '`+StatusActive+`' AND valid_until > ? AND (site_id IS NULL OR site_id = ?)
		ORDER BY valid_until`+forUpdate, userID, t, siteID); err != nil {
		return nil, fmt.Errorf("read packs: %w", err)
	}
	for i := range packs {
		p, err := s.entitlementPlan(ctx, tx, packs[i].PlanID)
		if err != nil {
			return nil, err
		}
		out = append(out, right{pack: &packs[i], plan: p})
	}
	return out, nil
}

// covers reports whether the right could pay for a booking of kind.
func (rt right) covers(kind string) bool {
	in := rt.plan.Includes
	switch {
	case rt.pack != nil:
		return rt.pack.ResourceKind == kind
	case rt.pass != nil:
		return slices.Contains(in.ResourceKinds, kind)
	}
	if in.PayPerUse || slices.Contains(in.ResourceKinds, kind) {
		return true
	}
	for _, a := range in.Allowances {
		if a.ResourceKind == kind {
			return true
		}
	}
	return false
}

// usedMinutes is what a membership's month (or a pack) has given so far.
func usedMinutes(ctx context.Context, tx bun.IDB, sourceID string, periodStart *time.Time, kind string) (int, error) {
	var used int
	q := tx.NewSelect().Model((*AllowanceUse)(nil)).ColumnExpr("COALESCE(SUM(minutes), 0)").
		Where("source_id = ? AND resource_kind = ? AND released_at IS NULL", sourceID, kind)
	if periodStart != nil {
		q = q.Where("period_start = ?", *periodStart)
	}
	if err := q.Scan(ctx, &used); err != nil {
		return 0, fmt.Errorf("sum used minutes: %w", err)
	}
	return used, nil
}

// CheckBooking is calendar.Guard: called inside the booking transaction, it
// decides whether the member may book r and records what it costs —
// included minutes consumed, or a pay-per-use charge — or refuses with a
// 402 (nothing paid for this) or 403 (a quota) naming why.
func (s *Service) CheckBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, site *calendar.Site) error {
	return s.checkBooking(ctx, tx, r, res, site, nil)
}

// PriceBooking is calendar.Pricer: CheckBooking itself, which also notes
// what it records — included minutes, credit, a charge — so that a quote
// (run in a transaction the calendar rolls back) says what the booking
// would cost.
func (s *Service) PriceBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, site *calendar.Site) (*calendar.Price, error) {
	p := &calendar.Price{}
	if err := s.checkBooking(ctx, tx, r, res, site, p); err != nil {
		return nil, err
	}
	switch {
	case p.AmountCents > 0:
		p.CoveredBy = calendar.CoveredByPayment
	case p.CreditMinutesUsed > 0 || p.CreditCentsUsed > 0:
		p.CoveredBy = calendar.CoveredByCredits
	case p.IncludedMinutesUsed > 0:
		p.CoveredBy = calendar.CoveredByIncludedMinutes
	case r.UserID == nil:
		p.CoveredBy = calendar.CoveredByFree
	default:
		p.CoveredBy = calendar.CoveredByPlan
	}
	return p, nil
}

// checkBooking is CheckBooking; note, when not nil, adds up what the
// booking costs as it is recorded (see PriceBooking).
func (s *Service) checkBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, site *calendar.Site, note *calendar.Price) error {
	if r.UserID == nil {
		return nil
	}
	userID := *r.UserID
	minutes := int(r.EndsAt.Sub(r.StartsAt) / time.Minute)
	rights, err := s.rights(ctx, tx, userID, res.SiteID, r.StartsAt)
	if err != nil {
		return err
	}
	exempt := site.Legal.VATExempt
	if len(rights) == 0 {
		return s.payRest(ctx, tx, note, r, res, exempt, minutes, false,
			refuse(errs.ErrPaymentRequired, "membership_required", "no membership, day pass, pack or credit covers this booking"))
	}
	// Only the rights that could pay for this kind of resource count, for
	// quotas as for the rest: a laser pack does not lift a desk quota.
	rights = slices.DeleteFunc(rights, func(rt right) bool { return !rt.covers(res.Kind) })
	if len(rights) == 0 {
		return s.payRest(ctx, tx, note, r, res, exempt, minutes, false,
			refuse(errs.ErrForbidden, "not_in_plan", "your plan does not include this kind of resource"))
	}
	if err := s.checkQuotas(ctx, tx, r, site, rights); err != nil {
		return err
	}
	c := &bookingCost{s: s, tx: tx, note: note, r: r, res: res, userID: userID, minutes: minutes, exempt: exempt, loc: site.Location()}
	for _, rt := range rights {
		if done, err := c.try(ctx, rt); done || err != nil {
			return err
		}
	}
	return c.rest(ctx)
}

// bookingCost is one booking's walk through the member's rights, in
// CheckBooking's order: the first right that covers it pays, and what the
// walk learns on the way (a pay-per-use plan, an allowance used up or
// covering part of it) decides what happens when none does (rest).
type bookingCost struct {
	s       *Service
	tx      bun.IDB
	note    *calendar.Price // see checkBooking
	r       *calendar.Reservation
	res     *calendar.Resource
	userID  string
	minutes int
	exempt  bool
	loc     *time.Location

	payPerUse *Plan
	exhausted bool
	// partial is the first membership allowance that covers part of the
	// booking: with credit for the rest, it is used before any credit.
	partial *partialAllowance
}

type partialAllowance struct {
	membershipID string
	period       time.Time
	left         int
}

// try asks one right to pay for the booking: done when it did (or
// refused, with err).
func (c *bookingCost) try(ctx context.Context, rt right) (done bool, err error) {
	switch {
	case rt.pass != nil:
		// A day pass covers its day, for the kinds it includes.
		return slices.Contains(rt.plan.Includes.ResourceKinds, c.res.Kind) && !c.r.EndsAt.After(rt.pass.EndsAt), nil
	case rt.pack != nil:
		return c.tryPack(ctx, rt)
	case rt.membership != nil:
		return c.tryMembership(ctx, rt)
	}
	return false, nil
}

func (c *bookingCost) tryPack(ctx context.Context, rt right) (bool, error) {
	if rt.pack.ResourceKind != c.res.Kind {
		return false, nil
	}
	used, err := usedMinutes(ctx, c.tx, rt.pack.ID, nil, c.res.Kind)
	if err != nil {
		return true, err
	}
	if left := rt.pack.Minutes - used; left >= c.minutes {
		return true, c.s.use(ctx, c.tx, c.note, c.r, c.userID, "pack", rt.pack.ID, c.res.Kind, rt.pack.CreatedAt, c.minutes, left-c.minutes)
	}
	c.exhausted = true
	return false, nil
}

func (c *bookingCost) tryMembership(ctx context.Context, rt right) (bool, error) {
	in := rt.plan.Includes
	spent := false // this membership's allowance for the kind is used up
	for _, a := range in.Allowances {
		if a.ResourceKind != c.res.Kind {
			continue
		}
		period := rt.membership.periodStart(c.r.StartsAt, c.loc)
		used, err := usedMinutes(ctx, c.tx, rt.membership.ID, &period, c.res.Kind)
		if err != nil {
			return true, err
		}
		left := a.MinutesPerPeriod - used
		if left >= c.minutes {
			return true, c.s.use(ctx, c.tx, c.note, c.r, c.userID, "membership", rt.membership.ID, c.res.Kind, period, c.minutes, left-c.minutes)
		}
		if in.PayPerUse && c.res.PricePerHourCents > 0 {
			if left > 0 {
				if err := c.s.use(ctx, c.tx, c.note, c.r, c.userID, "membership", rt.membership.ID, c.res.Kind, period, left, 0); err != nil {
					return true, err
				}
			}
			return true, c.s.payRest(ctx, c.tx, c.note, c.r, c.res, c.exempt, c.minutes-left, true, nil)
		}
		if left > 0 && c.partial == nil {
			c.partial = &partialAllowance{rt.membership.ID, period, left}
		}
		spent, c.exhausted = true, true
	}
	if spent {
		return false, nil
	}
	if slices.Contains(in.ResourceKinds, c.res.Kind) {
		return true, nil
	}
	if in.PayPerUse && c.payPerUse == nil {
		c.payPerUse = rt.plan
	}
	return false, nil
}

// rest decides a booking no right paid for in full: pay-per-use, an
// allowance's last minutes with credit for the rest, or credit alone, or a
// refusal naming why.
func (c *bookingCost) rest(ctx context.Context) error {
	s, tx, note, r, res, exempt, minutes := c.s, c.tx, c.note, c.r, c.res, c.exempt, c.minutes
	if c.payPerUse != nil && res.PricePerHourCents > 0 {
		return s.payRest(ctx, tx, note, r, res, exempt, minutes, true, nil)
	}
	if partial := c.partial; partial != nil {
		// Credit pays the rest, all or nothing; only then are the
		// included minutes taken, so a refusal leaves nothing behind.
		unpaid, err := s.payWithCredits(ctx, tx, note, r, res, exempt, minutes-partial.left, true)
		if err != nil {
			return err
		}
		if unpaid == 0 {
			return s.use(ctx, tx, note, r, c.userID, "membership", partial.membershipID, res.Kind, partial.period, partial.left, 0)
		}
	}
	if c.exhausted {
		return s.payRest(ctx, tx, note, r, res, exempt, minutes, false,
			refuse(errs.ErrPaymentRequired, "included_hours_exhausted", "the hours your plan includes for this kind of resource are used up this month"))
	}
	return s.payRest(ctx, tx, note, r, res, exempt, minutes, false,
		refuse(errs.ErrForbidden, "not_in_plan", "your plan does not include this kind of resource"))
}

// payRest pays minutes the member's plan does not include: with credit
// first (see payWithCredits), then, when a plan allows pay-per-use
// (chargeable) and the resource has a price, as a pay-per-use charge;
// otherwise the booking is refused with refusal and nothing is spent.
func (s *Service) payRest(ctx context.Context, tx bun.IDB, note *calendar.Price, r *calendar.Reservation, res *calendar.Resource, vatExempt bool, minutes int, chargeable bool, refusal error) error {
	chargeable = chargeable && res.PricePerHourCents > 0
	left, err := s.payWithCredits(ctx, tx, note, r, res, vatExempt, minutes, !chargeable)
	if err != nil || left == 0 {
		return err
	}
	if chargeable {
		return s.charge(ctx, tx, note, r, res, vatExempt, left)
	}
	return refusal
}

// use records minutes of an allowance (a membership's month, a pack) taken
// by r; left is what the allowance has after them, for note.
func (s *Service) use(ctx context.Context, tx bun.IDB, note *calendar.Price, r *calendar.Reservation, userID, sourceType, sourceID, kind string, period time.Time, minutes, left int) error {
	if note != nil {
		note.IncludedMinutesUsed += minutes
		note.IncludedMinutesLeft = &left
	}
	u := &AllowanceUse{ID: id.New(), ReservationID: r.ID, UserID: userID, SourceType: sourceType, SourceID: sourceID,
		ResourceKind: kind, PeriodStart: period.UTC(), Minutes: minutes, CreatedAt: s.now()}
	if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
		return fmt.Errorf("record allowance use: %w", err)
	}
	return nil
}

// charge records pay-per-use time at the resource's hourly price (TTC,
// see usePrice).
func (s *Service) charge(ctx context.Context, tx bun.IDB, note *calendar.Price, r *calendar.Reservation, res *calendar.Resource, vatExempt bool, minutes int) error {
	ttc, rate := usePrice(res, vatExempt, minutes)
	if note != nil {
		note.AmountCents += ttc
		note.VATRateBP = rate
	}
	c := &UsageCharge{ID: id.New(), ReservationID: r.ID, UserID: *r.UserID, SiteID: res.SiteID,
		Description: fmt.Sprintf("%s — %d min", res.Name, minutes), Minutes: minutes, AmountCents: ttc,
		VATRateBP: rate, Status: "open", CreatedAt: s.now()}
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("record usage charge: %w", err)
	}
	return nil
}

// checkQuotas applies the most generous quotas among the member's rights.
func (s *Service) checkQuotas(ctx context.Context, tx bun.IDB, r *calendar.Reservation, site *calendar.Site, rights []right) error {
	var q Quotas
	for i, rt := range rights {
		rq := rt.plan.Includes.Quotas
		if i == 0 {
			q = rq
			continue
		}
		q.MaxConcurrentReservations = loosest(q.MaxConcurrentReservations, rq.MaxConcurrentReservations)
		q.MaxMinutesPerDay = loosest(q.MaxMinutesPerDay, rq.MaxMinutesPerDay)
		q.MaxMinutesPerWeek = loosest(q.MaxMinutesPerWeek, rq.MaxMinutesPerWeek)
		q.HorizonDays = loosest(q.HorizonDays, rq.HorizonDays)
	}
	now := s.now()
	if q.HorizonDays > 0 && r.StartsAt.After(now.AddDate(0, 0, q.HorizonDays)) {
		return refuse(errs.ErrForbidden, "quota_horizon", "your plan books at most %d days ahead", q.HorizonDays)
	}
	userID := *r.UserID
	if q.MaxConcurrentReservations > 0 {
		n, err := calendar.CountUpcomingBookings(ctx, tx, userID, now, r.ID)
		if err != nil {
			return err
		}
		if n >= q.MaxConcurrentReservations {
			return refuse(errs.ErrForbidden, "quota_concurrent", "your plan allows %d upcoming reservations at once", q.MaxConcurrentReservations)
		}
	}
	minutes := int(r.EndsAt.Sub(r.StartsAt) / time.Minute)
	loc := site.Location()
	l := r.StartsAt.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	week := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	for _, w := range []struct {
		limit    int
		from, to time.Time
		code     string
		what     errs.Message
	}{
		{q.MaxMinutesPerDay, day, day.AddDate(0, 0, 1), "quota_daily", errs.Msg("per day")},
		{q.MaxMinutesPerWeek, week, week.AddDate(0, 0, 7), "quota_weekly", errs.Msg("per week")},
	} {
		if w.limit == 0 {
			continue
		}
		booked, err := calendar.BookedMinutes(ctx, tx, userID, w.from, w.to, r.ID)
		if err != nil {
			return err
		}
		if int(booked)+minutes > w.limit {
			return refuse(errs.ErrForbidden, w.code, "your plan allows %d minutes of bookings %s", w.limit, w.what)
		}
	}
	return nil
}

// loosest of two limits where 0 means none.
func loosest(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	return max(a, b)
}

// ReleaseBooking is calendar.Guard: a cancellation before the deadline
// gives back the included minutes and the credit the booking took, and
// voids the pay-per-use charge; a late one keeps the minutes and the
// charge, and gives back the share of the credit the resource's
// late_cancel_refund_percent says.
func (s *Service) ReleaseBooking(ctx context.Context, tx bun.IDB, r *calendar.Reservation, late bool) error {
	if late {
		percent, err := lateRefundPercent(ctx, tx, r.ResourceID)
		if err != nil {
			return err
		}
		return s.releaseCredits(ctx, tx, r, percent)
	}
	if err := s.releaseCredits(ctx, tx, r, 100); err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.NewUpdate().Model((*AllowanceUse)(nil)).Set("released_at = ?", now).
		Where("reservation_id = ? AND released_at IS NULL", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("release allowance: %w", err)
	}
	if _, err := tx.NewUpdate().Model((*UsageCharge)(nil)).Set("status = 'void'").
		Where("reservation_id = ? AND status = 'open'", r.ID).Exec(ctx); err != nil {
		return fmt.Errorf("void usage charge: %w", err)
	}
	return nil
}

// PriceRelease is calendar.Pricer: what ReleaseBooking(r, late) would give
// back, read without changing anything. It follows ReleaseBooking step by
// step; the two change together.
func (s *Service) PriceRelease(ctx context.Context, idb bun.IDB, r *calendar.Reservation, late bool) (*calendar.Refund, error) {
	out := &calendar.Refund{CreditReturnedPercent: 100}
	if late {
		percent, err := lateRefundPercent(ctx, idb, r.ResourceID)
		if err != nil {
			return nil, err
		}
		out.CreditReturnedPercent = max(percent, 0)
	} else {
		if err := idb.NewSelect().Model((*AllowanceUse)(nil)).ColumnExpr("COALESCE(SUM(minutes), 0)").
			Where("reservation_id = ? AND released_at IS NULL", r.ID).Scan(ctx, &out.IncludedMinutesReturned); err != nil {
			return nil, fmt.Errorf("sum allowance to release: %w", err)
		}
	}
	if r.UserID == nil {
		out.CreditReturnedPercent = 0 // releaseCredits gives nothing without a member
	}
	var charges []UsageCharge
	if err := idb.NewSelect().Model(&charges).Column("amount_cents", "status").
		Where("reservation_id = ? AND status <> 'void'", r.ID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read the booking's charges: %w", err)
	}
	for _, c := range charges {
		if !late && c.Status == "open" {
			out.ChargeVoidedCents += c.AmountCents
		} else {
			out.ChargeKeptCents += c.AmountCents
		}
	}
	return out, nil
}

// RecordMachineUsage bills a machine session's overrun: the booking already
// paid for its slot (included minutes or a charge, at booking time), so only
// the confirmed power-on time past the slot's end counts, e.g. a grace period
// used to finish a cut. Those minutes come out of the member's included
// machine minutes while any are left, and are charged per minute at the
// resource's price beyond. It returns the overrun minutes.
func (s *Service) RecordMachineUsage(ctx context.Context, tx bun.IDB, r *calendar.Reservation, res *calendar.Resource, on, off time.Time) (int, error) {
	if r.UserID == nil || !off.After(r.EndsAt) {
		return 0, nil
	}
	from := r.EndsAt
	if on.After(from) {
		from = on
	}
	over := int((off.Sub(from) + time.Minute - 1) / time.Minute) // a started minute counts
	if over <= 0 {
		return 0, nil
	}
	userID := *r.UserID
	site, err := calendar.LoadSite(ctx, tx, res.SiteID)
	if err != nil {
		return 0, err
	}
	rights, err := s.rights(ctx, tx, userID, res.SiteID, r.StartsAt)
	if err != nil {
		return 0, err
	}
	left := over
	for _, rt := range rights {
		if rt.membership == nil || left == 0 {
			continue
		}
		for _, a := range rt.plan.Includes.Allowances {
			if a.ResourceKind != res.Kind {
				continue
			}
			period := rt.membership.periodStart(r.StartsAt, site.Location())
			used, err := usedMinutes(ctx, tx, rt.membership.ID, &period, res.Kind)
			if err != nil {
				return 0, err
			}
			take := min(left, a.MinutesPerPeriod-used)
			if take <= 0 {
				continue
			}
			if err := s.use(ctx, tx, nil, r, userID, "membership", rt.membership.ID, res.Kind, period, take, 0); err != nil {
				return 0, err
			}
			left -= take
		}
	}
	if left > 0 && res.PricePerHourCents > 0 {
		if err := s.charge(ctx, tx, nil, r, res, site.Legal.VATExempt, left); err != nil {
			return 0, err
		}
	}
	return over, nil
}
