package billing

import (
	"context"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may do what in billing. The operations the API offers take the
// caller's principal and ask these functions, so that a rule is written
// once. Some refusals are "not found" rather than "forbidden": whoever may
// not see a membership, a payment or a site is not told it exists. The
// operations without a principal (CreatePlan, Refund...) are for the
// system: jobs, the demo, the tests.

// What an API key may not do: it acts for an integration, not for someone
// who holds, buys or owes.
const (
	errKeyHoldsNothing = errs.Refusal("an API key holds no membership")
	errKeyPaysNothing  = errs.Refusal("an API key makes no payments")
	errKeyOwesNothing  = errs.Refusal("an API key owes nothing")
	errKeyBuysNothing  = errs.Refusal("members pay for themselves")
)

var (
	errSiteNotFound    = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	errPaymentNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "payment_not_found", Detail: "no such payment"}
)

// maySell: network plans are the admins'; a site's plans its managers'.
// Never an API key.
func maySell(p *identity.Principal, siteID *string) bool {
	if p == nil || p.IsAPIKey() {
		return false
	}
	if siteID == nil {
		return p.IsAdmin()
	}
	return p.ManagesSite(*siteID)
}

// maySeeRetiredPlans: retired plans are the business of those who sell
// (admins anywhere, managers on their site).
func maySeeRetiredPlans(p *identity.Principal, siteID string) bool {
	return p != nil && (p.IsAdmin() || (siteID != "" && p.ManagesSite(siteID)))
}

// mayTakePayments: the site's managers and admins, at the desk; never an
// API key.
func mayTakePayments(p *identity.Principal, siteID string) bool {
	return p != nil && !p.IsAPIKey() && p.ManagesSite(siteID)
}

// mayListMembers: the site's managers and admins, and API keys of the
// site with users:read.
func mayListMembers(p *identity.Principal, siteID string) bool {
	return p != nil && p.ManagesSite(siteID) && p.HasScope(identity.ScopeUsersRead)
}

// mayReadCharges: the site's managers and admins, and API keys of the site
// with invoices:read.
func mayReadCharges(p *identity.Principal, siteID string) bool {
	return p != nil && p.ManagesSite(siteID) && p.HasScope(identity.ScopeInvoicesRead)
}

