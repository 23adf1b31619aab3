package notify

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"strconv"
	"time"

	"github.com/emersion/go-ical"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// templateFiles are the messages notify sends, one file per message and
// language (NAME.LANG.txt, its first line the subject, and NAME.LANG.html).
//
//go:embed templates/*.txt templates/*.html
var templateFiles embed.FS

// templates is parsed once (see mail.MustParseTemplates).
var templates = mail.MustParseTemplates(templateFiles, "templates")

// mailData is what the templates show. Dates and times are in the site's
// zone, written as its language writes them.
type mailData struct {
	Name, Resource, Site, Location string
	Date, Start, End               string
	Note                           string
	// Reason and BySite, for a cancellation: why, and whether the site
	// cancelled it rather than the member.
	Reason string
	BySite bool
}

// send renders message for b's member and sends it, with the invitation
// (REQUEST) or its withdrawal (CANCEL) for every message but the reminder.
func (s *Service) send(ctx context.Context, message string, b booking) error {
	loc := b.site.Location()
	start, end := b.r.StartsAt.In(loc), b.r.EndsAt.In(loc)
	lang := b.to.Language
	data := mailData{Name: oneLine(b.to.Name), Resource: oneLine(b.res.Name), Site: oneLine(b.site.Name), Location: oneLine(calendar.SiteLocation(b.site)),
		Date: formatDate(start, lang), Start: formatClock(start, lang), End: formatClock(end, lang), Note: b.r.Note,
		Reason: b.r.CancelReason, BySite: b.r.CancelledBy == nil || *b.r.CancelledBy != *b.r.UserID}
	m, err := templates.Render(message, lang, b.to.Email, data)
	if err != nil {
		return fmt.Errorf("render %s: %w", message, err)
	}
	category := identity.CategoryBookings
	if message == "booking_reminder" {
		category = identity.CategoryReminders
	}
	s.decorate(&m, b.to.ID, category, b.site)
	if message != "booking_reminder" {
		method := "REQUEST"
		if message == "booking_cancelled" {
			method = "CANCEL"
		}
		ics, err := s.invitation(method, b)
		if err != nil {
			return err
		}
		m.Attachments = append(m.Attachments, mail.Attachment{Filename: "invitation.ics",
			ContentType: "text/calendar; method=" + method + "; charset=UTF-8", Data: ics, Inline: true})
	}
	if err := s.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s for %s: %w", message, b.r.ID, err)
	}
	return nil
}

// invitation is the iMIP calendar (RFC 6047, RFC 5546) of b: the feeds'
// UID and SEQUENCE (calendar.EventUID, calendar.EventSequence), the site
// as ORGANIZER through the unattended address, the member as ATTENDEE.
// Times carry the site's TZID, described by a VTIMEZONE, so that the
// member's app shows the site's wall clock.
func (s *Service) invitation(method string, b booking) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Relais//Relais//FR")
	cal.Props.SetText(ical.PropMethod, method)

	ev := ical.NewEvent()
	p := ev.Props
	p.SetText(ical.PropUID, calendar.EventUID(b.r.ID))
	p.SetDateTime(ical.PropDateTimeStamp, s.now().UTC())
	seq := ical.NewProp(ical.PropSequence)
	seq.Value = strconv.FormatInt(calendar.EventSequence(b.r.UpdatedAt), 10)
	p.Set(seq)
	loc := b.site.Location()
	p.SetDateTime(ical.PropDateTimeStart, b.r.StartsAt.In(loc))
	p.SetDateTime(ical.PropDateTimeEnd, b.r.EndsAt.In(loc))
	// One line each: the encoder refuses a value with a line break.
	p.SetText(ical.PropSummary, oneLine(b.res.Name+" — "+b.site.Name))
	p.SetText(ical.PropLocation, oneLine(calendar.SiteLocation(b.site)))
	status := ical.EventConfirmed
	if method == "CANCEL" {
		status = ical.EventCancelled
	}
	p.SetText(ical.PropStatus, string(status))

	org := ical.NewProp(ical.PropOrganizer)
	org.Value = "mailto:" + s.organizer
	org.Params.Set(ical.ParamCommonName, oneLine(b.site.Name))
	p.Set(org)
	att := ical.NewProp(ical.PropAttendee)
	att.Value = "mailto:" + b.to.Email
	if b.to.Name != "" {
		att.Params.Set(ical.ParamCommonName, oneLine(b.to.Name))
	}
	att.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
	// The member booked it: the event is accepted already, and no reply
	// is expected from their calendar app.
	att.Params.Set(ical.ParamParticipationStatus, "ACCEPTED")
	att.Params.Set(ical.ParamRSVP, "FALSE")
	p.Set(att)
	cal.Children = append(cal.Children, vtimezone(loc, b.r.StartsAt), ev.Component)

	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode invitation for %s: %w", b.r.ID, err)
	}
	return calendar.FoldLines(buf.Bytes()), nil
}

var (
	frenchDays   = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// formatDate is "mardi 9 décembre 2026" in French, "Wednesday 9 December
// 2026" in English: with the year, since a booking may be made or moved
// across the new year.
func formatDate(t time.Time, lang string) string {
	if lang == identity.LanguageEnglish {
		return t.Format("Monday 2 January 2006")
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return frenchDays[t.Weekday()] + " " + day + " " + frenchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// formatClock is "14 h 30" (non-breaking spaces) in French, "14:30" in
// English.
func formatClock(t time.Time, lang string) string {
	if lang == identity.LanguageEnglish {
		return t.Format("15:04")
	}
	return fmt.Sprintf("%d\u00a0h\u00a0%02d", t.Hour(), t.Minute())
}
