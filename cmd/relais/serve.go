package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/api"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// migrateAll brings every schema Relais uses up to date: ours, then the
// job queue's.
func migrateAll(ctx context.Context, d *bun.DB) error {
	if err := db.Migrate(ctx, d); err != nil {
		return err
	}
	return jobs.Migrate(ctx, d)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs, proxies := newFlagSet("serve", &c)
	fs.StringVar(&c.HTTPAddr, "http-addr", ":8080", "address the HTTP API listens on")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "secret that signs access tokens (at least 32 characters); generated and kept in the database when unset")
	fs.IntVar(&c.AuthRateLimit, "auth-rate-limit", 30, "login, register and refresh attempts allowed per client IP per minute; 0 turns rate limits off")
	fs.StringVar(&c.AdminEmail, "admin-email", "", "create this admin at start if the network has no admin yet")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "password of --admin-email")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "SMTP relay for the mail relais sends (email verification): smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; unset, mails are written to the log")
	fs.StringVar(&c.MailFrom, "mail-from", "Relais <relais@localhost>", "sender of the mail relais sends")
	fs.StringVar(&c.PublicURL, "public-url", "", "address where members reach Relais (its app and its API); verification mails link to PUBLIC_URL/verify-email?token=… and calendar feeds are PUBLIC_URL/v1/calendar/….ics")
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", "", "Stripe secret key (sk_…); without it online checkout answers 503 and on-site payments still work")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", "", "signing secret (whsec_…) of the Stripe webhook endpoint")
	fs.StringVar(&c.StripeAPIURL, "stripe-api-url", "", "Stripe API base URL, for stripe-mock in development")
	fs.DurationVar(&c.OfferTTL, "waitlist-offer-ttl", calendar.DefaultOfferTTL, "how long a freed slot is held for the first member in its waiting list")
	mqttFlags(fs, &c)
	if err := parseFlags(fs, args, getenv, stderr); err != nil {
		return err
	}
	if err := c.check(*proxies); err != nil {
		return err
	}
	if err := c.checkMQTT(); err != nil {
		return err
	}
	if c.Demo && !flagSet(fs, "database-url") && getenv("RELAIS_DATABASE_URL") == "" {
		// The demo seeds accounts with printed passwords: keep them out of
		// the real database.
		c.DatabaseURL = "sqlite:relais-demo.db"
	}
	log := newLogger(&c, stdout)

	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return err
	}
	defer d.Close()
	target, _ := db.Parse(c.DatabaseURL)
	if err := migrateAll(ctx, d); err != nil {
		return err
	}
	log.Info("database ready", slog.String("database", target.Display))

	secret := []byte(c.JWTSecret)
	if len(secret) == 0 {
		if secret, err = identity.LoadOrCreateJWTSecret(ctx, d, time.Now()); err != nil {
			return err
		}
	}
	accessSvc, err := identity.New(d, identity.Config{JWTSecret: secret, RateLimits: c.rateLimits(), Mailer: c.mailer(log), PublicURL: c.PublicURL})
	if err != nil {
		return err
	}
	idem := idempotency.New(d, nil)
	if c.AdminEmail != "" || c.AdminPassword != "" {
		created, err := accessSvc.EnsureFirstAdmin(ctx, c.AdminEmail, c.AdminPassword)
		if err != nil {
			return usagef("RELAIS_ADMIN_EMAIL/RELAIS_ADMIN_PASSWORD: %v", err)
		}
		if created {
			log.Info("created the first admin", slog.String("email", c.AdminEmail))
		}
	}
	admins, err := d.NewSelect().Table("users").Where("role = 'admin' AND deleted_at IS NULL").Count(ctx)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if admins == 0 {
		log.Warn("no admin yet: create one with `relais admin create --email you@example.org --password '…'` " +
			"(same --database-url), or start with RELAIS_ADMIN_EMAIL and RELAIS_ADMIN_PASSWORD")
	}

	calendarSvc := calendar.New(d, calendar.Config{OfferTTL: c.OfferTTL})
	billingSvc := billing.New(d, calendarSvc, billing.Config{})
	invoicer := invoicing.NewInvoicer(d, nil)
	billingSvc.UseInvoicer(invoicer)
	if c.StripeSecretKey != "" || c.StripeWebhookSecret != "" {
		billingSvc.UseStripe(billing.StripeConfig{SecretKey: c.StripeSecretKey, WebhookSecret: c.StripeWebhookSecret, APIURL: c.StripeAPIURL})
	}

	// Devices: the embedded MQTT broker, or an external one.
	devicesSvc := devices.New(d, devices.Config{Logger: log, CommandTimeout: c.DeviceTimeout, ZigbeeTimeout: c.ZigbeeTimeout})
	transport, deviceURL, closeMQTT, err := connectMQTT(ctx, &c, devicesSvc, log)
	if err != nil {
		return err
	}
	defer closeMQTT()
	defer devicesSvc.Close()
	gate := access.NewGate(d, calendarSvc, billingSvc, devicesSvc, access.GateConfig{Logger: log,
		RoomMargin: c.RoomDoorMargin, MachineGrace: c.MachineGrace, MachineWarning: c.MachineWarning, DurableAudit: c.DurableAudit})
	devicesSvc.OnPresence(gate.OnPresence)
	// Bookings pass billing's entitlement check; a cancelled reservation
	// also switches its machine off.
	calendarSvc.SetGuard(gate.Guard(billingSvc))
	if err := devicesSvc.Start(ctx, transport); err != nil {
		return fmt.Errorf("start devices: %w", err)
	}

	// Durable background work: waiting-list offers that lapse, machines
	// switched off at the end of their slot, and the hourly housekeeping
	// (expired rows, memberships moving through their lifecycle).
	workers := river.NewWorkers()
	if err := accessSvc.AddWorkers(workers); err != nil {
		return err
	}
	if err := calendarSvc.AddWorkers(workers); err != nil {
		return fmt.Errorf("register calendar jobs: %w", err)
	}
	// Credits expire and crowdfunding campaigns settle at their dates.
	if err := billingSvc.AddWorkers(workers); err != nil {
		return fmt.Errorf("register billing jobs: %w", err)
	}
	gate.AddWorkers(workers)
	jobClient, err := jobs.New(d, jobs.Config{
		Pruners: map[string]jobs.Pruner{
			"sessions and rate limits": accessSvc.PruneExpired,
			"idempotency keys":         idem.Prune,
			"membership lifecycle":     billingSvc.Lifecycle,
			"credits and campaigns":    billingSvc.Housekeeping,
		},
		Workers:  workers,
		Periodic: gate.PeriodicJobs(),
		Logger:   log,
	})
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	accessSvc.UseJobs(jobClient.River())
	calendarSvc.UseJobs(jobClient.River())
	billingSvc.UseJobs(jobClient.River())
	gate.UseJobs(jobClient.River())
	if err := jobClient.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := jobClient.Stop(stopCtx); err != nil {
			log.Warn("stop job queue", slog.Any("error", err))
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(devicesSvc.Collectors()...)
	reg.MustRegister(gate.Collectors()...)
	handler := api.New(api.Deps{
		Access:         accessSvc,
		Calendar:       calendarSvc,
		Billing:        billingSvc,
		Invoices:       invoicer,
		Devices:        devicesSvc,
		Gate:           gate,
		Idempotency:    idem,
		Logger:         log,
		Registry:       reg,
		TrustedProxies: c.TrustedProxies,
		PublicURL:      c.PublicURL,
		Ready:          func(ctx context.Context) error { return ready(ctx, d) },
	})

	ln, err := net.Listen("tcp", c.HTTPAddr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return usagef("cannot listen on %s: the port is taken; choose another with --http-addr or RELAIS_HTTP_ADDR", c.HTTPAddr)
		}
		return usagef("cannot listen on %s: %v", c.HTTPAddr, err)
	}
	var dm *demo
	if c.Demo {
		if dm, err = seedDemo(ctx, d, accessSvc, calendarSvc, billingSvc, devicesSvc, time.Now()); err != nil {
			return err
		}
		stopSims, err := simulateDemo(ctx, dm, deviceURL, log)
		if err != nil {
			return err
		}
		defer stopSims()
	}

	// Relays left on by a previous run (a crash, a restart) are switched off
	// unless a session still holds them, once the devices' retained
	// presence has had a moment to arrive.
	go func() {
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return
		}
		if err := gate.Reconcile(ctx); err != nil {
			log.Warn("reconcile relays", slog.Any("error", err))
		}
	}()

	srv := api.HTTPServer(c.HTTPAddr, handler)
	log.Info("relais listening", slog.String("url", "http://"+displayAddr(ln.Addr())))
	if dm != nil {
		printDemo(stdout, "http://"+displayAddr(ln.Addr()), dm, time.Now())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
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
