package billing

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// issueInvoice issues the invoice of a payment for what it bought, in the
// payment's transaction, and returns its id.
func (s *Service) issueInvoice(ctx context.Context, tx bun.IDB, pay *Payment, p *Plan, what *Purchase) (string, error) {
	inv, err := s.invoicer.Issue(ctx, tx, s.invoiceFor(ctx, tx, pay, p, what))
	if err != nil {
		return "", err
	}
	if err := s.paid(ctx, tx, pay, inv); err != nil {
		return "", err
	}
	return inv.ID, nil
}

// issueChargesInvoice issues the invoice of settled pay-per-use time: one
// line per charge, at its TTC amount, dated by its booking's local day and
// hours in the site's zone (whenever it is billed); the invoice's service
// period runs from the first booking's day to the last one's.
func (s *Service) issueChargesInvoice(ctx context.Context, tx bun.IDB, pay *Payment, charges []UsageCharge) (string, error) {
	p := &Plan{Name: "Utilisation"}
	in := s.invoiceFor(ctx, tx, pay, p, &Purchase{})
	in.Lines = in.Lines[:0]
	loc := siteLocation(ctx, tx, pay.SiteID)
	slots, err := chargeSlots(ctx, tx, charges)
	if err != nil {
		return "", err
	}
	in.ServiceFrom, in.ServiceTo = "", ""
	for _, c := range charges {
		when := frDate(c.CreatedAt, loc)
		first := c.CreatedAt.In(loc).Format(time.DateOnly)
		last := first
		sl, ok := slots[c.ReservationID]
		if !ok && c.ServiceStartsAt != nil && c.ServiceEndsAt != nil {
			sl, ok = slot{StartsAt: *c.ServiceStartsAt, EndsAt: *c.ServiceEndsAt}, true // an atelier's session
		}
		if ok {
			when = frSlot(sl.StartsAt, sl.EndsAt, loc)
			first, last = serviceDays(sl, loc)
		}
		in.Lines = append(in.Lines, invoicing.InvoiceLineInput{Description: c.Description + " — " + when,
			QuantityMilli: 1000, UnitPriceCents: c.AmountCents, PriceIncludesVAT: true, VATRateBP: c.VATRateBP})
		if in.ServiceFrom == "" || first < in.ServiceFrom {
			in.ServiceFrom = first
		}
		if last > in.ServiceTo {
			in.ServiceTo = last
		}
	}
	inv, err := s.invoicer.Issue(ctx, tx, in)
	if err != nil {
		return "", err
	}
	if err := s.paid(ctx, tx, pay, inv); err != nil {
		return "", err
	}
	return inv.ID, nil
}

// issueCreditNote issues a credit note (avoir) against the payment's
// invoice for exactly the amount refunded, TTC, to the cent
// (IssueCreditNote splits it into HT and VAT by the invoices' own
// rounding; partial refunds add up exactly to the invoice). A payment
// recorded before invoicing existed has no invoice to credit. reason is
// the one given with the refund; without one (a refund made in Stripe's
// dashboard) the credit note says it is a refund.
func (s *Service) issueCreditNote(ctx context.Context, tx bun.IDB, pay *Payment, refundCents int64, reason string) (*invoicing.Invoice, error) {
	if pay.InvoiceID == nil {
		return nil, s.refunded(ctx, tx, pay, refundCents, nil)
	}
	switch {
	case reason != "":
	case refundCents < pay.AmountCents:
		reason = "Remboursement partiel"
	default:
		reason = "Remboursement"
	}
	in := invoicing.CreditNoteInput{Reason: reason, AmountCents: refundCents,
		Refund: &invoicing.InvoicePayment{PaidAt: s.now(), Method: pay.Method, Reference: pay.Reference}}
	cn, err := s.invoicer.IssueCreditNote(ctx, tx, *pay.InvoiceID, in)
	if err != nil {
		return nil, err
	}
	if err := s.refunded(ctx, tx, pay, refundCents, cn); err != nil {
		return nil, err
	}
	return cn, nil
}

