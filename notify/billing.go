package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Mails about a member's membership and payments: payment received (with
// its invoice as a PDF), past due (a renewal that failed or a period left
// unpaid), suspended, renewed, cancelled. billing publishes the events; one
// job per event, queued in billing's transaction, reads what it needs
// through billing's and invoicing's Go API and mails the member.

// Billing is what notify reads of billing (*billing.Service).
type Billing interface {
	GetMembership(ctx context.Context, membershipID string) (*billing.Membership, error)
	GetPlan(ctx context.Context, planID string) (*billing.Plan, error)
}

// Invoices is what notify reads of invoicing (*invoicing.Invoicer).
type Invoices interface {
	Get(ctx context.Context, invoiceID string) (*invoicing.Invoice, error)
	PDF(ctx context.Context, invoiceID string) ([]byte, error)
}

// MembershipMailArgs is one membership event to tell its member about.
type MembershipMailArgs struct {
	EventID      string `json:"event_id"`
	Type         string `json:"type"`
	MembershipID string `json:"membership_id"`
}

// Kind names the job in river_job.
func (MembershipMailArgs) Kind() string { return "notify.membership" }

// PaymentMailArgs is a payment received, to confirm with its invoice.
type PaymentMailArgs struct {
	EventID   string `json:"event_id"`
	PaymentID string `json:"payment_id"`
	UserID    string `json:"user_id"`
	InvoiceID string `json:"invoice_id"`
	Amount    int64  `json:"amount_cents"`
}

// Kind names the job in river_job.
func (PaymentMailArgs) Kind() string { return "notify.payment" }

// membershipMessages names the message of each membership event mailed;
// membership.created is not: its payment's mail tells it.
var membershipMessages = map[string]string{
	billing.EventMembershipRenewed:   "membership_renewed",
	billing.EventMembershipPastDue:   "membership_past_due",
	billing.EventMembershipSuspended: "membership_suspended",
	billing.EventMembershipCancelled: "membership_cancelled",
}

// billingArgs is the job of a billing event, or nil when it mails nobody.
func billingArgs(e events.Event) river.JobArgs {
	switch d := e.Data.(type) {
	case billing.MembershipEvent:
		if membershipMessages[e.Type] != "" {
			return MembershipMailArgs{EventID: e.ID, Type: e.Type, MembershipID: d.MembershipID}
		}
	case billing.PaymentEvent:
		// A contribution has its own receipt (campaigns); a payment
		// without an invoice has nothing to attach.
		if e.Type == billing.EventPaymentSucceeded && d.Purpose != billing.PurposeContribution && d.InvoiceID != "" {
			return PaymentMailArgs{EventID: e.ID, PaymentID: d.PaymentID, UserID: d.UserID, InvoiceID: d.InvoiceID, Amount: d.AmountCents}
		}
	}
	return nil
}

// publishOthers queues the job of an event that is not a reservation's:
// billing's, the ledger's, the machines' and the devices'. Each job is
// unique by its event: a publisher that hands the same event twice (a
// retried warning) queues one mail.
func (p *Publisher) publishOthers(ctx context.Context, idb bun.IDB, e events.Event) error {
	args, opts := billingArgs(e), (*river.InsertOpts)(nil) // unique by args: see insert
	if args == nil {
		args = creditArgs(e)
	}
	if args == nil {
		args, opts = p.deviceArgs(e)
	}
	if args == nil {
		return nil
	}
	return p.insert(ctx, idb, e, args, opts)
}

// wants reports whether to may be mailed about category: an active
// account with an address that did not turn it off.
func wants(to identity.Recipient, category string) bool {
	if !to.Active || to.Email == "" {
		return false
	}
	return to.Notifications.Allows(category)
}

// mailTo renders message for to in their language, with atts, and sends it
// through deliver, unless to does not want category. site, when the mail is
// about one, gives its Reply-To.
func (s *Service) mailTo(ctx context.Context, to identity.Recipient, site *calendar.Site, category, message string, data any, atts ...mail.Attachment) error {
	if !wants(to, category) {
		return nil
	}
	m, err := templates.Render(message, to.Language, to.Email, data)
	if err != nil {
		return fmt.Errorf("render %s: %w", message, err)
	}
	m.Attachments = append(m.Attachments, atts...)
	s.decorate(&m, to.ID, category, site)
	if err := s.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s mail to %s: %w", category, to.ID, err)
	}
	return nil
}

// recipient reads userID; ok is false when the account is gone.
func (s *Service) recipient(ctx context.Context, userID string) (to identity.Recipient, ok bool, err error) {
	to, err = s.accounts.Recipient(ctx, s.db, userID)
	if errors.Is(err, errs.ErrNotFound) {
		return to, false, nil
	}
	if err != nil {
		return to, false, fmt.Errorf("read member %s: %w", userID, err)
	}
	return to, true, nil
}

// noticeData is what every mail of these files shows: the member, the
// site (name and address; empty for a network-wide plan or credit).
type noticeData struct {
	Name, Site, SiteAddress string
}

// siteData fills the site of d from siteID ("" or nil: none).
func (s *Service) siteData(ctx context.Context, name string, siteID *string) (noticeData, *calendar.Site, error) {
	d := noticeData{Name: name}
	if siteID == nil || *siteID == "" {
		return d, nil, nil
	}
	site, err := s.cal.GetSite(ctx, *siteID)
	if err != nil {
		return d, nil, fmt.Errorf("read site %s: %w", *siteID, err)
	}
	d.Site, d.SiteAddress = site.Name, siteAddress(site)
	return d, site, nil
}

