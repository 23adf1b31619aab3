// Package notify mails members about their bookings: confirmed, moved,
// cancelled (each with the event as an iCalendar invitation, iMIP, RFC
// 6047, so that their own calendar adds, moves or removes it) and a
// reminder before each one. It listens to calendar's reservation events
// (it is an events.Publisher) and does its work in River jobs, so a
// booking never waits on the mail relay and a relay that is down is
// retried. The same way it mails members about their membership and
// payments (billing.go), their credits (credits.go) and their machine,
// and managers about their site's devices (devices.go).
package notify

import (
	"context"
	"errors"
	"fmt"
	stdmail "net/mail"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// Calendar is what notify reads of the calendar (*calendar.Service).
type Calendar interface {
	GetReservation(ctx context.Context, reservationID string) (*calendar.Reservation, error)
	GetResource(ctx context.Context, resourceID string) (*calendar.Resource, error)
	GetSite(ctx context.Context, siteID string) (*calendar.Site, error)
}

// Accounts is what notify reads of identity (*identity.Service).
type Accounts interface {
	Recipient(ctx context.Context, idb bun.IDB, userID string) (identity.Recipient, error)
	// UnsubscribeURL is the one-click link that turns category off for
	// userID, or "" when there is none (see identity.Service.UnsubscribeURL).
	UnsubscribeURL(userID, category string) string
}

// Config configures New. Every field but Now is required.
type Config struct {
	Calendar Calendar
	Accounts Accounts
	Mailer   mail.Sender
	// Jobs schedules the reminders.
	Jobs *jobs.Queue
	// Organizer is the unattended address ("no-reply@…") invitations name
	// as their ORGANIZER, for the site; a bare address or "Name <addr>".
	Organizer string
	// PublicURL is where members reach the app (--public-url), for the
	// links mails carry; "" gives the API call instead.
	PublicURL string
	Now       func() time.Time
	// What the membership, payment, credit, machine and device mails read
	// (billing.go, credits.go, devices.go); a job whose reader is unset
	// fails, so serve sets them all.
	Billing   Billing
	Invoices  Invoices
	Credits   Credits
	Campaigns Campaigns
	Devices   Devices
	Managers  Managers
	// What the services' mails read (services.go).
	Ateliers     Ateliers
	Appointments Appointments
}

// Service queues and sends booking mail.
type Service struct {
	db        *bun.DB
	cal       Calendar
	accounts  Accounts
	mailer    mail.Sender
	jobs      *jobs.Queue
	organizer string
	publicURL string
	now       func() time.Time
	billing   Billing
	invoices  Invoices
	credits   Credits
	campaigns Campaigns
	devices   Devices
	managers  Managers
	// services.go
	ateliers     Ateliers
	appointments Appointments
}

// New checks cfg and returns the service.
func New(d *bun.DB, cfg Config) (*Service, error) {
	if cfg.Calendar == nil || cfg.Accounts == nil || cfg.Mailer == nil || cfg.Jobs == nil {
		return nil, errors.New("notify: Calendar, Accounts, Mailer and Jobs are required")
	}
	org, err := stdmail.ParseAddress(cfg.Organizer)
	if err != nil {
		return nil, fmt.Errorf("notify: organizer %q: %w", cfg.Organizer, err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{db: d, cal: cfg.Calendar, accounts: cfg.Accounts, mailer: cfg.Mailer, jobs: cfg.Jobs,
		organizer: org.Address, publicURL: cfg.PublicURL, now: cfg.Now, billing: cfg.Billing, invoices: cfg.Invoices, credits: cfg.Credits,
		campaigns: cfg.Campaigns, devices: cfg.Devices, managers: cfg.Managers, ateliers: cfg.Ateliers, appointments: cfg.Appointments}, nil
}

// BookingMailArgs is one reservation event to tell its member about. It
// is unique by event (see Publisher.insert).
type BookingMailArgs struct {
	EventID       string `json:"event_id" river:"unique"`
	Type          string `json:"type"`
	ReservationID string `json:"reservation_id"`
	// OfferAccepted: the update is a waiting list's hold accepted, which
	// confirms a booking rather than moving one.
	OfferAccepted bool `json:"offer_accepted,omitempty"`
}

// Kind names the job in river_job.
func (BookingMailArgs) Kind() string { return "notify.booking" }

// ReminderArgs is the reminder of a reservation that starts at StartsAt.
// A reservation moved since has another reminder, and this one does
// nothing (see reminderWorker).
type ReminderArgs struct {
	ReservationID string    `json:"reservation_id"`
	StartsAt      time.Time `json:"starts_at"`
}

// Kind names the job in river_job.
func (ReminderArgs) Kind() string { return "notify.reminder" }

// AddWorkers registers the booking mail and reminder workers, and those of
// the membership, payment, credit, machine and device mails.
func (s *Service) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &bookingWorker{svc: s}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(w, &waitlistWorker{svc: s}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(w, &reminderWorker{svc: s}); err != nil {
		return err
	}
	if err := s.addServiceWorkers(w); err != nil {
		return err
	}
	return s.addNoticeWorkers(w)
}

// Publisher queues the booking mail jobs. It is apart from Service
// because the calendar needs it to be built, and Service needs the built
// calendar to read reservations: serve builds the Publisher, then the
// calendar, then the Service, with no setter.
type Publisher struct {
	jobs *jobs.Queue
	// self publishes through jobs with this Publisher as its one source.
	self events.Publisher
	// DeviceOfflineAlert is how long a device stays offline before its
	// site's managers are mailed (devices.go); 0 means
	// DefaultDeviceOfflineAlert.
	DeviceOfflineAlert time.Duration
}

// NewPublisher returns the publisher that queues jobs on q.
func NewPublisher(q *jobs.Queue) *Publisher {
	p := &Publisher{jobs: q}
	p.self = q.Publisher(p)
	return p
}

// JobKinds implements jobs.Source.
func (p *Publisher) JobKinds() []river.JobArgs {
	return []river.JobArgs{BookingMailArgs{}, WaitlistMailArgs{}, MembershipMailArgs{}, PaymentMailArgs{},
		CreditMailArgs{}, MachineMailArgs{}, DeviceOfflineArgs{}, ServiceMailArgs{}}
}

// JobsFor implements jobs.Source: a booking's created, updated and
// cancelled events, a waiting list's offers and lapses, and the other
// events notify mails about (otherArgs) each ask for one job; blocks (no
// member) and the rest are not notify's. The job reads the member's
// choices itself, so the change pays its INSERT and no read. Every notify
// job tags its event id `river:"unique"` and is inserted unique by its
// arguments: a publisher that retries, or two replicas that publish one
// event, queue one job, so one mail. River keeps a job's unique key while
// it is pending, running, retried or completed (until the completed job
// is pruned, a day later): SQLite and PostgreSQL alike refuse a second row
// with the key (river_job_unique_idx).
func (p *Publisher) JobsFor(e events.Event) ([]river.InsertManyParams, error) {
	var (
		args river.JobArgs
		opts *river.InsertOpts
	)
	switch e.Type {
	case calendar.EventReservationCreated, calendar.EventReservationUpdated, calendar.EventReservationCancelled:
		args = bookingArgs(e)
	case calendar.EventWaitlistOffered, calendar.EventWaitlistLapsed:
		args = waitlistArgs(e)
	case ateliers.EventRegistrationConfirmed, ateliers.EventRegistrationPromoted, ateliers.EventRegistrationCancelled,
		appointments.EventAppointmentBooked, appointments.EventAppointmentMoved, appointments.EventAppointmentCancelled:
		args = serviceArgs(e)
	default:
		args, opts = p.otherArgs(e)
	}
	if args == nil {
		return nil, nil
	}
	if opts == nil {
		opts = &river.InsertOpts{}
	}
	opts.UniqueOpts = river.UniqueOpts{ByArgs: true}
	return []river.InsertManyParams{{Args: args, InsertOpts: opts}}, nil
}

// Publish implements events.Publisher for a domain given notify alone
// (the ledger, the gate's notices): JobsFor's job, inserted through the
// queue.
func (p *Publisher) Publish(ctx context.Context, idb bun.IDB, e events.Event) error {
	return p.self.Publish(ctx, idb, e)
}

func bookingArgs(e events.Event) river.JobArgs {
	data, ok := e.Data.(calendar.ReservationEvent)
	if !ok || data.UserID == nil || data.Kind != calendar.ReservationBooking {
		return nil
	}
	return BookingMailArgs{EventID: e.ID, Type: e.Type, ReservationID: data.ReservationID, OfferAccepted: data.OfferAccepted}
}

// booking is what a mail about one reservation needs.
type booking struct {
	r    *calendar.Reservation
	res  *calendar.Resource
	site *calendar.Site
	to   identity.Recipient
}

// load reads reservationID with its resource, site and member; ok is false
// when there is nobody to write to (a block, a deleted or disabled
// account, no address).
func (s *Service) load(ctx context.Context, reservationID string) (b booking, ok bool, err error) {
	r, err := s.cal.GetReservation(ctx, reservationID)
	if errors.Is(err, errs.ErrNotFound) {
		return b, false, nil // gone: nothing to tell, nothing to retry
	}
	if err != nil {
		return b, false, fmt.Errorf("read reservation %s: %w", reservationID, err)
	}
	if r.Kind != calendar.ReservationBooking || r.UserID == nil {
		return b, false, nil
	}
	to, err := s.accounts.Recipient(ctx, s.db, *r.UserID)
	if err != nil {
		return b, false, fmt.Errorf("read member of %s: %w", reservationID, err)
	}
	if !to.Active || to.Email == "" {
		return b, false, nil
	}
	res, err := s.cal.GetResource(ctx, r.ResourceID)
	if err != nil {
		return b, false, fmt.Errorf("read resource of %s: %w", reservationID, err)
	}
	site, err := s.cal.GetSite(ctx, r.SiteID)
	if err != nil {
		return b, false, fmt.Errorf("read site of %s: %w", reservationID, err)
	}
	return booking{r: r, res: res, site: site, to: to}, true, nil
}

type bookingWorker struct {
	river.WorkerDefaults[BookingMailArgs]
	svc *Service
}

// Work mails the member the reservation as it is now, with its current
// SEQUENCE: a job that runs late, after a later change, still sends a
// true invitation, never an older state with a newer number. A created or
// updated event whose reservation has since been cancelled sends nothing:
// the cancellation's own job tells. River may run a job twice (a crash
// after the send); the member then gets the same invitation twice, which
// calendar apps merge by UID.
func (w *bookingWorker) Work(ctx context.Context, job *river.Job[BookingMailArgs]) error {
	s, a := w.svc, job.Args
	b, ok, err := s.load(ctx, a.ReservationID)
	if err != nil || !ok {
		return err
	}
	var message string
	switch {
	case a.Type == calendar.EventReservationCancelled && b.r.Status == calendar.StatusCancelled && b.r.HoldExpiresAt != nil:
		// A waiting list's hold never accepted, released: not a booking
		// the member had (waitlist.lapsed tells them of a lapse).
		return nil
	case a.Type == calendar.EventReservationCancelled && b.r.Status == calendar.StatusCancelled:
		message = "booking_cancelled"
	case b.r.Status != calendar.StatusConfirmed:
		// Cancelled since, or a waiting list's hold: not a booking yet.
		return nil
	case a.Type == calendar.EventReservationCreated || a.OfferAccepted:
		message = "booking_confirmed"
	default:
		message = "booking_moved"
	}
	if message != "booking_cancelled" {
		if err := s.scheduleReminder(ctx, b); err != nil {
			return err
		}
	}
	if !b.to.Notifications.Bookings {
		return nil
	}
	return s.send(ctx, message, b)
}

// scheduleReminder queues the reminder of b at its start less the member's
// choice, unless they want none or the booking starts sooner than that.
// It is unique by reservation and start: a retry, or an update that does
// not move the booking, queues no second one.
func (s *Service) scheduleReminder(ctx context.Context, b booking) error {
	n := b.to.Notifications
	if !n.Reminders || n.ReminderMinutesBefore <= 0 {
		return nil
	}
	at := b.r.StartsAt.Add(-time.Duration(n.ReminderMinutesBefore) * time.Minute)
	if !at.After(s.now()) {
		return nil
	}
	args := ReminderArgs{ReservationID: b.r.ID, StartsAt: b.r.StartsAt.UTC()}
	if _, err := s.jobs.Insert(ctx, args, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return fmt.Errorf("schedule reminder of %s: %w", b.r.ID, err)
	}
	return nil
}

type reminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	svc *Service
}

// Work sends the reminder if the booking still stands where it stood when
// the reminder was scheduled, and has not started.
func (w *reminderWorker) Work(ctx context.Context, job *river.Job[ReminderArgs]) error {
	s, a := w.svc, job.Args
	b, ok, err := s.load(ctx, a.ReservationID)
	if err != nil || !ok {
		return err
	}
	if b.r.Status != calendar.StatusConfirmed || !b.r.StartsAt.Equal(a.StartsAt) || !b.r.StartsAt.After(s.now()) {
		return nil
	}
	if !b.to.Notifications.Reminders {
		return nil
	}
	return s.send(ctx, "booking_reminder", b)
}
