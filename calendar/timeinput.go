package calendar

import (
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// localLayouts are the wall-clock forms accepted without an offset; they are
// read in the site's time zone.
var localLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04"}

// ResolveTime reads a time given by a client for a site in loc. Two forms:
//
//   - RFC 3339 with an offset or Z: an instant. When the offset is not the
//     site's offset at that instant and the wall-clock reading does not exist
//     in the site's zone (02:30 on the spring-forward Sunday in Paris), it is
//     refused: the client meant a local time that never happens.
//   - A local wall-clock time without offset ("2026-03-29T09:00"), read in
//     the site's zone. A time skipped by DST is refused; a time that happens
//     twice (02:30 on the fall-back Sunday) is refused as ambiguous, asking
//     for an offset.
func ResolveTime(field, raw string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		_, offset := t.Zone()
		_, siteOffset := t.In(loc).Zone()
		if offset != 0 && offset != siteOffset && !wallExists(t, loc) {
			return time.Time{}, errs.Rule(field, "nonexistent_local_time", "%s: %s does not exist in %s (the clocks skip it)", field, t.Format("2006-01-02 15:04"), loc)
		}
		return t.UTC(), nil
	}
	for _, layout := range localLayouts {
		wall, err := time.Parse(layout, raw)
		if err != nil {
			continue
		}
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		if !sameWall(t, wall) {
			return time.Time{}, errs.Rule(field, "nonexistent_local_time", "%s: %s does not exist in %s (the clocks skip it)", field, wall.Format("2006-01-02 15:04"), loc)
		}
		// The same wall time one hour later or earlier in UTC also reading as
		// this wall time means it happens twice.
		for _, d := range []time.Duration{-time.Hour, time.Hour} {
			if u := t.Add(d); sameWall(u.In(loc), wall) {
				return time.Time{}, errs.Rule(field, "ambiguous_local_time", "%s: %s happens twice in %s; give an offset (+02:00 or +01:00)", field, wall.Format("2006-01-02 15:04"), loc)
			}
		}
		return t.UTC(), nil
	}
	return time.Time{}, errs.Invalid(field, "must be an RFC 3339 time (2026-03-10T09:00:00+01:00) or a local time of the site (2026-03-10T09:00)")
}

func sameWall(t, wall time.Time) bool {
	return t.Year() == wall.Year() && t.Month() == wall.Month() && t.Day() == wall.Day() &&
		t.Hour() == wall.Hour() && t.Minute() == wall.Minute() && t.Second() == wall.Second()
}

// wallExists reports whether the wall-clock reading of t (in its own offset)
// happens in loc.
func wallExists(t time.Time, loc *time.Location) bool {
	l := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
	return sameWall(l, t)
}
