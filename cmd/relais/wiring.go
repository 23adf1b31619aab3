package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/relais-tierslieux/relais/campaigns"
	"github.com/relais-tierslieux/relais/closings"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/idempotency"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/ledger"
	"github.com/relais-tierslieux/relais/notify"
	"github.com/relais-tierslieux/relais/privacy"
	"github.com/relais-tierslieux/relais/webhooks"
)

// serveConfig reads serve's flags and environment into a checked config.
func serveConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	var c config
	fs, proxies := newFlagSet("serve", &c)
	fs.StringVar(&c.HTTPAddr, "http-addr", ":8080", "address the HTTP API listens on")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "secret that signs access tokens (at least 32 characters); generated and kept in the database when unset")
	fs.IntVar(&c.AuthRateLimit, "auth-rate-limit", 30, "login, register and refresh attempts allowed per client IP per minute; 0 turns rate limits off")
	fs.StringVar(&c.AdminEmail, "admin-email", "", "create this admin at start if the network has no admin yet")
	fs.StringVar(&c.AdminPassword, "admin-password", "", "password of --admin-email")
	fs.StringVar(&c.SMTPURL, "smtp-url", "", "SMTP relay for the mail relais sends (email verification, bookings and reminders): smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; unset, mails are written to the log")
	fs.StringVar(&c.MailFrom, "mail-from", "Relais <relais@localhost>", "sender of the mail relais sends, and the organizer of the booking invitations it mails")
	fs.StringVar(&c.PublicURL, "public-url", "", "address where members reach Relais (its app and its API); verification mails link to PUBLIC_URL/verify-email?token=…, waiting-list offers to PUBLIC_URL/waitlist/{id}, unsubscribe links are PUBLIC_URL/v1/unsubscribe?token=… and calendar feeds PUBLIC_URL/v1/calendar/….ics")
	fs.StringVar(&c.BrandDir, "brand-dir", "", "a folder with the tiers lieu's brand.css (its colours: lines \"--brand: #rrggbb;\" of static/css/theme.css's names) and logo.png (optional, the header's mark), checked at start")
	fs.StringVar(&c.DefaultLanguage, "default-language", "fr", "language of the API's error messages (fr or en) when a request's Accept-Language names neither and it comes from no member")
	fs.StringVar(&c.StripeSecretKey, "stripe-secret-key", "", "Stripe secret key (sk_…); without it online checkout answers 503 and on-site payments still work")
	fs.StringVar(&c.StripeWebhookSecret, "stripe-webhook-secret", "", "signing secret (whsec_…) of the Stripe webhook endpoint")
	fs.StringVar(&c.StripeAPIURL, "stripe-api-url", "", "Stripe API base URL, for stripe-mock in development")
	fs.DurationVar(&c.OfferTTL, "waitlist-offer-ttl", calendar.DefaultOfferTTL, "how long a freed slot is held for the first member in its waiting list")
	fs.DurationVar(&c.DeviceOfflineAlert, "device-offline-alert", notify.DefaultDeviceOfflineAlert, "how long a device stays offline before its site's managers are mailed")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", false, "let webhook endpoints use http:// and private, loopback or link-local addresses (a LAN's own tools, tests); by default they must be https:// on public addresses")
	mqttFlags(fs, &c)
	privacyFlags(fs, &c)
	if err := parseFlags(fs, args, getenv, stderr); err != nil {
		return nil, err
	}
	if err := c.check(*proxies); err != nil {
		return nil, err
	}
	if err := c.checkMQTT(); err != nil {
		return nil, err
	}
	if c.DeviceOfflineAlert <= 0 {
		return nil, usagef("--device-offline-alert must be positive")
	}
	if c.Demo && !flagSet(fs, "database-url") && getenv("RELAIS_DATABASE_URL") == "" {
		// The demo seeds accounts with printed passwords: keep them out of
		// the real database.
		c.DatabaseURL = "sqlite:relais-demo.db"
	}
	return &c, nil
}