// siteAddress is the site's address on one line, without its name.
func siteAddress(site *calendar.Site) string {
	a := site.Address
	var kept []string
	for _, p := range []string{a.Line1, a.Line2, strings.TrimSpace(a.PostalCode + " " + a.City)} {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, ", ")
}

// membershipData is what the membership mails show.
type membershipData struct {
	noticeData
	Plan string
	// PeriodEnd: when the period paid ends (renewed) or ended (past due,
	// suspended); Ended: when a cancelled membership ends.
	PeriodEnd, Ended string
}

type membershipWorker struct {
	river.WorkerDefaults[MembershipMailArgs]
	svc *Service
}

// Work mails the member about the membership as it is now, if it still is
// in the state the event told: a past-due mail that runs after the
// payment came is not sent.
func (w *membershipWorker) Work(ctx context.Context, job *river.Job[MembershipMailArgs]) error {
	s, a := w.svc, job.Args
	if s.billing == nil {
		return errors.New("notify: Config.Billing is not set")
	}
	m, err := s.billing.GetMembership(ctx, a.MembershipID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read membership %s: %w", a.MembershipID, err)
	}
	if !membershipStill(a.Type, m) {
		return nil
	}
	to, ok, err := s.recipient(ctx, m.UserID)
	if err != nil || !ok || !wants(to, identity.CategoryMembership) {
		return err
	}
	plan, err := s.billing.GetPlan(ctx, m.PlanID)
	if err != nil {
		return fmt.Errorf("read plan %s: %w", m.PlanID, err)
	}
	nd, site, err := s.siteData(ctx, to.Name, m.SiteID)
	if err != nil {
		return err
	}
	d := membershipData{noticeData: nd, Plan: plan.Name}
	loc := siteZone(site)
	if m.CurrentPeriodEnd != nil {
		d.PeriodEnd = formatDate(m.CurrentPeriodEnd.In(loc), to.Language)
	}
	if m.CanceledAt != nil {
		d.Ended = formatDate(m.CanceledAt.In(loc), to.Language)
	}
	return s.mailTo(ctx, to, site, identity.CategoryMembership, membershipMessages[a.Type], d)
}

// membershipStill reports whether m is still as event typ left it.
func membershipStill(typ string, m *billing.Membership) bool {
	switch typ {
	case billing.EventMembershipRenewed:
		return m.Status == billing.StatusActive
	case billing.EventMembershipPastDue:
		return m.Status == billing.StatusPastDue
	case billing.EventMembershipSuspended:
		return m.Status == billing.StatusSuspended
	case billing.EventMembershipCancelled:
		return m.Status == billing.StatusCanceled
	}
	return false
}

// paymentData is what the payment mail shows.
type paymentData struct {
	noticeData
	Amount, Number, Date string
	// Lines are what the payment paid, as the invoice names them.
	Lines []string
}

type paymentWorker struct {
	river.WorkerDefaults[PaymentMailArgs]
	svc *Service
}

// Work mails the member that their payment was received, with the invoice
// that invoicing renders attached as a PDF.
func (w *paymentWorker) Work(ctx context.Context, job *river.Job[PaymentMailArgs]) error {
	s, a := w.svc, job.Args
	if s.invoices == nil {
		return errors.New("notify: Config.Invoices is not set")
	}
	to, ok, err := s.recipient(ctx, a.UserID)
	if err != nil || !ok || !wants(to, identity.CategoryMembership) {
		return err
	}
	inv, err := s.invoices.Get(ctx, a.InvoiceID)
	if err != nil {
		return fmt.Errorf("read invoice %s: %w", a.InvoiceID, err)
	}
	pdf, err := s.invoices.PDF(ctx, a.InvoiceID)
	if err != nil {
		return fmt.Errorf("render invoice %s: %w", a.InvoiceID, err)
	}
	nd, site, err := s.siteData(ctx, to.Name, &inv.SiteID)
	if err != nil {
		return err
	}
	d := paymentData{noticeData: nd, Amount: formatEuros(a.Amount, to.Language), Number: inv.Number,
		Date: formatDate(inv.IssuedAt.In(siteZone(site)), to.Language)}
	for _, l := range inv.Lines {
		d.Lines = append(d.Lines, l.Description)
	}
	att := mail.Attachment{Filename: "facture-" + inv.Number + ".pdf", ContentType: "application/pdf", Data: pdf}
	return s.mailTo(ctx, to, site, identity.CategoryMembership, "payment_received", d, att)
}

// siteZone is site's time zone; Paris when there is no site (a
// network-wide plan or credit), Relais being written for France.
func siteZone(site *calendar.Site) *time.Location {
	if site != nil {
		return site.Location()
	}
	if loc, err := time.LoadLocation("Europe/Paris"); err == nil {
		return loc
	}
	return time.UTC
}

// formatEuros is "1 234,56 €" in French (no-break spaces between thousands
// and before the sign), "€1,234.56" in English.
func formatEuros(cents int64, lang string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	sep, dec := "\u00a0", ","
	if lang == identity.LanguageEnglish {
		sep, dec = ",", "."
	}
	var b strings.Builder
	for i, d := range units {
		if i > 0 && (len(units)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(d)
	}
	amount := fmt.Sprintf("%s%s%02d", b.String(), dec, cents%100)
	if lang == identity.LanguageEnglish {
		return sign + "€" + amount
	}
	return sign + amount + "\u00a0€"
}
