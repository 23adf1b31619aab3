package closings

import (
	"context"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// Periods are written as the law's calendar reads them in the entity's
// zone: a day "2026-12-05", a month "2026-12", a year "2026". Within a
// kind they sort as text in time order.

func kindOf(period string) (string, error) {
	for _, k := range Kinds {
		if _, err := time.Parse(layout(k), period); err == nil && len(period) == len(layout(k)) {
			return k, nil
		}
	}
	return "", errs.Invalid("period", "must be a day (2026-12-05), a month (2026-12) or a year (2026)")
}

func layout(kind string) string {
	switch kind {
	case KindDay:
		return "2006-01-02"
	case KindMonth:
		return "2006-01"
	default:
		return "2006"
	}
}

// bounds is [start, end) of a period in zone: from its first local
// midnight to the next period's.
func bounds(kind, period string, zone *time.Location) (time.Time, time.Time) {
	t, _ := time.ParseInLocation(layout(kind), period, zone) // checked by kindOf
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, zone)
	return start, next(kind, start)
}

func next(kind string, start time.Time) time.Time {
	switch kind {
	case KindDay:
		return start.AddDate(0, 0, 1)
	case KindMonth:
		return start.AddDate(0, 1, 0)
	default:
		return start.AddDate(1, 0, 0)
	}
}

// succ is the period after p.
func succ(kind, p string, zone *time.Location) string {
	_, end := bounds(kind, p, zone)
	return end.Format(layout(kind))
}

// periodOf is the period of kind holding instant t.
func periodOf(kind string, t time.Time, zone *time.Location) string {
	return t.In(zone).Format(layout(kind))
}

// lastOver is the latest period of kind that is over at now.
func lastOver(kind string, now time.Time, zone *time.Location) string {
	start, _ := bounds(kind, periodOf(kind, now, zone), zone)
	return periodOf(kind, start.Add(-time.Nanosecond), zone)
}

// Zone is the time zone the entity's periods are read in (its first
// site's), for the API's period parser.
func (e *Entity) Zone(ctx context.Context) (*time.Location, error) {
	return e.s.entityZone(ctx, e.siren)
}