// refuseSite is the refusal of an action on a site: forbidden to whoever
// may know the site exists, not found to the others (identity's rule).
func refuseSite(p *identity.Principal, siteID string) error {
	if p != nil && identity.CanReadSite(p, siteID) {
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// mayActOnMembership: its holder, or whoever sells its plan (the site's
// managers, admins for a network membership). Others are told it does
// not exist.
func mayActOnMembership(p *identity.Principal, m *Membership) error {
	if p == nil || (m.UserID != p.UserID && !maySell(p, m.SiteID)) {
		return errMembershipNotFound
	}
	return nil
}

// mayRefund: the managers of the site the payment was taken for, and
// admins (network payments included). Others are told it does not exist.
func mayRefund(p *identity.Principal, pay *Payment) error {
	if p == nil {
		return errPaymentNotFound
	}
	if p.IsAdmin() {
		return nil
	}
	if p.IsAPIKey() || pay.SiteID == nil || !p.ManagesSite(*pay.SiteID) {
		return errPaymentNotFound
	}
	return nil
}

// personal refuses an API key what only a person does for themselves.
func personal(p *identity.Principal, refused errs.Refusal) error {
	if p == nil || p.IsAPIKey() {
		return refused
	}
	return nil
}

// CreatePlanFor creates a plan on behalf of p (see maySell).
func (s *Service) CreatePlanFor(ctx context.Context, p *identity.Principal, in NewPlan) (*Plan, error) {
	if !maySell(p, in.SiteID) {
		return nil, errs.ErrForbidden
	}
	return s.CreatePlan(ctx, in)
}

// ListPlansFor lists the plans of a site (or all), the retired ones too
// when asked by whoever may see them; others get the plans on sale.
func (s *Service) ListPlansFor(ctx context.Context, p *identity.Principal, siteID string, includeInactive bool) ([]Plan, error) {
	if includeInactive && !maySeeRetiredPlans(p, siteID) {
		includeInactive = false
	}
	return s.ListPlans(ctx, siteID, includeInactive)
}

// UpdatePlanFor applies up to a plan (UpdatePlan) on behalf of p, who
// must be allowed to sell it, and returns it.
func (s *Service) UpdatePlanFor(ctx context.Context, p *identity.Principal, planID string, up PlanUpdate) (*Plan, error) {
	plan, err := s.GetPlan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if !maySell(p, plan.SiteID) {
		return nil, errs.ErrForbidden
	}
	return s.UpdatePlan(ctx, plan.ID, up)
}

// Holdings is everything a member holds.
type Holdings struct {
	Memberships []Membership
	DayPasses   []DayPass
	Packs       []Pack
}

// HoldingsOf returns what the calling member holds.
func (s *Service) HoldingsOf(ctx context.Context, p *identity.Principal) (*Holdings, error) {
	if err := personal(p, errKeyHoldsNothing); err != nil {
		return nil, err
	}
	var h Holdings
	var err error
	if h.Memberships, err = s.ListMemberships(ctx, p.UserID); err != nil {
		return nil, err
	}
	if h.DayPasses, err = s.ListDayPasses(ctx, p.UserID); err != nil {
		return nil, err
	}
	if h.Packs, err = s.ListPacks(ctx, p.UserID); err != nil {
		return nil, err
	}
	return &h, nil
}

// membershipFor loads a membership p may act on (see mayActOnMembership).
func (s *Service) membershipFor(ctx context.Context, p *identity.Principal, membershipID string) (*Membership, error) {
	m, err := s.GetMembership(ctx, membershipID)
	if err != nil {
		return nil, err
	}
	if err := mayActOnMembership(p, m); err != nil {
		return nil, err
	}
	return m, nil
}

// CancelMembershipFor cancels a membership on behalf of p.
func (s *Service) CancelMembershipFor(ctx context.Context, p *identity.Principal, membershipID string, atPeriodEnd bool) (*Membership, error) {
	m, err := s.membershipFor(ctx, p, membershipID)
	if err != nil {
		return nil, err
	}
	return s.CancelMembership(ctx, m.ID, atPeriodEnd)
}

// ChangePlanFor moves a membership to another plan on behalf of p.
func (s *Service) ChangePlanFor(ctx context.Context, p *identity.Principal, membershipID, planID string) (*Membership, error) {
	m, err := s.membershipFor(ctx, p, membershipID)
	if err != nil {
		return nil, err
	}
	return s.ChangePlan(ctx, m.ID, planID)
}

// SiteMembersFor lists a site's members for p (see mayListMembers).
func (s *Service) SiteMembersFor(ctx context.Context, p *identity.Principal, siteID string) ([]SiteMember, error) {
	if !mayListMembers(p, siteID) {
		return nil, refuseSite(p, siteID)
	}
	return s.SiteMembers(ctx, siteID)
}

// RecordOnSitePaymentFor records a payment p takes at the desk of
// in.SiteID; p is who recorded it.
func (s *Service) RecordOnSitePaymentFor(ctx context.Context, p *identity.Principal, in OnSitePayment) (*Purchase, error) {
	if !mayTakePayments(p, in.SiteID) {
		return nil, refuseSite(p, in.SiteID)
	}
	if _, err := calendar.LoadSite(ctx, s.db, in.SiteID); err != nil {
		return nil, err
	}
	in.RecordedBy = p.UserID
	return s.RecordOnSitePayment(ctx, in)
}

// PaymentsOf lists the calling member's payments.
func (s *Service) PaymentsOf(ctx context.Context, p *identity.Principal) ([]Payment, error) {
	if err := personal(p, errKeyPaysNothing); err != nil {
		return nil, err
	}
	return s.ListPayments(ctx, p.UserID)
}

// ChargesOf lists the pay-per-use time the calling member still owes.
func (s *Service) ChargesOf(ctx context.Context, p *identity.Principal) ([]UsageCharge, error) {
	if err := personal(p, errKeyOwesNothing); err != nil {
		return nil, err
	}
	return s.OpenCharges(ctx, "", p.UserID)
}

// SiteChargesFor lists a site's unpaid pay-per-use time (one member's
// when userID is set) for p (see mayReadCharges).
func (s *Service) SiteChargesFor(ctx context.Context, p *identity.Principal, siteID, userID string) ([]UsageCharge, error) {
	if !mayReadCharges(p, siteID) {
		return nil, refuseSite(p, siteID)
	}
	return s.OpenCharges(ctx, siteID, userID)
}

// SettleChargesFor takes payment at the desk of in.SiteID for a member's
// open charges; p is who recorded it.
func (s *Service) SettleChargesFor(ctx context.Context, p *identity.Principal, in Settlement) (*Payment, error) {
	if !mayTakePayments(p, in.SiteID) {
		return nil, refuseSite(p, in.SiteID)
	}
	in.RecordedBy = p.UserID
	return s.SettleCharges(ctx, in)
}

// RefundFor gives money back on a payment on behalf of p (see mayRefund).
func (s *Service) RefundFor(ctx context.Context, p *identity.Principal, paymentID string, amountCents int64, reason string) (*Refunded, error) {
	pay, err := s.GetPayment(ctx, paymentID)
	if err != nil {
		return nil, err
	}
	if err := mayRefund(p, pay); err != nil {
		return nil, err
	}
	return s.Refund(ctx, pay.ID, amountCents, reason)
}

// CheckoutFor opens an online payment for the calling member.
func (s *Service) CheckoutFor(ctx context.Context, p *identity.Principal, req CheckoutRequest) (*CheckoutResult, error) {
	if err := personal(p, errKeyBuysNothing); err != nil {
		return nil, err
	}
	return s.Checkout(ctx, p.UserID, req)
}

// CheckoutChargesFor opens an online payment of the calling member's open
// charges at a site.
func (s *Service) CheckoutChargesFor(ctx context.Context, p *identity.Principal, in ChargesCheckout) (*ChargesCheckoutResult, error) {
	if err := personal(p, errKeyBuysNothing); err != nil {
		return nil, err
	}
	return s.CheckoutCharges(ctx, p.UserID, in)
}
