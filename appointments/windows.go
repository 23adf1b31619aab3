package appointments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

const dateLayout = "2006-01-02"

// NewWindow is what a site's manager publishes for a partner.
type NewWindow struct {
	SiteID, ResourceID, AgentID string
	Weekday                     string // "": every day from From to Until
	From, Until                 string // dates; Until "" is without end (weekly only)
	Start, End                  string // HH:MM, the site's wall clock
	SlotMinutes                 int
}

func clock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// CreateWindow publishes a window at a site on one of its resources. Its
// hours must lie within the opening hours (the resource's own, else the
// site's) of every weekday it falls on: else 422 naming start or end.
func (s *Service) CreateWindow(ctx context.Context, p *identity.Principal, partnerID string, in NewWindow) (*Window, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	v.Check(id.Valid(in.SiteID), "site_id", "must be a site's id")
	v.Check(id.Valid(in.ResourceID), "resource_id", "must be a resource's id")
	v.Check(in.AgentID == "" || id.Valid(in.AgentID), "agent_id", "must be a user's id")
	v.Check(in.Weekday == "" || slices.Contains(calendar.Weekdays, in.Weekday), "weekday", "must be mon, tue, wed, thu, fri, sat or sun")
	from, errFrom := time.Parse(dateLayout, in.From)
	v.Check(errFrom == nil, "from", "must be a date such as 2026-03-03")
	var until time.Time
	if in.Until != "" {
		u, err := time.Parse(dateLayout, in.Until)
		v.Check(err == nil, "until", "must be a date such as 2026-03-31")
		v.Check(err != nil || errFrom != nil || !u.Before(from), "until", "must not be before from")
		until = u
	}
	v.Check(in.Weekday != "" || in.Until != "", "until", "is required without a weekday")
	v.Check(in.Weekday != "" || until.IsZero() || errFrom != nil || until.Sub(from) <= MaxWindowDays*24*time.Hour, "until", "a range of days is at most %d days", MaxWindowDays)
	start, ok1 := clock(in.Start)
	end, ok2 := clock(in.End)
	v.Check(ok1, "start", "must be a time such as 09:00")
	v.Check(ok2, "end", "must be a time such as 12:00")
	v.Check(!ok1 || !ok2 || end > start, "end", "must be after start")
	v.Check(in.SlotMinutes >= MinSlot && in.SlotMinutes <= MaxSlot, "slot_minutes", "must be from %d to %d", MinSlot, MaxSlot)
	v.Check(!ok1 || !ok2 || end-start >= in.SlotMinutes, "slot_minutes", "the window must hold at least one slot")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if pt.SiteID != nil && *pt.SiteID != in.SiteID {
		return nil, errs.Invalid("site_id", "this partner receives only at its own site")
	}
	site, err := s.cfg.Calendar.GetSite(ctx, in.SiteID)
	if err != nil {
		return nil, errs.Invalid("site_id", "no such site")
	}
	if err := mayPublishWindow(p, in.SiteID); err != nil {
		return nil, err
	}
	res, err := s.cfg.Calendar.GetResource(ctx, in.ResourceID)
	if err != nil || res.RetiredAt != nil || (res.SiteID != site.ID && res.Kind != calendar.KindKit) {
		return nil, errs.Invalid("resource_id", "no such resource at this site")
	}
	if err := mayPromiseKit(p, site, res); err != nil {
		return nil, err
	}
	if in.AgentID != "" {
		n, err := s.db.NewSelect().Model((*Agent)(nil)).Where("partner_id = ? AND user_id = ?", pt.ID, in.AgentID).Count(ctx)
		if err != nil {
			return nil, fmt.Errorf("find agent: %w", err)
		}
		if n == 0 {
			return nil, errs.Invalid("agent_id", "not an agent of this partner")
		}
	}
	hours := site.OpeningHours
	if res.OpeningHours != nil {
		hours = res.OpeningHours
	}
	for _, day := range windowWeekdays(in.Weekday, from, until) {
		if field := outsideHours(hours, day, start, end); field != "" {
			return nil, errs.Invalid(field, "the window is outside the opening hours on %s", calendar.Weekdays[(int(day)+6)%7])
		}
	}
	w := &Window{ID: id.New(), PartnerID: pt.ID, SiteID: site.ID, ResourceID: res.ID, ValidFrom: in.From, StartTime: in.Start, EndTime: in.End,
		SlotMinutes: in.SlotMinutes, Status: "open", CreatedAt: s.now()}
	if in.Weekday != "" {
		w.Weekday = &in.Weekday
	}
	if in.Until != "" {
		w.ValidUntil = &in.Until
	}
	if in.AgentID != "" {
		w.AgentID = &in.AgentID
	}
	if _, err := s.db.NewInsert().Model(w).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert window: %w", err)
	}
	return w, nil
}