func (s *Service) invoiceFor(ctx context.Context, tx bun.IDB, pay *Payment, p *Plan, what *Purchase) invoicing.InvoiceInput {
	site := ""
	switch {
	case pay.SiteID != nil:
		site = *pay.SiteID
	case p.SiteID != nil:
		site = *p.SiteID
	}
	var buyer invoicing.Buyer
	if pay.Buyer != nil {
		buyer = *pay.Buyer
	}
	buyer.UserID = pay.UserID
	if buyer.Name == "" || buyer.Email == "" {
		// Without the account, the invoice carries what the buyer gave.
		if c, err := s.accounts.Contact(ctx, tx, pay.UserID); err == nil {
			if buyer.Name == "" {
				buyer.Name = c.Name
			}
			if buyer.Email == "" {
				buyer.Email = c.Email
			}
		}
	}
	paidAt := s.now()
	if pay.PaidAt != nil {
		paidAt = *pay.PaidAt
	}
	loc := siteLocation(ctx, tx, &site)
	day := func(t time.Time) string { return t.In(loc).Format("2006-01-02") }
	desc, from, to := p.Name, day(paidAt), day(paidAt)
	switch {
	case what.PlanChange != nil && !what.PlanChange.End.IsZero():
		c := what.PlanChange
		last := c.End.In(loc).AddDate(0, 0, -1)
		if last.Before(c.Start.In(loc)) {
			last = c.Start.In(loc)
		}
		from, to = day(c.Start), day(last)
		desc = fmt.Sprintf("Changement de formule vers %s — prorata du %s au %s", c.To.Name, frDate(c.Start, loc), frDate(last, loc))
		if c.From != nil {
			desc = fmt.Sprintf("Changement de formule %s → %s — prorata du %s au %s", c.From.Name, c.To.Name, frDate(c.Start, loc), frDate(last, loc))
		}
	case what.Membership != nil && what.Membership.CurrentPeriodStart != nil:
		m := what.Membership
		// Consecutive months must not share a day: the service ends the day
		// before the next period starts.
		last := m.CurrentPeriodEnd.In(loc).AddDate(0, 0, -1)
		from, to = day(*m.CurrentPeriodStart), day(last)
		desc = fmt.Sprintf("Abonnement %s — du %s au %s", p.Name, frDate(*m.CurrentPeriodStart, loc), frDate(last, loc))
	case what.DayPass != nil:
		from, to = what.DayPass.Day, what.DayPass.Day
		desc = fmt.Sprintf("%s — %s", p.Name, frDate(what.DayPass.StartsAt, loc))
	case what.Pack != nil:
		desc = fmt.Sprintf("%s — %d h de %s, valable jusqu'au %s", p.Name, what.Pack.Minutes/60, what.Pack.ResourceKind, frDate(what.Pack.ValidUntil, loc))
	}
	return invoicing.InvoiceInput{
		SiteID: site,
		Buyer:  buyer,
		// A discounted sale shows the list price, the discount and its
		// reason; the line's totals (and VAT) are the net's, pay.AmountCents.
		Lines: []invoicing.InvoiceLineInput{{Description: desc, QuantityMilli: 1000, UnitPriceCents: pay.AmountCents + pay.DiscountCents,
			PriceIncludesVAT: true, VATRateBP: p.VATRateBP, DiscountCents: pay.DiscountCents, DiscountReason: pay.DiscountReason}},
		ServiceFrom: from,
		ServiceTo:   to,
		Payment:     &invoicing.InvoicePayment{PaidAt: paidAt, Method: pay.Method, Reference: strings.TrimSpace(pay.Reference)},
	}
}

func frDate(t time.Time, loc *time.Location) string { return t.In(loc).Format("02/01/2006") }

// defaultBuyer returns b, or, when a purchase names no buyer, the billing
// address the member keeps on their account (PATCH /v1/me), so that they
// do not type it at each purchase. Without either, b stays nil and
// checkBuyer says the address is required.
func (s *Service) defaultBuyer(ctx context.Context, userID string, b *invoicing.Buyer) (*invoicing.Buyer, error) {
	if b != nil || userID == "" {
		return b, nil
	}
	a, err := s.accounts.BillingAddress(ctx, s.db, userID)
	if err != nil || a == nil {
		return nil, err
	}
	return &invoicing.Buyer{Name: a.Name, IsBusiness: a.IsBusiness, SIREN: a.SIREN, VATNumber: a.VATNumber,
		Address: calendar.Address{Line1: a.Line1, Line2: a.Line2, PostalCode: a.PostalCode, City: a.City, Country: a.Country}}, nil
}

// checkBuyer refuses a payment whose invoice could not carry the mentions
// French law requires of the buyer.
func checkBuyer(b *invoicing.Buyer) error {
	var v errs.Validator
	if b == nil {
		v.Add("buyer.address", "a billing address is required on the invoice")
		return v.Err()
	}
	v.Check(strings.TrimSpace(b.Address.Line1) != "" && strings.TrimSpace(b.Address.PostalCode) != "" && strings.TrimSpace(b.Address.City) != "",
		"buyer.address", "line1, postal_code and city are required on the invoice")
	if b.IsBusiness {
		v.Check(b.SIREN != "", "buyer.siren", "is required for a business buyer")
	}
	return v.Err()
}
