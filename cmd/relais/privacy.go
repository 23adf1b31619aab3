package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/privacy"
)

// retentionFlag is a retention period: a number of days ("90d") or a Go
// duration ("2160h"), at least min.
type retentionFlag struct {
	d   *time.Duration
	min time.Duration
}

func (f retentionFlag) String() string {
	if f.d == nil {
		return ""
	}
	if *f.d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(*f.d/(24*time.Hour)), 10) + "d"
	}
	return f.d.String()
}

func (f retentionFlag) Set(s string) error {
	d, err := parseRetention(s, f.min)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func parseRetention(s string, min time.Duration) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days (90d) nor a duration (2160h)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a number of days (90d) nor a duration (2160h)", s)
		}
	}
	if d < min {
		return 0, fmt.Errorf("%s is shorter than the %d days this must be kept at least", s, min/(24*time.Hour))
	}
	return d, nil
}

// privacyFlags adds the flags of personal data.
func privacyFlags(fs *flag.FlagSet, c *config) {
	c.AccessLogRetention = privacy.DefaultRetention
	fs.Var(retentionFlag{&c.AccessLogRetention, access.MinRetention}, "access-log-retention",
		"how long access events and sign-in records are kept before the daily purge: days (90d) or a Go duration (2160h); at least 28d")
	c.GuestRetention = privacy.DefaultGuestRetention
	fs.Var(retentionFlag{&c.GuestRetention, privacy.MinGuestRetention}, "guest-retention",
		"how long a guest of the services (registered without an account) is kept after they were last served, before the daily purge erases them: days (730d); at least 180d")
}