// windowWeekdays are the weekdays a window falls on: its own, or those of
// its range of days (all seven from a week on).
func windowWeekdays(weekday string, from, until time.Time) []time.Weekday {
	if weekday != "" {
		i := slices.Index(calendar.Weekdays, weekday)
		return []time.Weekday{time.Weekday((i + 1) % 7)}
	}
	var out []time.Weekday
	for d := from; !d.After(until) && len(out) < 7; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Weekday())
	}
	return out
}

// outsideHours names the field at fault when [start, end) minutes of day
// do not lie within one opening span: "start" if start is outside every
// span, "end" if the span it starts in ends too soon; "" when within.
func outsideHours(h calendar.OpeningHours, day time.Weekday, start, end int) string {
	spans, _ := h.Spans(day)
	for _, sp := range spans {
		if sp.From <= start && start < sp.To {
			if end <= sp.To {
				return ""
			}
			return "end"
		}
	}
	return "start"
}

func (s *Service) loadWindow(ctx context.Context, idb bun.IDB, partnerID, windowID string) (*Window, error) {
	if !id.Valid(windowID) {
		return nil, errWindowNotFound
	}
	w := new(Window)
	q := idb.NewSelect().Model(w).Where("id = ?", windowID)
	if partnerID != "" {
		q = q.Where("partner_id = ?", partnerID)
	}
	if err := q.Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errWindowNotFound
		}
		return nil, fmt.Errorf("read window: %w", err)
	}
	return w, nil
}

// Windows lists a partner's windows (open ones; closed too for those who
// publish them).
func (s *Service) Windows(ctx context.Context, p *identity.Principal, partnerID string) ([]Window, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	var ws []Window
	if err := s.db.NewSelect().Model(&ws).Where("partner_id = ?", pt.ID).Order("valid_from", "start_time", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list windows: %w", err)
	}
	out := ws[:0]
	for _, w := range ws {
		if w.Status == "open" || mayPublishWindow(p, w.SiteID) == nil {
			out = append(out, w)
		}
	}
	return out, nil
}

// CloseWindow closes a window: its free slots are no longer offered; the
// appointments already booked in it stay (cancel them one by one, with
// the residents).
func (s *Service) CloseWindow(ctx context.Context, p *identity.Principal, partnerID, windowID string) (*Window, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	w, err := s.loadWindow(ctx, s.db, pt.ID, windowID)
	if err != nil {
		return nil, err
	}
	if err := s.mayCloseWindow(ctx, p, pt, w.SiteID); err != nil {
		return nil, err
	}
	if w.Status == "closed" {
		return w, nil
	}
	now := s.now()
	w.Status, w.ClosedAt = "closed", &now
	if _, err := s.db.NewUpdate().Model(w).Column("status", "closed_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("close window: %w", err)
	}
	return w, nil
}

// slotsOn cuts the window in slots on the local date d (its year, month
// and day, read in loc), if the window falls on it. Wall-clock times are
// the site's, so that on DST days 9:00 stays 9:00.
func (w *Window) slotsOn(loc *time.Location, d time.Time) []Slot {
	date := d.Format(dateLayout)
	if date < w.ValidFrom || (w.ValidUntil != nil && date > *w.ValidUntil) {
		return nil
	}
	if w.Weekday != nil && *w.Weekday != calendar.Weekdays[(int(d.Weekday())+6)%7] {
		return nil
	}
	start, _ := clock(w.StartTime)
	end, _ := clock(w.EndTime)
	y, m, day := d.Date()
	var out []Slot
	for t := start; t+w.SlotMinutes <= end; t += w.SlotMinutes {
		out = append(out, Slot{WindowID: w.ID, SiteID: w.SiteID, ResourceID: w.ResourceID, AgentID: w.AgentID,
			Start: time.Date(y, m, day, t/60, t%60, 0, 0, loc).UTC(), End: time.Date(y, m, day, (t+w.SlotMinutes)/60, (t+w.SlotMinutes)%60, 0, 0, loc).UTC()})
	}
	return out
}

