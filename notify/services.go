package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/riverqueue/river"

	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/mail"
)

// --- services-mail ---

// The services' mails: a registration to an atelier confirmed (or
// promoted from the waiting list), cancelled (by the person, the site, or
// with its session), and a reminder the day before; an appointment with a
// public service confirmed, moved or cancelled, to the resident and to the
// partner's agents, and a reminder to the resident the day before. Each
// but the reminders carries the event as an iMIP invitation (REQUEST, or
// CANCEL) under one UID, the SEQUENCE growing with each change. Residents
// without an address (guests without email) are mailed nothing; guests
// read French (their account's language, French unless given).

// ServiceReminderLead is how long before an atelier's session or an
// appointment its reminder goes: the day before, when the resident may
// still find their papers or a way to come.
const ServiceReminderLead = 24 * time.Hour

// Ateliers is what notify reads of ateliers (*ateliers.Service).
type Ateliers interface {
	RegistrationForMail(ctx context.Context, registrationID string) (*ateliers.RegistrationMail, error)
}

// Appointments is what notify reads of appointments (*appointments.Service).
type Appointments interface {
	AppointmentForMail(ctx context.Context, appointmentID string) (*appointments.AppointmentMail, error)
}

// ServiceMailArgs is one atelier registration's or appointment's event to
// mail about; unique by event.
type ServiceMailArgs struct {
	EventID        string `json:"event_id" river:"unique"`
	Type           string `json:"type"`
	RegistrationID string `json:"registration_id,omitempty"`
	AppointmentID  string `json:"appointment_id,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// Kind names the job in river_job.
func (ServiceMailArgs) Kind() string { return "notify.services" }

// AtelierReminderArgs is the reminder of a registration whose session
// starts at StartsAt.
type AtelierReminderArgs struct {
	RegistrationID string    `json:"registration_id"`
	StartsAt       time.Time `json:"starts_at"`
}

// Kind names the job in river_job.
func (AtelierReminderArgs) Kind() string { return "notify.atelier_reminder" }

// AppointmentReminderArgs is the reminder of an appointment that starts
// at StartsAt; one moved since has another, and this one does nothing.
type AppointmentReminderArgs struct {
	AppointmentID string    `json:"appointment_id"`
	StartsAt      time.Time `json:"starts_at"`
}

// Kind names the job in river_job.
func (AppointmentReminderArgs) Kind() string { return "notify.appointment_reminder" }

func serviceArgs(e events.Event) river.JobArgs {
	switch d := e.Data.(type) {
	case ateliers.RegistrationEvent:
		return ServiceMailArgs{EventID: e.ID, Type: e.Type, RegistrationID: d.RegistrationID, Reason: d.Reason}
	case appointments.AppointmentEvent:
		return ServiceMailArgs{EventID: e.ID, Type: e.Type, AppointmentID: d.AppointmentID, Reason: d.Reason}
	}
	return nil
}

func (s *Service) addServiceWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &serviceWorker{svc: s}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(w, &atelierReminderWorker{svc: s}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &appointmentReminderWorker{svc: s})
}

// serviceData is what the services' templates show, in the site's zone
// and the reader's language.
type serviceData struct {
	Name, Site, Location, Date, Start, End string
	// Ateliers.
	Title     string
	Promoted  bool
	BySession bool
	// Appointments.
	Partner, Purpose, VideoURL string
	Checklist                  []string
	Moved                      bool
	// ForAgent: the mail goes to the partner's agent, about Resident.
	ForAgent bool
	Resident string
	Reason   string
}

type serviceWorker struct {
	river.WorkerDefaults[ServiceMailArgs]
	svc *Service
}

// Work mails the registration or appointment as it is now (like the
// booking mails): an event whose change was undone since sends nothing,
// the later event's own job tells.
func (w *serviceWorker) Work(ctx context.Context, job *river.Job[ServiceMailArgs]) error {
	a := job.Args
	if a.RegistrationID != "" {
		return w.svc.atelierMail(ctx, a)
	}
	return w.svc.appointmentMail(ctx, a)
}

func (s *Service) readers() error {
	if s.ateliers == nil || s.appointments == nil {
		return errors.New("notify: Ateliers and Appointments are not set")
	}
	return nil
}

func (s *Service) atelierMail(ctx context.Context, a ServiceMailArgs) error {
	if err := s.readers(); err != nil {
		return err
	}
	v, err := s.ateliers.RegistrationForMail(ctx, a.RegistrationID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r := v.Registration
	to, ok, err := s.recipient(ctx, r.UserID)
	if err != nil || !ok {
		return err
	}
	site, err := s.cal.GetSite(ctx, v.Atelier.SiteID)
	if err != nil {
		return fmt.Errorf("read site of atelier %s: %w", v.Atelier.ID, err)
	}
	var message, method string
	switch {
	case a.Type == ateliers.EventRegistrationCancelled && r.Status == ateliers.StatusCancelled:
		message, method = "atelier_cancelled", "CANCEL"
	case a.Type != ateliers.EventRegistrationCancelled && r.Status == ateliers.StatusConfirmed:
		message, method = "atelier_registered", "REQUEST"
		if err := s.scheduleService(ctx, to, v.Session.StartsAt, AtelierReminderArgs{RegistrationID: r.ID, StartsAt: v.Session.StartsAt.UTC()}); err != nil {
			return err
		}
	default:
		return nil // changed since: that change's job tells
	}
	data := s.atelierData(v, site, to)
	data.Promoted = a.Type == ateliers.EventRegistrationPromoted
	data.BySession, data.Reason = v.Session.Status == "cancelled", a.Reason
	seq := int64(0)
	if method == "CANCEL" {
		seq = 1
	}
	ics, err := s.serviceInvitation(method, r.ID, seq, v.Session.StartsAt, v.Session.EndsAt, site, v.Atelier.Title+" — "+site.Name, "", to)
	if err != nil {
		return err
	}
	return s.mailTo(ctx, to, site, identity.CategoryBookings, message, data, invitationPart(method, ics))
}

func (s *Service) atelierData(v *ateliers.RegistrationMail, site *calendar.Site, to identity.Recipient) serviceData {
	loc := site.Location()
	start, end := v.Session.StartsAt.In(loc), v.Session.EndsAt.In(loc)
	return serviceData{Name: oneLine(to.Name), Site: oneLine(site.Name), Location: oneLine(calendar.SiteLocation(site)), Title: oneLine(v.Atelier.Title),
		Date: formatDate(start, to.Language), Start: formatClock(start, to.Language), End: formatClock(end, to.Language)}
}

// scheduleService queues a reminder ServiceReminderLead before start,
// unless the person wants none or it would be late already; unique by its
// arguments, so a retry or a second event queues no second one.
func (s *Service) scheduleService(ctx context.Context, to identity.Recipient, start time.Time, args river.JobArgs) error {
	if !to.Notifications.Reminders {
		return nil
	}
	at := start.Add(-ServiceReminderLead)
	if !at.After(s.now()) {
		return nil
	}
	if _, err := s.jobs.Insert(ctx, args, &river.InsertOpts{ScheduledAt: at, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
		return fmt.Errorf("schedule %s: %w", args.Kind(), err)
	}
	return nil
}

func (s *Service) appointmentMail(ctx context.Context, a ServiceMailArgs) error {
	if err := s.readers(); err != nil {
		return err
	}
	v, err := s.appointments.AppointmentForMail(ctx, a.AppointmentID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ap := v.Appointment
	var message, method string
	switch {
	case a.Type == appointments.EventAppointmentCancelled && ap.Status == appointments.StatusCancelled:
		message, method = "appointment_cancelled", "CANCEL"
	case a.Type != appointments.EventAppointmentCancelled && ap.Status == appointments.StatusConfirmed:
		message, method = "appointment_confirmed", "REQUEST"
	default:
		return nil
	}
	site, err := s.cal.GetSite(ctx, ap.SiteID)
	if err != nil {
		return fmt.Errorf("read site of appointment %s: %w", ap.ID, err)
	}
	resident, ok, err := s.recipient(ctx, ap.UserID)
	if err != nil {
		return err
	}
	if ok && method == "REQUEST" {
		if err := s.scheduleService(ctx, resident, ap.StartsAt, AppointmentReminderArgs{AppointmentID: ap.ID, StartsAt: ap.StartsAt.UTC()}); err != nil {
			return err
		}
	}
	type reader struct {
		to       identity.Recipient
		forAgent bool
	}
	var readers []reader
	if ok {
		readers = append(readers, reader{to: resident})
	}
	for _, agentID := range v.AgentIDs {
		agent, found, err := s.recipient(ctx, agentID)
		if err != nil {
			return err
		}
		if found && agentID != ap.UserID {
			readers = append(readers, reader{to: agent, forAgent: true})
		}
	}
	for _, r := range readers {
		data := s.appointmentData(v, site, r.to)
		data.ForAgent, data.Resident = r.forAgent, oneLine(resident.Name)
		data.Moved, data.Reason = a.Type == appointments.EventAppointmentMoved, a.Reason
		summary := v.PartnerName + " — " + ap.Purpose
		if r.forAgent {
			summary = v.PartnerName + " — " + resident.Name
		}
		ics, err := s.serviceInvitation(method, ap.ID, ap.Sequence, ap.StartsAt, ap.EndsAt, site, summary, appointmentDescription(data, r.to.Language), r.to)
		if err != nil {
			return err
		}
		if err := s.mailTo(ctx, r.to, site, identity.CategoryBookings, message, data, invitationPart(method, ics)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) appointmentData(v *appointments.AppointmentMail, site *calendar.Site, to identity.Recipient) serviceData {
	loc := site.Location()
	ap := v.Appointment
	start, end := ap.StartsAt.In(loc), ap.EndsAt.In(loc)
	d := serviceData{Name: oneLine(to.Name), Site: oneLine(site.Name), Location: oneLine(calendar.SiteLocation(site)), Partner: oneLine(v.PartnerName),
		Purpose: oneLine(ap.Purpose), Date: formatDate(start, to.Language), Start: formatClock(start, to.Language), End: formatClock(end, to.Language)}
	if ap.VideoURL != nil {
		d.VideoURL = *ap.VideoURL
	}
	for _, doc := range ap.Checklist {
		d.Checklist = append(d.Checklist, oneLine(doc))
	}
	return d
}

// appointmentDescription is the invitation's DESCRIPTION: the purpose,
// the video link and the documents to bring, so that the resident's
// calendar holds them too.
func appointmentDescription(d serviceData, lang string) string {
	var b strings.Builder
	if lang == identity.LanguageEnglish {
		b.WriteString("Purpose: " + d.Purpose)
		if d.VideoURL != "" {
			b.WriteString("\nVideo link: " + d.VideoURL)
		}
		if len(d.Checklist) > 0 {
			b.WriteString("\nDocuments to bring:")
		}
	} else {
		b.WriteString("Motif\u00a0: " + d.Purpose)
		if d.VideoURL != "" {
			b.WriteString("\nLien de la visio\u00a0: " + d.VideoURL)
		}
		if len(d.Checklist) > 0 {
			b.WriteString("\nDocuments à apporter\u00a0:")
		}
	}
	for _, doc := range d.Checklist {
		b.WriteString("\n- " + doc)
	}
	return b.String()
}

func invitationPart(method string, ics []byte) mail.Attachment {
	return mail.Attachment{Filename: "invitation.ics", ContentType: "text/calendar; method=" + method + "; charset=UTF-8", Data: ics, Inline: true}
}

// serviceInvitation is the iMIP calendar (RFC 6047) of a session or an
// appointment for one reader: UID id@relais, the site as ORGANIZER through
// the unattended address, the reader as ATTENDEE, times in the site's zone.
func (s *Service) serviceInvitation(method, id string, seq int64, start, end time.Time, site *calendar.Site, summary, description string, to identity.Recipient) ([]byte, error) {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, "-//Relais//Relais//FR")
	cal.Props.SetText(ical.PropMethod, method)
	ev := ical.NewEvent()
	p := ev.Props
	p.SetText(ical.PropUID, calendar.EventUID(id))
	p.SetDateTime(ical.PropDateTimeStamp, s.now().UTC())
	sq := ical.NewProp(ical.PropSequence)
	sq.Value = strconv.FormatInt(seq, 10)
	p.Set(sq)
	loc := site.Location()
	p.SetDateTime(ical.PropDateTimeStart, start.In(loc))
	p.SetDateTime(ical.PropDateTimeEnd, end.In(loc))
	p.SetText(ical.PropSummary, oneLine(summary))
	p.SetText(ical.PropLocation, oneLine(calendar.SiteLocation(site)))
	if description != "" {
		p.SetText(ical.PropDescription, description)
	}
	status := ical.EventConfirmed
	if method == "CANCEL" {
		status = ical.EventCancelled
	}
	p.SetText(ical.PropStatus, string(status))
	org := ical.NewProp(ical.PropOrganizer)
	org.Value = "mailto:" + s.organizer
	org.Params.Set(ical.ParamCommonName, oneLine(site.Name))
	p.Set(org)
	att := ical.NewProp(ical.PropAttendee)
	att.Value = "mailto:" + to.Email
	if to.Name != "" {
		att.Params.Set(ical.ParamCommonName, oneLine(to.Name))
	}
	att.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
	att.Params.Set(ical.ParamParticipationStatus, "ACCEPTED")
	att.Params.Set(ical.ParamRSVP, "FALSE")
	p.Set(att)
	cal.Children = append(cal.Children, vtimezone(loc, start), ev.Component)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("encode invitation for %s: %w", id, err)
	}
	return calendar.FoldLines(buf.Bytes()), nil
}

type atelierReminderWorker struct {
	river.WorkerDefaults[AtelierReminderArgs]
	svc *Service
}

// Work sends the reminder if the registration still holds its seat at a
// session that still starts when it did, and has not started.
func (w *atelierReminderWorker) Work(ctx context.Context, job *river.Job[AtelierReminderArgs]) error {
	s, a := w.svc, job.Args
	if err := s.readers(); err != nil {
		return err
	}
	v, err := s.ateliers.RegistrationForMail(ctx, a.RegistrationID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if v.Registration.Status != ateliers.StatusConfirmed || v.Session.Status == "cancelled" || !v.Session.StartsAt.Equal(a.StartsAt) || !v.Session.StartsAt.After(s.now()) {
		return nil
	}
	to, ok, err := s.recipient(ctx, v.Registration.UserID)
	if err != nil || !ok {
		return err
	}
	site, err := s.cal.GetSite(ctx, v.Atelier.SiteID)
	if err != nil {
		return err
	}
	return s.mailTo(ctx, to, site, identity.CategoryReminders, "atelier_reminder", s.atelierData(v, site, to))
}

type appointmentReminderWorker struct {
	river.WorkerDefaults[AppointmentReminderArgs]
	svc *Service
}

// Work sends the resident's reminder if the appointment still stands
// where it stood when the reminder was scheduled, and has not started.
func (w *appointmentReminderWorker) Work(ctx context.Context, job *river.Job[AppointmentReminderArgs]) error {
	s, a := w.svc, job.Args
	if err := s.readers(); err != nil {
		return err
	}
	v, err := s.appointments.AppointmentForMail(ctx, a.AppointmentID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	ap := v.Appointment
	if ap.Status != appointments.StatusConfirmed || !ap.StartsAt.Equal(a.StartsAt) || !ap.StartsAt.After(s.now()) {
		return nil
	}
	to, ok, err := s.recipient(ctx, ap.UserID)
	if err != nil || !ok {
		return err
	}
	site, err := s.cal.GetSite(ctx, ap.SiteID)
	if err != nil {
		return err
	}
	return s.mailTo(ctx, to, site, identity.CategoryReminders, "appointment_reminder", s.appointmentData(v, site, to))
}
