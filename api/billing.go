package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// buyerInput is who an invoice is made out to, as clients send it.
type buyerInput struct {
	Name       string           `json:"name"`
	Address    calendar.Address `json:"address"`
	IsBusiness bool             `json:"is_business"`
	SIREN      string           `json:"siren"`
	VATNumber  string           `json:"vat_number"`
}

func (b *buyerInput) toBuyer() *invoicing.Buyer {
	if b == nil {
		return nil
	}
	return &invoicing.Buyer{Name: b.Name, Address: b.Address, IsBusiness: b.IsBusiness, SIREN: b.SIREN, VATNumber: b.VATNumber}
}

type planJSON struct {
	ID          string           `json:"id"`
	SiteID      *string          `json:"site_id"`
	Kind        string           `json:"kind"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	PriceCents  int64            `json:"price_cents"`
	PriceHT     int64            `json:"price_ht_cents"`
	VATCents    int64            `json:"vat_cents"`
	VATRateBP   int              `json:"vat_rate_bp"`
	Includes    billing.Includes `json:"includes"`
	Active      bool             `json:"active"`
	CreatedAt   time.Time        `json:"created_at"`
}

func toPlanJSON(p *billing.Plan) planJSON {
	ht, vat := invoicing.SplitTTC(p.PriceCents, p.VATRateBP)
	in := p.Includes
	if in.ResourceKinds == nil {
		in.ResourceKinds = []string{}
	}
	if in.Allowances == nil {
		in.Allowances = []billing.Allowance{}
	}
	return planJSON{ID: p.ID, SiteID: p.SiteID, Kind: p.Kind, Name: p.Name, Description: p.Description, PriceCents: p.PriceCents,
		PriceHT: ht, VATCents: vat, VATRateBP: p.VATRateBP, Includes: in, Active: p.Active, CreatedAt: p.CreatedAt}
}

func (s *Server) handleCreatePlan(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		SiteID      *string          `json:"site_id"`
		Kind        string           `json:"kind"`
		Name        string           `json:"name"`
		Description string           `json:"description"`
		PriceCents  int64            `json:"price_cents"`
		VATRateBP   *int             `json:"vat_rate_bp"`
		Includes    billing.Includes `json:"includes"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := s.Billing.CreatePlanFor(r.Context(), p, billing.NewPlan{SiteID: in.SiteID, Kind: in.Kind, Name: in.Name,
		Description: in.Description, PriceCents: in.PriceCents, VATRateBP: in.VATRateBP, Includes: in.Includes})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/plans/"+plan.ID)
	writeJSON(w, http.StatusCreated, toPlanJSON(plan))
}

func (s *Server) handleListPlans(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.URL.Query().Get("site_id")
	all := r.URL.Query().Get("include_inactive") == "true"
	ps, err := s.Billing.ListPlansFor(r.Context(), p, siteID, all)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// online_payment tells an app, before anyone clicks, whether these
	// plans can be bought online now or are paid at the desk.
	writeJSON(w, http.StatusOK, struct {
		list[planJSON]
		OnlinePayment bool `json:"online_payment"`
	}{listOf(ps, toPlanJSON), s.Billing.OnlinePaymentReady() == nil})
}

