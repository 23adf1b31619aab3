package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Billing's events, published in the transaction of each change (see
// internal/events).
const (
	EventPaymentSucceeded     = "payment.succeeded"
	EventPaymentRefunded      = "payment.refunded"
	EventInvoiceIssued        = "invoice.issued"
	EventMembershipCreated    = "membership.created"
	EventMembershipRenewed    = "membership.renewed"
	EventMembershipPastDue    = "membership.past_due"
	EventMembershipSuspended  = "membership.suspended"
	EventMembershipCancelled  = "membership.cancelled"
	membershipEventNoneStatus = ""
)

// PaymentEvent is the data of payment events. RefundedCents is the amount
// of this refund (payment.refunded only).
type PaymentEvent struct {
	PaymentID     string  `json:"payment_id"`
	UserID        string  `json:"user_id"`
	SiteID        *string `json:"site_id"`
	Purpose       string  `json:"purpose"`
	AmountCents   int64   `json:"amount_cents"`
	Currency      string  `json:"currency"`
	Method        string  `json:"method"`
	Provider      string  `json:"provider"`
	InvoiceID     string  `json:"invoice_id,omitempty"`
	RefundedCents int64   `json:"refunded_cents,omitempty"`
	CreditNoteID  string  `json:"credit_note_id,omitempty"`
}

// InvoiceEvent is the data of invoice.issued: an invoice or a credit note.
type InvoiceEvent struct {
	InvoiceID     string    `json:"invoice_id"`
	Number        string    `json:"number"`
	Kind          string    `json:"kind"`
	SiteID        string    `json:"site_id"`
	UserID        string    `json:"user_id,omitempty"`
	PaymentID     string    `json:"payment_id"`
	TotalTTCCents int64     `json:"total_ttc_cents"`
	IssuedAt      time.Time `json:"issued_at"`
}

// MembershipEvent is the data of membership events.
type MembershipEvent struct {
	MembershipID       string     `json:"membership_id"`
	UserID             string     `json:"user_id"`
	PlanID             string     `json:"plan_id"`
	SiteID             *string    `json:"site_id"`
	Status             string     `json:"status"`
	CurrentPeriodStart *time.Time `json:"current_period_start"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
}

func siteOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// paid tells that pay succeeded and inv was issued for it.
func (s *Service) paid(ctx context.Context, tx bun.IDB, pay *Payment, inv *invoicing.Invoice) error {
	ev := PaymentEvent{PaymentID: pay.ID, UserID: pay.UserID, SiteID: pay.SiteID, Purpose: pay.Purpose, AmountCents: pay.AmountCents,
		Currency: "EUR", Method: pay.Method, Provider: pay.Provider, InvoiceID: inv.ID}
	if err := s.events.Publish(ctx, tx, events.New(EventPaymentSucceeded, siteOf(pay.SiteID), s.now(), ev)); err != nil {
		return err
	}
	return s.issued(ctx, tx, pay, inv)
}

// issued tells that inv (an invoice or a credit note) was issued for pay.
func (s *Service) issued(ctx context.Context, tx bun.IDB, pay *Payment, inv *invoicing.Invoice) error {
	return s.events.Publish(ctx, tx, events.New(EventInvoiceIssued, inv.SiteID, s.now(), InvoiceEvent{
		InvoiceID: inv.ID, Number: inv.Number, Kind: inv.Kind, SiteID: inv.SiteID, UserID: pay.UserID, PaymentID: pay.ID,
		TotalTTCCents: inv.TotalTTCCents, IssuedAt: inv.IssuedAt}))
}

// refunded tells that refundCents of pay were refunded, with credit note
// cn (nil for a payment recorded before invoicing existed).
func (s *Service) refunded(ctx context.Context, tx bun.IDB, pay *Payment, refundCents int64, cn *invoicing.Invoice) error {
	ev := PaymentEvent{PaymentID: pay.ID, UserID: pay.UserID, SiteID: pay.SiteID, Purpose: pay.Purpose, AmountCents: pay.AmountCents,
		Currency: "EUR", Method: pay.Method, Provider: pay.Provider, RefundedCents: refundCents}
	if pay.InvoiceID != nil {
		ev.InvoiceID = *pay.InvoiceID
	}
	if cn != nil {
		ev.CreditNoteID = cn.ID
	}
	if err := s.events.Publish(ctx, tx, events.New(EventPaymentRefunded, siteOf(pay.SiteID), s.now(), ev)); err != nil {
		return err
	}
	if cn == nil {
		return nil
	}
	return s.issued(ctx, tx, pay, cn)
}

// membershipEvent names the event of a membership going from status
// before to m's; renewed is a new period of an active one. "" when the
// change is not one integrators are told of.
func membershipEvent(before string, m *Membership, newPeriod bool) string {
	switch {
	case m.Status == before && !(m.Status == StatusActive && newPeriod):
		return ""
	case m.Status == StatusActive && (before == StatusPending || before == membershipEventNoneStatus):
		return EventMembershipCreated
	case m.Status == StatusActive:
		return EventMembershipRenewed
	case m.Status == StatusPastDue:
		return EventMembershipPastDue
	case m.Status == StatusSuspended:
		return EventMembershipSuspended
	case m.Status == StatusCanceled:
		return EventMembershipCancelled
	}
	return ""
}

// publishMembership publishes typ about m; nothing for typ "".
func (s *Service) publishMembership(ctx context.Context, tx bun.IDB, typ string, m *Membership) error {
	if typ == "" {
		return nil
	}
	return s.events.Publish(ctx, tx, events.New(typ, siteOf(m.SiteID), s.now(), MembershipEvent{
		MembershipID: m.ID, UserID: m.UserID, PlanID: m.PlanID, SiteID: m.SiteID, Status: m.Status,
		CurrentPeriodStart: m.CurrentPeriodStart, CurrentPeriodEnd: m.CurrentPeriodEnd}))
}

// storedMembership reads what is stored of m before it is saved: its
// status and period start, to tell what the save changes.
func storedMembership(ctx context.Context, tx bun.IDB, id string) (status string, periodStart *time.Time, err error) {
	var row struct {
		Status             string     `bun:"status"`
		CurrentPeriodStart *time.Time `bun:"current_period_start"`
	}
	if err := tx.NewSelect().Model((*Membership)(nil)).Column("status", "current_period_start").Where("id = ?", id).Scan(ctx, &row); err != nil {
		return "", nil, fmt.Errorf("read membership: %w", err)
	}
	return row.Status, row.CurrentPeriodStart, nil
}

// saveStripeMembership stores m as a Stripe event left it and publishes
// what changed, like saveMembership: a renewal that failed (past due), a
// subscription unpaid or paused (suspended), renewed or ended reach
// integrators and the member's mail whatever path changed them.
func (s *Service) saveStripeMembership(ctx context.Context, tx bun.IDB, m *stripeMembership) error {
	before, periodStart, err := storedMembership(ctx, tx, m.ID)
	if err != nil {
		return err
	}
	if err := saveStripeRow(ctx, tx, m); err != nil {
		return err
	}
	newPeriod := m.CurrentPeriodStart != nil && (periodStart == nil || !periodStart.Equal(*m.CurrentPeriodStart))
	return s.publishMembership(ctx, tx, membershipEvent(before, &m.Membership, newPeriod), &m.Membership)
}
