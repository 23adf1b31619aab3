// Package privacy is what Relais does with a member's personal data as a
// whole: their export (a ZIP of everything held about them, built by a
// job), the erasure of their account (each domain forgets what it may, in
// one transaction), and the retention of sign-in records and access
// events. Each domain decides about its own data in its privacy.go; this
// package only calls them in order. It sits above the domains and below
// api and cmd/relais.
package privacy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/internal/mail"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/people"
)

// DefaultRetention is how long access events and sign-in records are
// kept: three months, as the CNIL recommends for the logs of access
// control (see README, "Personal data").
const DefaultRetention = 90 * 24 * time.Hour

// DefaultGuestRetention is how long a guest of the services (people.Guest)
// is kept after they were last served: two years, the time a resident may
// take to come back to an atelier or a permanence, after which the
// service has no purpose left for their name, phone, commune and age (see
// README, "Personal data").
const DefaultGuestRetention = 2 * 365 * 24 * time.Hour

// MinGuestRetention bounds GuestRetention from below: a season's break
// must not erase the residents who come back after it.
const MinGuestRetention = 180 * 24 * time.Hour

// ExportTTL is how long a ready export can be downloaded.
const ExportTTL = 7 * 24 * time.Hour

// purgeBatch is how many rows a purge deletes per statement.
const purgeBatch = 1000

// Config is what the privacy service needs, given at construction.
type Config struct {
	DB        *bun.DB
	Jobs      *jobs.Queue
	Identity  *identity.Service
	Calendar  *calendar.Service
	Billing   *billing.Service
	Ledger    *ledger.Service
	Invoices  *invoicing.Invoicer
	Campaigns *campaigns.Service
	// Access is the gate's audit; nil leaves access events out of exports
	// and purges.
	Access *access.Events
	// People holds managers' notes on members and the desks' walk-ins;
	// nil leaves them out of exports and erasures.
	People *people.Service
	// Ateliers holds registrations to ateliers; nil leaves them out of
	// exports and erasures.
	Ateliers *ateliers.Service
	// Appointments are residents' appointments with public services; nil
	// leaves them out of exports and erasures.
	Appointments *appointments.Service
	// Mailer sends "your export is ready"; nil sends nothing.
	Mailer mail.Sender
	// PublicURL, when set, is the base of the app's link in that mail.
	PublicURL string
	// Retention of access events and sign-in records; 0 is
	// DefaultRetention. It may not be shorter than access.MinRetention.
	Retention time.Duration
	// GuestRetention: guests not served for this long are erased; 0 is
	// DefaultGuestRetention. Needs People.
	GuestRetention time.Duration
	Now            func() time.Time
}

// Service runs exports, erasures and the retention purge.
type Service struct {
	cfg Config
	db  *bun.DB
}

// New returns a Service; every domain but Access and Campaigns is required.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Jobs == nil || cfg.Identity == nil || cfg.Calendar == nil || cfg.Billing == nil ||
		cfg.Ledger == nil || cfg.Invoices == nil {
		return nil, errors.New("privacy: DB, Jobs, Identity, Calendar, Billing, Ledger and Invoices are required")
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Retention < access.MinRetention {
		return nil, errors.New("privacy: the retention of access events must be at least 28 days")
	}
	if cfg.GuestRetention == 0 {
		cfg.GuestRetention = DefaultGuestRetention
	}
	if cfg.GuestRetention < MinGuestRetention {
		return nil, errors.New("privacy: the retention of guests must be at least 180 days")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, db: cfg.DB}, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// AddWorkers registers the export, its mail and the retention purge.
func (s *Service) AddWorkers(w *river.Workers) error {
	for _, add := range []func() error{
		func() error { return river.AddWorkerSafely(w, &exportWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &exportMailWorker{s: s}) },
		func() error { return river.AddWorkerSafely(w, &retentionWorker{s: s}) },
	} {
		if err := add(); err != nil {
			return err
		}
	}
	return nil
}

// PeriodicJobs is the daily retention purge.
func (s *Service) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
		func() (river.JobArgs, *river.InsertOpts) {
			return RetentionArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: 24 * time.Hour}}
		}, &river.PeriodicJobOpts{ID: RetentionArgs{}.Kind(), RunOnStart: true})}
}

// RetentionArgs is the daily job that purges old access events and
// sign-in records.
type RetentionArgs struct{}

// Kind names the job in river_job.
func (RetentionArgs) Kind() string { return "privacy.retention" }

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	s *Service
}

func (w *retentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, err := w.s.PurgeOld(ctx)
	return err
}

// PurgeOld deletes the access events and the sign-in records (ended
// sessions, login addresses) older than the retention period, erases the
// guests no longer served (people.StaleGuests) as a member's erasure does,
// and reports how many rows and guests went. Invoices, payments and the
// ledger are never purged.
func (s *Service) PurgeOld(ctx context.Context) (int64, error) {
	before := s.now().Add(-s.cfg.Retention)
	n, err := s.cfg.Identity.PurgeSignIns(ctx, before, purgeBatch)
	if err != nil {
		return n, err
	}
	if s.cfg.Access != nil {
		m, err := s.cfg.Access.PurgeBefore(ctx, before, purgeBatch)
		n += m
		if err != nil {
			return n, err
		}
	}
	if s.cfg.People == nil {
		return n, nil
	}
	for {
		stale, err := s.cfg.People.StaleGuests(ctx, s.now().Add(-s.cfg.GuestRetention), purgeBatch)
		if err != nil {
			return n, err
		}
		for _, guestID := range stale {
			if err := s.erase(ctx, identity.System(), guestID, false); err != nil {
				return n, fmt.Errorf("erase guest %s: %w", guestID, err)
			}
			n++
		}
		if len(stale) < purgeBatch {
			return n, nil
		}
	}
}
