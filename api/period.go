package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
)

// The from/to of every listing and export is typed by people (an accountant
// wants December, not two RFC 3339 instants with an encoded "+"). One value
// is one of:
//
//   - a year "2026", a month "2026-12" or a local date "2026-12-01", read in
//     the site's time zone: as from, the first instant of that year, month or
//     day; as to, the first instant after it, so that to=2026-12-31 includes
//     the 31st (to is exclusive everywhere);
//   - a local wall-clock time "2026-12-01T09:00", read in the site's zone
//     (see calendar.ResolveTime);
//   - an RFC 3339 instant. A "+" typed unencoded in a query string arrives
//     as a space: when the value is not a valid instant as it is, spaces are
//     read as "+".
//
// period=2026-12 (or a year or a date) gives both bounds at once.

// defaultZone reads the dates of routes bound to no site (a member's own
// invoices or statements): the zone of the French sites Relais serves.
var defaultZone = mustZone("Europe/Paris")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// zoneFunc gives the zone dates are read in; called only when a value is a
// date, a month or a local time, so that instants cost no look-up.
type zoneFunc func() *time.Location

// calendarLayouts are the forms that name a span of local time, with the
// span's length.
var calendarLayouts = []struct {
	layout     string
	years, mon int
	days       int
}{
	{"2006-01-02", 0, 0, 1},
	{"2006-01", 0, 1, 0},
	{"2006", 1, 0, 0},
}

// localSpan reads raw as a year, month or date in loc: the first instant of
// that span and the first instant after it.
func localSpan(raw string, zone zoneFunc) (start, end time.Time, ok bool) {
	for _, l := range calendarLayouts {
		d, err := time.Parse(l.layout, raw)
		if err != nil || len(raw) != len(l.layout) {
			continue
		}
		loc := zone()
		start = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		end = time.Date(d.Year()+l.years, d.Month()+time.Month(l.mon), d.Day()+l.days, 0, 0, 0, 0, loc)
		return start.UTC(), end.UTC(), true
	}
	return time.Time{}, time.Time{}, false
}

// parseBound reads one bound named name; isTo makes a date, month or year
// mean the end of it.
func parseBound(name, raw string, zone zoneFunc, isTo bool) (time.Time, error) {
	if start, end, ok := localSpan(raw, zone); ok {
		if isTo {
			return end, nil
		}
		return start, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), nil
	}
	if plus := strings.ReplaceAll(raw, " ", "+"); plus != raw {
		if t, err := time.Parse(time.RFC3339, plus); err == nil {
			return t.UTC(), nil
		}
	}
	if strings.Contains(raw, "T") && !strings.ContainsAny(raw, "Zz+ ") && strings.Count(raw, "-") == 2 {
		if t, err := calendar.ResolveTime(name, raw, zone()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, badRequestf(http.StatusBadRequest, "invalid_parameter", name,
		"%s must be a date (2026-12-01), a month (2026-12), a year, a local time (2026-12-01T09:00) or an RFC 3339 time (2026-12-01T09:00:00+01:00)", name)
}

// parseWindow reads period, from and to (each optional; zero when absent).
func parseWindow(period, from, to string, zone zoneFunc) (time.Time, time.Time, error) {
	if period != "" {
		if from != "" || to != "" {
			return time.Time{}, time.Time{}, badRequest(http.StatusBadRequest, "invalid_parameter", "period", "give either period or from and to, not both")
		}
		start, end, ok := localSpan(period, zone)
		if !ok {
			return start, end, badRequest(http.StatusBadRequest, "invalid_parameter", "period", "period must be a month (2026-12), a year (2026) or a date (2026-12-01)")
		}
		return start, end, nil
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = parseBound("from", from, zone, false); err != nil {
			return f, t, err
		}
	}
	if to != "" {
		t, err = parseBound("to", to, zone, true)
	}
	return f, t, err
}

// window reads the request's period, from and to, dates in the zone of the
// site the route is about (see siteZone).
func (s *Server) window(r *http.Request) (from, to time.Time, err error) {
	q := r.URL.Query()
	return parseWindow(q.Get("period"), q.Get("from"), q.Get("to"), s.siteZone(r))
}

// siteZone finds the site a request is about (the site_id of its path or
// query, or its resource's site), once, when a date needs it. A site that
// is not found falls back to defaultZone: the domain answers 404 anyway.
func (s *Server) siteZone(r *http.Request) zoneFunc {
	var loc *time.Location
	return func() *time.Location {
		if loc == nil {
			loc = s.lookupZone(r.Context(), r)
		}
		return loc
	}
}

func (s *Server) lookupZone(ctx context.Context, r *http.Request) *time.Location {
	siteID := r.PathValue("site_id")
	if siteID == "" {
		siteID = r.URL.Query().Get("site_id")
	}
	if siteID == "" && r.PathValue("resource_id") != "" && s.Calendar != nil {
		if res, err := s.Calendar.GetResource(ctx, r.PathValue("resource_id")); err == nil {
			siteID = res.SiteID
		}
	}
	if siteID == "" || s.Calendar == nil {
		return defaultZone
	}
	site, err := s.Calendar.GetSite(ctx, siteID)
	if err != nil {
		return defaultZone
	}
	return site.Location()
}
