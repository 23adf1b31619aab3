package people

import (
	"context"
	"slices"
	"time"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// Picture is one person's whole picture at a site, for its managers.
type Picture struct {
	Item
	// Entry is billing's answer to "may they come in now" (the rights of
	// their memberships and passes at this instant).
	Entry          *billing.Entry
	Upcoming       []calendar.Reservation
	Payments       []billing.Payment
	Invoices       []invoicing.Invoice
	CreditLots     []ledger.CreditBalance
	Qualifications []Qualification
	Notes          []Note
}

// Qualification is a qualification of the site the person holds.
type Qualification struct {
	ID        string
	Name      string
	GrantedAt time.Time
	ExpiresAt *time.Time
}

// picture limits: the newest of each list; the full lists have their own
// routes (invoices, payments, reservations of the site).
const pictureMax = 50

// Get returns userID's picture at siteID.
func (s *Service) Get(ctx context.Context, p *identity.Principal, siteID, userID string) (*Picture, error) {
	if err := MayReadPeople(p, siteID); err != nil {
		return nil, err
	}
	if err := s.checkPerson(ctx, siteID, userID); err != nil {
		return nil, err
	}
	it, err := s.item(ctx, siteID, userID)
	if err != nil {
		return nil, err
	}
	out := &Picture{Item: *it}
	now := s.now()
	if out.Entry, err = s.cfg.Billing.MayEnter(ctx, userID, siteID, now); err != nil {
		return nil, err
	}
	if out.Upcoming, _, err = s.cfg.Calendar.ListReservations(ctx, identity.System(), calendar.ReservationFilter{
		UserID: userID, SiteID: siteID, From: now, Statuses: []string{"confirmed", "held"}, Limit: pictureMax}); err != nil {
		return nil, err
	}
	if err := s.money(ctx, out, siteID, userID); err != nil {
		return nil, err
	}
	if out.Qualifications, err = s.qualifications(ctx, siteID, userID); err != nil {
		return nil, err
	}
	if out.Notes, err = s.notes(ctx, siteID, userID); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) money(ctx context.Context, out *Picture, siteID, userID string) error {
	pays, err := s.cfg.Billing.ListPayments(ctx, userID)
	if err != nil {
		return err
	}
	out.Payments = []billing.Payment{}
	for _, pay := range pays {
		if pay.SiteID != nil && *pay.SiteID == siteID && len(out.Payments) < pictureMax {
			out.Payments = append(out.Payments, pay)
		}
	}
	if out.Invoices, _, err = s.cfg.Invoices.List(ctx, invoicing.InvoiceFilter{SiteID: siteID, UserID: userID, Limit: 500}); err != nil {
		return err
	}
	slices.Reverse(out.Invoices) // newest first
	if len(out.Invoices) > pictureMax {
		out.Invoices = out.Invoices[:pictureMax]
	}
	out.CreditLots, err = s.cfg.Credits.UsableAt(ctx, userID, siteID)
	return err
}

// qualifications asks the calendar as the system: people's rule has
// already decided the caller may see this person's picture.
func (s *Service) qualifications(ctx context.Context, siteID, userID string) ([]Qualification, error) {
	qs, err := s.cfg.Calendar.ListQualifications(ctx, identity.System(), siteID)
	if err != nil {
		return nil, err
	}
	out := []Qualification{}
	now := s.now()
	for _, q := range qs {
		grants, err := s.cfg.Calendar.ListGrants(ctx, identity.System(), q.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range grants {
			if g.UserID == userID && g.RevokedAt == nil && (g.ExpiresAt == nil || g.ExpiresAt.After(now)) {
				out = append(out, Qualification{ID: q.ID, Name: q.Name, GrantedAt: g.GrantedAt, ExpiresAt: g.ExpiresAt})
			}
		}
	}
	return out, nil
}