func (s *Server) handleGetPlan(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	plan, err := s.Billing.GetPlan(r.Context(), r.PathValue("plan_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPlanJSON(plan))
}

func (s *Server) handlePatchPlan(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Active    *bool `json:"active"`
		VATRateBP *int  `json:"vat_rate_bp"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := s.Billing.UpdatePlanFor(r.Context(), p, r.PathValue("plan_id"), billing.PlanUpdate{Active: in.Active, VATRateBP: in.VATRateBP})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPlanJSON(plan))
}

type membershipJSON struct {
	ID                 string     `json:"id"`
	UserID             string     `json:"user_id"`
	PlanID             string     `json:"plan_id"`
	SiteID             *string    `json:"site_id"`
	Status             string     `json:"status"`
	Source             string     `json:"source"`
	CurrentPeriodStart *time.Time `json:"current_period_start"`
	CurrentPeriodEnd   *time.Time `json:"current_period_end"`
	CancelAtPeriodEnd  bool       `json:"cancel_at_period_end"`
	CanceledAt         *time.Time `json:"canceled_at"`
	PastDueSince       *time.Time `json:"past_due_since"`
	NextPlanID         *string    `json:"next_plan_id"`
	CreatedAt          time.Time  `json:"created_at"`
}

func toMembershipJSON(m *billing.Membership) membershipJSON {
	return membershipJSON{ID: m.ID, UserID: m.UserID, PlanID: m.PlanID, SiteID: m.SiteID, Status: m.Status, Source: m.Source,
		CurrentPeriodStart: m.CurrentPeriodStart, CurrentPeriodEnd: m.CurrentPeriodEnd, CancelAtPeriodEnd: m.CancelAtPeriodEnd,
		CanceledAt: m.CanceledAt, PastDueSince: m.PastDueSince, NextPlanID: m.NextPlanID, CreatedAt: m.CreatedAt}
}

type dayPassJSON struct {
	ID     string    `json:"id"`
	PlanID string    `json:"plan_id"`
	SiteID string    `json:"site_id"`
	Date   string    `json:"date"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Status string    `json:"status"`
}

type packJSON struct {
	ID           string    `json:"id"`
	PlanID       string    `json:"plan_id"`
	SiteID       *string   `json:"site_id"`
	ResourceKind string    `json:"resource_kind"`
	Minutes      int       `json:"minutes"`
	ValidUntil   time.Time `json:"valid_until"`
	Status       string    `json:"status"`
}

// handleMyMemberships lists everything the caller holds.
func (s *Server) handleMyMemberships(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	h, err := s.Billing.HoldingsOf(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, passes, packs := h.Memberships, h.DayPasses, h.Packs
	out := struct {
		Memberships []membershipJSON `json:"memberships"`
		DayPasses   []dayPassJSON    `json:"day_passes"`
		Packs       []packJSON       `json:"packs"`
	}{Memberships: make([]membershipJSON, len(ms)), DayPasses: make([]dayPassJSON, len(passes)), Packs: make([]packJSON, len(packs))}
	for i := range ms {
		out.Memberships[i] = toMembershipJSON(&ms[i])
	}
	for i, d := range passes {
		out.DayPasses[i] = dayPassJSON{ID: d.ID, PlanID: d.PlanID, SiteID: d.SiteID, Date: d.Day, Start: d.StartsAt, End: d.EndsAt, Status: d.Status}
	}
	for i, k := range packs {
		out.Packs[i] = packJSON{ID: k.ID, PlanID: k.PlanID, SiteID: k.SiteID, ResourceKind: k.ResourceKind, Minutes: k.Minutes, ValidUntil: k.ValidUntil, Status: k.Status}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCancelMembership(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		AtPeriodEnd *bool `json:"at_period_end"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	atEnd := in.AtPeriodEnd == nil || *in.AtPeriodEnd
	m, err := s.Billing.CancelMembershipFor(r.Context(), p, r.PathValue("membership_id"), atEnd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMembershipJSON(m))
}

func (s *Server) handleChangePlan(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		PlanID string `json:"plan_id"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.Billing.ChangePlanFor(r.Context(), p, r.PathValue("membership_id"), in.PlanID)
	if err != nil {
		if errors.Is(err, errs.ErrUnavailable) {
			w.Header().Set("Retry-After", "60")
		}
		s.writeError(w, r, err)
		return
	}
	// A membership paid online changes at Stripe; the webhooks apply it.
	status := http.StatusOK
	if m.StripeSubscriptionID != nil {
		status = http.StatusAccepted
	}
	writeJSON(w, status, toMembershipJSON(m))
}

func (s *Server) handleSiteMembers(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ms, err := s.Billing.SiteMembersFor(r.Context(), p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type siteMemberJSON struct {
		membershipJSON
		UserName  string `json:"user_name"`
		UserEmail string `json:"user_email"`
	}
	out := list[siteMemberJSON]{Items: make([]siteMemberJSON, len(ms))}
	for i := range ms {
		out.Items[i] = siteMemberJSON{membershipJSON: toMembershipJSON(&ms[i].Membership), UserName: ms[i].UserName, UserEmail: ms[i].UserEmail}
	}
	writeJSON(w, http.StatusOK, out)
}

type paymentJSON struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	SiteID      *string    `json:"site_id"`
	Purpose     string     `json:"purpose"`
	TargetID    *string    `json:"target_id"`
	PlanID      *string    `json:"plan_id"`
	AmountCents int64      `json:"amount_cents"`
	Method      string     `json:"method"`
	Provider    string     `json:"provider"`
	Status      string     `json:"status"`
	Reference   string     `json:"reference"`
	InvoiceID   *string    `json:"invoice_id"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at"`
	// A discounted sale: AmountCents is the net, DiscountCents what was
	// taken off the plan's price, and why.
	DiscountCents  int64  `json:"discount_cents"`
	DiscountReason string `json:"discount_reason"`
}

func toPaymentJSON(p *billing.Payment) paymentJSON {
	return paymentJSON{ID: p.ID, UserID: p.UserID, SiteID: p.SiteID, Purpose: p.Purpose, TargetID: p.TargetID, PlanID: p.PlanID,
		AmountCents: p.AmountCents, Method: p.Method, Provider: p.Provider, Status: p.Status, Reference: p.Reference,
		InvoiceID: p.InvoiceID, CreatedAt: p.CreatedAt, PaidAt: p.PaidAt, DiscountCents: p.DiscountCents, DiscountReason: p.DiscountReason}
}

// discountInput is a discount at the desk: amount_cents (TTC) or percent
// (a whole percentage, 1 to 100), and the reason.
type discountInput struct {
	AmountCents int64  `json:"amount_cents"`
	Percent     int    `json:"percent"`
	Reason      string `json:"reason"`
}

func (d *discountInput) toDiscount() *billing.Discount {
	if d == nil {
		return nil
	}
	return &billing.Discount{AmountCents: d.AmountCents, Percent: d.Percent, Reason: d.Reason}
}

// handleOnSitePayment records cash, cheque, transfer or terminal payments
// a manager takes at the desk.
func (s *Server) handleOnSitePayment(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		UserID      string         `json:"user_id"`
		PlanID      string         `json:"plan_id"`
		Date        string         `json:"date"`
		Method      string         `json:"method"`
		AmountCents int64          `json:"amount_cents"`
		Reference   string         `json:"reference"`
		Buyer       *buyerInput    `json:"buyer"`
		Discount    *discountInput `json:"discount"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Billing.RecordOnSitePaymentFor(r.Context(), p, billing.OnSitePayment{SiteID: siteID, UserID: in.UserID, PlanID: in.PlanID,
		Date: in.Date, Method: in.Method, AmountCents: in.AmountCents, Reference: in.Reference, Buyer: in.Buyer.toBuyer(),
		Discount: in.Discount.toDiscount()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := map[string]any{"payment": toPaymentJSON(out.Payment)}
	switch {
	case out.Membership != nil:
		res["membership"] = toMembershipJSON(out.Membership)
	case out.DayPass != nil:
		d := out.DayPass
		res["day_pass"] = dayPassJSON{ID: d.ID, PlanID: d.PlanID, SiteID: d.SiteID, Date: d.Day, Start: d.StartsAt, End: d.EndsAt, Status: d.Status}
	case out.Pack != nil:
		k := out.Pack
		res["pack"] = packJSON{ID: k.ID, PlanID: k.PlanID, SiteID: k.SiteID, ResourceKind: k.ResourceKind, Minutes: k.Minutes, ValidUntil: k.ValidUntil, Status: k.Status}
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) handleMyPayments(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ps, err := s.Billing.PaymentsOf(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(ps, toPaymentJSON))
}

type chargeJSON struct {
	ID            string `json:"id"`
	ReservationID string `json:"reservation_id"`
	// RegistrationID: the atelier registration charged ("" reservation_id).
	RegistrationID *string   `json:"registration_id,omitempty"`
	UserID         string    `json:"user_id"`
	SiteID         string    `json:"site_id"`
	Description    string    `json:"description"`
	Minutes        int       `json:"minutes"`
	AmountCents    int64     `json:"amount_cents"`
	VATRateBP      int       `json:"vat_rate_bp"`
	CreatedAt      time.Time `json:"created_at"`
}

func toChargesJSON(cs []billing.UsageCharge) list[chargeJSON] {
	out := list[chargeJSON]{Items: make([]chargeJSON, len(cs))}
	for i, c := range cs {
		out.Items[i] = chargeJSON{ID: c.ID, ReservationID: c.ReservationID, RegistrationID: c.RegistrationID, UserID: c.UserID, SiteID: c.SiteID, Description: c.Description,
			Minutes: c.Minutes, AmountCents: c.AmountCents, VATRateBP: c.VATRateBP, CreatedAt: c.CreatedAt}
	}
	return out
}

// handleMyCharges lists the pay-per-use time the caller still owes.
func (s *Server) handleMyCharges(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	cs, err := s.Billing.ChargesOf(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toChargesJSON(cs))
}

// handleSiteCharges lists a site's unpaid pay-per-use time (?user_id=).
func (s *Server) handleSiteCharges(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	cs, err := s.Billing.SiteChargesFor(r.Context(), p, r.PathValue("site_id"), r.URL.Query().Get("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toChargesJSON(cs))
}

// handleSettleCharges takes payment at the desk for a member's open charges.
func (s *Server) handleSettleCharges(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		UserID    string      `json:"user_id"`
		Method    string      `json:"method"`
		Reference string      `json:"reference"`
		Buyer     *buyerInput `json:"buyer"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	pay, err := s.Billing.SettleChargesFor(r.Context(), p, billing.Settlement{SiteID: siteID, UserID: in.UserID, Method: in.Method,
		Reference: in.Reference, Buyer: in.Buyer.toBuyer()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toPaymentJSON(pay))
}

// handleRefund gives money back on a payment: at the desk for an on-site
// payment (with a credit note at once), through Stripe for an online one
// (the credit note follows Stripe's webhook).
func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		AmountCents int64  `json:"amount_cents"`
		Reason      string `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Billing.RefundFor(r.Context(), p, r.PathValue("payment_id"), in.AmountCents, in.Reason)
	if err != nil {
		if errors.Is(err, errs.ErrUnavailable) {
			w.Header().Set("Retry-After", "60")
		}
		s.writeError(w, r, err)
		return
	}
	type creditNoteJSON struct {
		ID       string `json:"id"`
		Number   string `json:"number"`
		Reason   string `json:"reason"`
		TotalTTC int64  `json:"total_ttc_cents"`
		PDFURL   string `json:"pdf_url"`
	}
	// The payment's fields stay at the top level, as before; the credit
	// note is null when it follows Stripe's webhook.
	out := struct {
		paymentJSON
		CreditNote *creditNoteJSON `json:"credit_note"`
	}{paymentJSON: toPaymentJSON(res.Payment)}
	if cn := res.CreditNote; cn != nil {
		out.CreditNote = &creditNoteJSON{ID: cn.ID, Number: cn.Number, Reason: cn.Reason, TotalTTC: cn.TotalTTCCents,
			PDFURL: "/v1/invoices/" + cn.ID + "/pdf"}
	}
	writeJSON(w, http.StatusOK, out)
}

type drawerPaymentJSON struct {
	paymentJSON
	UserName       string  `json:"user_name"`
	UserEmail      string  `json:"user_email"`
	RecordedBy     *string `json:"recorded_by"`
	RecordedByName *string `json:"recorded_by_name"`
	PlanName       *string `json:"plan_name"`
	InvoiceNumber  *string `json:"invoice_number"`
	RefundedCents  int64   `json:"refunded_cents"`
}

type methodTotalJSON struct {
	Method        string `json:"method"`
	Count         int64  `json:"count"`
	AmountCents   int64  `json:"amount_cents"`
	RefundedCents int64  `json:"refunded_cents"`
	NetCents      int64  `json:"net_cents"`
}

// handleSitePayments is the cash-drawer view: a page of the payments
// received at a site, and the totals per method of the whole range.
func (s *Server) handleSitePayments(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// One call reads the range, so that the shared parser of local dates
	// and months replaces it in one place.
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.Billing.SitePaymentsFor(r.Context(), p, billing.DrawerFilter{SiteID: r.PathValue("site_id"), From: from, To: to,
		Method: r.URL.Query().Get("method"), After: after, Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		list[drawerPaymentJSON]
		Totals []methodTotalJSON `json:"totals"`
	}{list[drawerPaymentJSON]{Items: make([]drawerPaymentJSON, len(d.Payments)), NextCursor: cursor(d.Next)},
		make([]methodTotalJSON, len(d.Totals))}
	for i := range d.Payments {
		dp := &d.Payments[i]
		out.Items[i] = drawerPaymentJSON{paymentJSON: toPaymentJSON(&dp.Payment), UserName: dp.UserName, UserEmail: dp.UserEmail,
			RecordedBy: dp.RecordedBy, RecordedByName: dp.RecordedByName, PlanName: dp.PlanName, InvoiceNumber: dp.InvoiceNumber,
			RefundedCents: dp.RefundedCents}
	}
	for i, t := range d.Totals {
		out.Totals[i] = methodTotalJSON{Method: t.Method, Count: t.Count, AmountCents: t.AmountCents, RefundedCents: t.RefundedCents,
			NetCents: t.AmountCents - t.RefundedCents}
	}
	writeJSON(w, http.StatusOK, out)
}