// Slots are the slots the partner's open windows offer in [from, to) (at
// most 62 days), at siteID or at every site: not started, where the
// resource is free (the calendar's own answer: closures, reservations,
// ateliers, buffers) and not booked. Anyone signed in may ask (a resident
// chooses a time); slots name no one.
func (s *Service) Slots(ctx context.Context, p *identity.Principal, partnerID, siteID string, from, to time.Time) ([]Slot, error) {
	pt, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return nil, err
	}
	var v errs.Validator
	v.Check(!from.IsZero(), "from", "is required")
	v.Check(!to.IsZero(), "to", "is required")
	v.Check(to.After(from), "to", "must be after from")
	v.Check(to.Sub(from) <= MaxSlotsRange, "to", "the window is at most 62 days")
	v.Check(siteID == "" || id.Valid(siteID), "site_id", "must be a site's id")
	if err := v.Err(); err != nil {
		return nil, err
	}
	from = maxTime(from, s.now())
	var ws []Window
	q := s.db.NewSelect().Model(&ws).Where("partner_id = ? AND status = 'open'", pt.ID).Order("id")
	if siteID != "" {
		q = q.Where("site_id = ?", siteID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list windows: %w", err)
	}
	// What is booked already, by window and start.
	type key struct {
		window string
		start  int64
	}
	booked := map[key]bool{}
	var live []Appointment
	if err := s.db.NewSelect().Model(&live).Column("window_id", "starts_at").
		Where("partner_id = ? AND status = ? AND starts_at >= ? AND starts_at < ?", pt.ID, StatusConfirmed, from.Add(-24*time.Hour), to).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read appointments: %w", err)
	}
	for _, a := range live {
		booked[key{a.WindowID, a.StartsAt.UnixNano()}] = true
	}
	// The candidates of every window, grouped by the resource they take,
	// so that the calendar is asked once per resource (the windows of one
	// booth on each weekday are one question, not five).
	type place struct{ site, resource string }
	sites := map[string]*calendar.Site{}
	cands := map[place][]Slot{}
	var order []place
	for i := range ws {
		w := &ws[i]
		site, ok := sites[w.SiteID]
		if !ok {
			if site, err = s.cfg.Calendar.GetSite(ctx, w.SiteID); err != nil {
				return nil, err
			}
			sites[w.SiteID] = site
		}
		loc := site.Location()
		k := place{w.SiteID, w.ResourceID}
		first := from.In(loc)
		first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
		for d := first; d.Before(to); d = d.AddDate(0, 0, 1) {
			for _, sl := range w.slotsOn(loc, d) {
				if !sl.Start.Before(from) && !sl.End.After(to) && !booked[key{w.ID, sl.Start.UnixNano()}] {
					if _, seen := cands[k]; !seen {
						order = append(order, k)
					}
					cands[k] = append(cands[k], sl)
				}
			}
		}
	}
	out := []Slot{}
	for _, k := range order {
		cs := cands[k]
		slices.SortStableFunc(cs, func(a, b Slot) int { return a.Start.Compare(b.Start) })
		last := cs[0].End
		for _, sl := range cs {
			last = maxTime(last, sl.End)
		}
		free, err := s.cfg.Calendar.FreeForAppointments(ctx, k.site, k.resource, cs[0].Start, last)
		if err != nil {
			return nil, err
		}
		// Free intervals are disjoint and in order, and a slot lies in one
		// of them or in none: one sweep over slots by start.
		j := 0
		for _, sl := range cs {
			for j < len(free) && !free[j].End.After(sl.Start) {
				j++
			}
			if j < len(free) && !free[j].Start.After(sl.Start) && !free[j].End.Before(sl.End) {
				out = append(out, sl)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Slot) int { return a.Start.Compare(b.Start) })
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
