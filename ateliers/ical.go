package ateliers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/id"
)

// The public agenda as an iCalendar feed, for a town's website or a
// resident's phone: each session of the site's public and members'
// ateliers from a month ago to a year ahead, cancelled ones marked so
// (a calendar app then removes them), and never a participant.

// AgendaFeed is the site's public ateliers as iCalendar.
func (s *Service) AgendaFeed(ctx context.Context, siteID string) (*calendar.Feed, error) {
	if !id.Valid(siteID) {
		return nil, errSiteNotFound
	}
	site, err := s.cfg.Calendar.GetSite(ctx, siteID)
	if err != nil {
		return nil, errSiteNotFound
	}
	now := s.now()
	as, err := s.list(ctx, nil, siteID, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0))
	if err != nil {
		return nil, err
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Relais//Ateliers//FR")
	cal.Props.SetText(ical.PropMethod, "PUBLISH")
	cal.Props.SetText("X-WR-CALNAME", "Ateliers — "+site.Name)
	cal.Props.SetText("X-WR-TIMEZONE", site.Timezone)
	location := calendar.SiteLocation(site)
	var last time.Time
	for _, a := range as {
		for _, ss := range a.Sessions {
			changed := a.UpdatedAt
			if ss.CancelledAt != nil && ss.CancelledAt.After(changed) {
				changed = *ss.CancelledAt
			}
			if changed.After(last) {
				last = changed
			}
			e := ical.NewEvent()
			e.Props.SetText(ical.PropUID, ss.ID+"@relais-atelier")
			e.Props.SetDateTime(ical.PropDateTimeStamp, changed.UTC())
			e.Props.SetDateTime(ical.PropDateTimeStart, ss.StartsAt.UTC())
			e.Props.SetDateTime(ical.PropDateTimeEnd, ss.EndsAt.UTC())
			seq := ical.NewProp(ical.PropSequence)
			seq.Value = strconv.FormatInt(calendar.EventSequence(changed), 10)
			e.Props.Set(seq)
			e.Props.SetText(ical.PropSummary, a.Title)
			if a.Description != "" {
				// go-ical refuses a CR; lines end in LF, which it escapes.
				e.Props.SetText(ical.PropDescription, strings.ReplaceAll(a.Description, "\r", ""))
			}
			e.Props.SetText(ical.PropLocation, location)
			status := ical.EventConfirmed
			if ss.Status == "cancelled" {
				status = ical.EventCancelled
			}
			e.Props.SetText(ical.PropStatus, string(status))
			cal.Children = append(cal.Children, e.Component)
		}
	}
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode the ateliers' feed: %w", err)
	}
	body := calendar.FoldLines(buf.Bytes())
	sum := sha256.Sum256(body)
	return &calendar.Feed{Body: body, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, LastModified: last.UTC()}, nil
}