// openDatabase opens the database and brings its schemas up to date.
func openDatabase(ctx context.Context, c *config, log *slog.Logger) (*bun.DB, error) {
	d, err := db.Open(ctx, c.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := migrateAll(ctx, d); err != nil {
		d.Close()
		return nil, err
	}
	target, _ := db.Parse(c.DatabaseURL)
	log.Info("database ready", slog.String("database", target.Display))
	return d, nil
}

// newIdentity builds the identity service, with the JWT secret of the
// configuration or, when unset, the one kept in the database.
func newIdentity(ctx context.Context, d *bun.DB, c *config, queue *jobs.Queue, log *slog.Logger) (*identity.Service, error) {
	secret := []byte(c.JWTSecret)
	if len(secret) == 0 {
		var err error
		if secret, err = identity.LoadOrCreateJWTSecret(ctx, d, time.Now()); err != nil {
			return nil, err
		}
	}
	return identity.New(d, identity.Config{JWTSecret: secret, RateLimits: c.rateLimits(), Mailer: c.mailer(log),
		PublicURL: c.PublicURL, Jobs: queue})
}

// bootstrapAdmin creates the admin of --admin-email when the network has
// none yet, and warns when it still has none.
func bootstrapAdmin(ctx context.Context, svc *identity.Service, c *config, log *slog.Logger) error {
	if c.AdminEmail != "" || c.AdminPassword != "" {
		created, err := svc.EnsureFirstAdmin(ctx, c.AdminEmail, c.AdminPassword)
		if err != nil {
			return usagef("RELAIS_ADMIN_EMAIL/RELAIS_ADMIN_PASSWORD: %v", err)
		}
		if created {
			log.Info("created the first admin", slog.String("email", c.AdminEmail))
		}
	}
	admins, err := svc.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if admins == 0 {
		log.Warn("no admin yet: create one with `relais admin create --email you@example.org --password '…'` " +
			"(same --database-url), or start with RELAIS_ADMIN_EMAIL and RELAIS_ADMIN_PASSWORD")
	}
	return nil
}

// jobServices are the services whose workers and housekeeping the job
// client runs.
type jobServices struct {
	identity  *identity.Service
	calendar  *calendar.Service
	ledger    *ledger.Service
	billing   *billing.Service
	campaigns *campaigns.Service
	gate      *access.Gate
	idem      *idempotency.Store
	webhooks  *webhooks.Service
	notify    *notify.Service
	privacy   *privacy.Service
	closings  *closings.Service
}

// startJobs starts the client that works durable jobs: waiting-list offers
// that lapse, machines switched off at the end of their slot, credits that
// expire, campaigns that settle, booking mails and reminders, webhook
// deliveries, and the hourly housekeeping (expired rows, memberships
// moving through their lifecycle). The returned func stops it.
func startJobs(ctx context.Context, d *bun.DB, log *slog.Logger, s jobServices) (func(), error) {
	workers := river.NewWorkers()
	if err := s.identity.AddWorkers(workers); err != nil {
		return nil, err
	}
	if err := s.calendar.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register calendar jobs: %w", err)
	}
	if err := s.ledger.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register ledger jobs: %w", err)
	}
	if err := s.campaigns.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register campaign jobs: %w", err)
	}
	s.gate.AddWorkers(workers)
	if err := s.webhooks.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register webhook jobs: %w", err)
	}
	if err := s.notify.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register notification mail jobs: %w", err)
	}
	if err := s.privacy.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register privacy jobs: %w", err)
	}
	if err := s.closings.AddWorkers(workers); err != nil {
		return nil, fmt.Errorf("register closing jobs: %w", err)
	}
	jobClient, err := jobs.New(d, jobs.Config{
		Pruners: map[string]jobs.Pruner{
			"sessions and rate limits": s.identity.PruneExpired,
			"idempotency keys":         s.idem.Prune,
			"membership lifecycle":     s.billing.Lifecycle,
			"expired credit":           s.ledger.ExpireDue,
			"campaigns":                s.campaigns.Housekeeping,
			"webhook deliveries":       s.webhooks.Prune,
			"data exports":             s.privacy.PruneExports,
		},
		Workers: workers,
		Periodic: append(append(append(s.gate.PeriodicJobs(), s.notify.PeriodicJobs()...), s.privacy.PeriodicJobs()...),
			s.closings.PeriodicJobs()...),
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	if err := jobClient.Start(ctx); err != nil {
		return nil, fmt.Errorf("start job queue: %w", err)
	}
	return func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := jobClient.Stop(stopCtx); err != nil {
			log.Warn("stop job queue", slog.Any("error", err))
		}
	}, nil
}

// newRegistry gathers the metrics /metrics exposes.
func newRegistry(dev *devices.Service, gate *access.Gate) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(dev.Collectors()...)
	reg.MustRegister(gate.Collectors()...)
	return reg
}

// listen opens the HTTP port, saying plainly when it is taken.
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, usagef("cannot listen on %s: the port is taken; choose another with --http-addr or RELAIS_HTTP_ADDR", addr)
		}
		return nil, usagef("cannot listen on %s: %v", addr, err)
	}
	return ln, nil
}

// startDemo, when on, seeds the demo network and starts its simulated
// devices; the returned func stops them.
func startDemo(ctx context.Context, on bool, d *bun.DB, acc *identity.Service, cal *calendar.Service, bill *billing.Service,
	dev *devices.Service, deviceURL string, log *slog.Logger) (*demo, func(), error) {
	if !on {
		return nil, func() {}, nil
	}
	dm, err := seedDemo(ctx, d, acc, cal, bill, dev, time.Now())
	if err != nil {
		return nil, nil, err
	}
	stopSims, err := simulateDemo(ctx, dm, deviceURL, log)
	if err != nil {
		return nil, nil, err
	}
	return dm, stopSims, nil
}

// reconcileSoon switches off relays left on by a previous run (a crash, a
// restart) unless a session still holds them, once the devices' retained
// presence has had a moment to arrive.
func reconcileSoon(ctx context.Context, gate *access.Gate, log *slog.Logger) {
	select {
	case <-time.After(2 * time.Second):
	case <-ctx.Done():
		return
	}
	if err := gate.Reconcile(ctx); err != nil {
		log.Warn("reconcile relays", slog.Any("error", err))
	}
}

// runHTTP serves handler on ln until ctx ends, then shuts the server down
// gracefully.
func runHTTP(ctx context.Context, ln net.Listener, handler http.Handler, dm *demo, stdout io.Writer, log *slog.Logger) error {
	srv := api.HTTPServer(ln.Addr().String(), handler)
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
