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

// retentionFlag is --access-log-retention: a number of days ("90d") or a
// Go duration ("2160h"), at least access.MinRetention.
type retentionFlag struct{ d *time.Duration }

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
	d, err := parseRetention(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

func parseRetention(s string) (time.Duration, error) {
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
	if d < access.MinRetention {
		return 0, fmt.Errorf("%s is shorter than the 28 days access events must be kept at least", s)
	}
	return d, nil
}

// privacyFlags adds the flags of personal data.
func privacyFlags(fs *flag.FlagSet, c *config) {
	c.AccessLogRetention = privacy.DefaultRetention
	fs.Var(retentionFlag{&c.AccessLogRetention}, "access-log-retention",
		"how long access events and sign-in records are kept before the daily purge: days (90d) or a Go duration (2160h); at least 28d")
}
