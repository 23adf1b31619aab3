package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/api"
	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/dashboard"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/i18n"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/notify"
	"github.com/relais-tierslieux/relais/people"
	"github.com/relais-tierslieux/relais/privacy"
	"github.com/relais-tierslieux/relais/reports"
	"github.com/relais-tierslieux/relais/web"
	"github.com/relais-tierslieux/relais/webhooks"
)

// migrateAll brings every schema Relais uses up to date: ours, then the
// job queue's.
func migrateAll(ctx context.Context, d *bun.DB) error {
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

// serve runs Relais. It reads as the diagram of the application: each
// service is built complete, with what it needs, before the ones that need
// it; the details live in the functions it calls (wiring.go).
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := serveConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(c, stdout)

	// Database, and the queue every service inserts its durable jobs on.
	d, err := openDatabase(ctx, c, log)
	if err != nil {
		return err
	}
	defer d.Close()
	queue, err := jobs.NewQueue(d)
	if err != nil {
		return err
	}
	idem := idempotency.New(d, nil)

	// Identity: accounts, tokens, rights.
	identitySvc, err := newIdentity(ctx, d, c, queue, log)
	if err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, identitySvc, c, log); err != nil {
		return err
	}

	// Webhooks: the domains below publish their events to it, inside
	// their transactions; its jobs deliver them.
	webhooksSvc := webhooks.New(d, webhooks.Config{Jobs: queue, Managers: identitySvc, Mail: c.mailer(log),
		AllowPrivate: c.WebhookAllowPrivate, Logger: log})

	// The ledger and invoicing, then billing, which spends credit and
	// invoices every payment; the contributions' records before billing,
	// whose webhooks feed them, the campaigns after: they pay through it.
	// notify's publisher queues the members' mails in the domains' own
	// transactions; its workers, which read the domains, are built last.
	notifyPub := notify.NewPublisher(queue)
	notifyPub.DeviceOfflineAlert = c.DeviceOfflineAlert
	// What the domains tell integrators and members: each event's webhook
	// fan-out and mail jobs, queued in one statement in the change's
	// transaction. The ledger's events are for members' mail only.
	published := queue.Publisher(webhooksSvc, notifyPub)
	ledgerSvc := ledger.New(d, ledger.Config{Jobs: queue, Accounts: identitySvc, Sites: calendar.DevicePlaces{}, Events: notifyPub})
	invoicer := invoicing.NewInvoicer(d, nil)
	contributions := campaigns.NewContributions(d, campaigns.Config{Events: webhooksSvc, Jobs: queue, Ledger: ledgerSvc, Invoicer: invoicer, Accounts: identitySvc})
	billingSvc := billing.New(d, billing.Config{Events: published, Invoicer: invoicer, Accounts: identitySvc, Ledger: ledgerSvc, Contributions: contributions,
		Stripe: billing.StripeConfig{SecretKey: c.StripeSecretKey, WebhookSecret: c.StripeWebhookSecret, APIURL: c.StripeAPIURL}})
	campaignsSvc := campaigns.New(contributions, billingSvc)
	// The calendar: bookings pass billing's entitlement check, and a
	// cancelled reservation also switches its machine off. Its events go
	// to webhooks and to the booking mails' queue; notify's workers, which
	// read the calendar, are built after it.
	calendarSvc := calendar.New(d, calendar.Config{OfferTTL: c.OfferTTL, Jobs: queue, Accounts: identitySvc,
		Events: published,
		Guard:  access.SessionGuard(billingSvc, queue),
		// Quotes ask billing what the guard decides and what it costs.
		Pricer: billingSvc})

	// Devices: the embedded MQTT broker, or an external one. The gate's
	// event recorder exists first, to record devices going offline.
	gateCfg := access.GateConfig{Publisher: published, Notices: notifyPub, Logger: log, Jobs: queue, Accounts: identitySvc,
		RoomMargin: c.RoomDoorMargin, MachineGrace: c.MachineGrace, MachineWarning: c.MachineWarning, DurableAudit: c.DurableAudit}
	gateCfg.Events = access.NewEvents(d, gateCfg)
	devicesSvc := devices.New(d, devices.Config{Places: calendar.DevicePlaces{}, Logger: log, CommandTimeout: c.DeviceTimeout, ZigbeeTimeout: c.ZigbeeTimeout,
		OnPresence: gateCfg.Events.OnPresence})
	transport, deviceURL, closeMQTT, err := connectMQTT(ctx, c, devicesSvc, log)
	if err != nil {
		return err
	}
	defer closeMQTT()
	defer devicesSvc.Close()

	// The gate: doors and machines.
	gate := access.NewGate(d, calendarSvc, billingSvc, devicesSvc, gateCfg)
	if err := devicesSvc.Start(ctx, transport); err != nil {
		return fmt.Errorf("start devices: %w", err)
	}

	// Ateliers and trainings: sessions hold their resources through the
	// calendar; the "members" audience asks billing.
	ateliersSvc, err := ateliers.New(d, ateliers.Config{Calendar: calendarSvc, Rights: billingSvc, Payments: billingSvc, Accounts: identitySvc, Events: notifyPub})
	if err != nil {
		return err
	}

	// The funders' figures, over ateliers and guests.
	reportsSvc, err := reports.New(d, calendarSvc, nil)
	if err != nil {
		return err
	}

	// Appointments with public services: each holds its resource through
	// the calendar as a block.
	appointmentsSvc, err := appointments.New(d, appointments.Config{Calendar: calendarSvc, Accounts: identitySvc, Events: notifyPub})
	if err != nil {
		return err
	}

	// The members' and managers' mails (the ateliers' and appointments'
	// among them: their events go to notify alone, not to webhooks).
	notifySvc, err := notify.New(d, notify.Config{Calendar: calendarSvc, Accounts: identitySvc, Mailer: c.mailer(log),
		Jobs: queue, Organizer: c.MailFrom, PublicURL: c.PublicURL, Billing: billingSvc, Invoices: invoicer, Credits: ledgerSvc,
		Campaigns: campaignsSvc, Devices: devicesSvc, Managers: identitySvc, Ateliers: ateliersSvc, Appointments: appointmentsSvc})
	if err != nil {
		return err
	}

	// The front desk's people, read across the domains; a guest's merge
	// moves their history through the domains that hold some.
	peopleSvc, err := people.New(d, people.Config{Identity: identitySvc, Billing: billingSvc, Calendar: calendarSvc,
		Sites: calendar.DevicePlaces{}, Invoices: invoicer, Credits: ledgerSvc,
		Visits: []people.Visits{people.DoorVisits{}, calendar.CheckInVisits{}},
		Movers: []people.HistoryMover{calendarSvc, billingSvc, ledgerSvc, ateliersSvc, appointmentsSvc}})
	if err != nil {
		return err
	}

	// Personal data: exports, erasure and retention, through each domain.
	privacySvc, err := privacy.New(privacy.Config{DB: d, Jobs: queue, Identity: identitySvc, Calendar: calendarSvc, Billing: billingSvc,
		Ledger: ledgerSvc, Invoices: invoicer, Campaigns: campaignsSvc, Access: gateCfg.Events, People: peopleSvc, Ateliers: ateliersSvc, Appointments: appointmentsSvc, Mailer: c.mailer(log),
		PublicURL: c.PublicURL, Retention: c.AccessLogRetention, GuestRetention: c.GuestRetention})
	if err != nil {
		return err
	}

	// The cash journal: closings (a periodic job), archives.
	closingsSvc := closings.New(d, closings.Config{Invoices: invoicer})

	// The job client works what the services queue.
	stopJobs, err := startJobs(ctx, d, log, jobServices{identity: identitySvc, calendar: calendarSvc, ledger: ledgerSvc,
		billing: billingSvc, campaigns: campaignsSvc, gate: gate, idem: idem, webhooks: webhooksSvc, notify: notifySvc, privacy: privacySvc, closings: closingsSvc})
	if err != nil {
		return err
	}
	defer stopJobs()

	// The figures for the morning, from each domain's own sums.
	dashboardSvc := dashboard.New(dashboard.Config{Calendar: calendarSvc, Billing: billingSvc, Invoices: invoicer,
		Access: gate.Events, Devices: devicesSvc})

	// The HTTP API.
	handler := api.New(api.Deps{Access: identitySvc, Calendar: calendarSvc, Billing: billingSvc, Ledger: ledgerSvc,
		Campaigns: campaignsSvc, Invoices: invoicer, Devices: devicesSvc, Gate: gate, Webhooks: webhooksSvc, Idempotency: idem, Privacy: privacySvc, Closings: closingsSvc,
		People: peopleSvc, Ateliers: ateliersSvc, Reports: reportsSvc, Appointments: appointmentsSvc, Dashboard: dashboardSvc,
		Logger: log, Registry: newRegistry(devicesSvc, gate), TrustedProxies: c.TrustedProxies, PublicURL: c.PublicURL,
		Ready:           func(ctx context.Context) error { return ready(ctx, d) },
		DefaultLanguage: i18n.Lang(c.DefaultLanguage)})
	// The members' app, at the same address: the API keeps /v1/.
	app, err := web.New()
	if err != nil {
		return err
	}
	if c.BrandDir != "" {
		if err := app.UseBrand(c.BrandDir); err != nil {
			return err
		}
	}
	ln, err := listen(c.HTTPAddr)
	if err != nil {
		return err
	}
	// The demo's site and its simulated devices, with --demo.
	dm, stopSims, err := startDemo(ctx, c.Demo, d, identitySvc, calendarSvc, billingSvc, devicesSvc, deviceURL, log)
	if err != nil {
		return err
	}
	defer stopSims()
	go reconcileSoon(ctx, gate, log)

	// Serve until ctx ends, then shut down.
	return runHTTP(ctx, ln, app.Handler(handler), dm, stdout, log)
}

func ready(ctx context.Context, d *bun.DB) error {
	if err := d.PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable")
	}
	n, err := db.Pending(ctx, d)
	if err != nil {
		return fmt.Errorf("cannot read migration status")
	}
	if n > 0 {
		return fmt.Errorf("%d migrations pending", n)
	}
	return nil
}

// displayAddr turns ":8080" / "[::]:8080" into "localhost:8080" for the log.
func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		return "localhost" + s[strings.LastIndexByte(s, ':'):]
	}
	return s
}
