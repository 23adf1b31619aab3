package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/i18n"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// usageError is a mistake in the command line or environment: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// config is everything `relais serve` and the other commands read from flags
// and the environment. Each flag --some-name can be set with RELAIS_SOME_NAME;
// a flag on the command line wins over the environment.
type config struct {
	HTTPAddr       string
	DatabaseURL    string
	JWTSecret      string
	LogFormat      string
	LogLevel       string
	TrustedProxies []netip.Prefix
	AuthRateLimit  int
	AdminEmail     string
	AdminPassword  string
	OfferTTL       time.Duration
	// DeviceOfflineAlert: how long a device is offline before its site's
	// managers are mailed.
	DeviceOfflineAlert time.Duration
	// AccessLogRetention: how long access events and sign-in records are kept.
	AccessLogRetention time.Duration
	// GuestRetention: how long a guest no longer served is kept.
	GuestRetention time.Duration

	SMTPURL   string
	MailFrom  string
	PublicURL string
	// BrandDir holds a tiers lieu's brand.css (colours) and logo.png.
	BrandDir string
	// DefaultLanguage is the API's language when a request names neither
	// French nor English and no member's preference applies.
	DefaultLanguage string

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIURL        string

	// Devices and physical access.
	MQTTListen     string
	MQTTTLSListen  string
	MQTTTLSCert    string
	MQTTTLSKey     string
	MQTTURL        string
	MQTTUsername   string
	MQTTPassword   string
	MQTTCAFile     string
	MQTTCertFile   string
	MQTTKeyFile    string
	MQTTLimits     devices.BrokerLimits
	DeviceTimeout  time.Duration
	ZigbeeTimeout  time.Duration
	RoomDoorMargin time.Duration
	MachineGrace   time.Duration
	MachineWarning time.Duration
	Demo           bool
	DurableAudit   bool
	// WebhookAllowPrivate lets webhook endpoints use http:// and reach
	// private, loopback and link-local addresses.
	WebhookAllowPrivate bool
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return "RELAIS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newFlagSet declares the flags shared by every command.
func newFlagSet(name string, c *config) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("relais "+name, flag.ContinueOnError)
	// A mistake gets one line (printed by main), not the whole flag list.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&c.DatabaseURL, "database-url", "sqlite:relais.db", "database: sqlite:PATH, file:PATH or postgres://user:pass@host/db")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	proxies := fs.String("trusted-proxies", "", "comma-separated CIDRs of load balancers whose X-Forwarded-For is trusted")
	return fs, proxies
}

// parseFlags parses args, then fills every flag not given on the command line
// from its environment variable. -h prints the flags to help.
func parseFlags(fs *flag.FlagSet, args []string, getenv func(string) string, help io.Writer) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(help, "Usage of %s (each flag may also be set as RELAIS_FLAG_NAME):\n", fs.Name())
			fs.SetOutput(help)
			fs.PrintDefaults()
			return err
		}
		return usagef("%v", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v := getenv(envName(f.Name)); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = usagef("%s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

func (c *config) check(proxies string) error {
	switch c.LogFormat {
	case "text", "json":
	default:
		return usagef("--log-format must be text or json, not %q", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return usagef("--log-level must be debug, info, warn or error, not %q", c.LogLevel)
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		return usagef("--jwt-secret must be at least 32 characters (or leave it unset to generate one in the database)")
	}
	if c.SMTPURL != "" {
		if _, err := mail.NewSMTP(c.SMTPURL, c.MailFrom); err != nil {
			return usagef("--smtp-url/--mail-from: %v", err)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return usagef("--public-url must be an http(s) URL, not %q", c.PublicURL)
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	// Empty for the commands that have no HTTP API (migrate, admin).
	if _, ok := i18n.Parse(c.DefaultLanguage); !ok && c.DefaultLanguage != "" {
		return usagef("--default-language must be fr or en, not %q", c.DefaultLanguage)
	}
	if c.OfferTTL < 0 {
		return usagef("--waitlist-offer-ttl must not be negative")
	}
	if c.AuthRateLimit < 0 {
		return usagef("--auth-rate-limit must be 0 (off) or more")
	}
	for _, p := range strings.Split(proxies, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, err2 := netip.ParseAddr(p)
			if err2 != nil {
				return usagef("--trusted-proxies: %q is not a CIDR or address", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix)
	}
	return nil
}

func (c *config) rateLimits() identity.RateLimits {
	if c.AuthRateLimit == 0 {
		return identity.RateLimits{}
	}
	l := identity.DefaultRateLimits
	l.PerIP = identity.Limit{Max: c.AuthRateLimit, Window: time.Minute}
	return l
}

// flagSet reports whether name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// mailer is the SMTP relay of --smtp-url, or the log when none is set.
func (c *config) mailer(log *slog.Logger) mail.Sender {
	if c.SMTPURL == "" {
		return mail.Log{Logger: log}
	}
	m, _ := mail.NewSMTP(c.SMTPURL, c.MailFrom) // checked by check
	return m
}
