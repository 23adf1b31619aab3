package dashboard

import (
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// period reads from and to, local dates (2026-12-01) or months (2026-12)
// of the site's zone, both included, into [start, end) between local
// midnights. Empty, each is today (a month given as from runs to its end
// when to is empty). At most MaxDays days.
func period(from, to string, now time.Time, loc *time.Location) (start, end time.Time, err error) {
	l := now.In(loc)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	start, fromEnd, err := localDay("from", from, today, loc)
	if err != nil {
		return start, end, err
	}
	if to == "" {
		end = fromEnd
		if from == "" {
			end = today.AddDate(0, 0, 1)
		}
	} else if _, end, err = localDay("to", to, today, loc); err != nil {
		return start, end, err
	}
	if !end.After(start) {
		return start, end, errs.Invalid("to", "must not be before from")
	}
	if end.After(start.AddDate(0, 0, MaxDays)) {
		return start, end, errs.Invalid("to", "the period is at most %d days", MaxDays)
	}
	return start, end, nil
}

// localDay reads a local date or month: its first midnight and the
// midnight after its last day.
func localDay(field, v string, today time.Time, loc *time.Location) (first, after time.Time, err error) {
	if v == "" {
		return today, today.AddDate(0, 0, 1), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, t.AddDate(0, 0, 1), nil
	}
	if t, err := time.ParseInLocation("2006-01", v, loc); err == nil {
		return t, t.AddDate(0, 1, 0), nil
	}
	return first, after, errs.Invalid(field, "must be a local date such as 2026-12-01 or a month such as 2026-12")
}
