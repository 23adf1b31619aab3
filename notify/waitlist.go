package notify

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
)

// WaitlistMailArgs is one waiting-list event to tell its member about: a
// slot offered until ExpiresAt, or that offer lapsed. It carries the
// event's data, so the worker reads no entry: the offer's deadline is the
// one the member was given. Unique by event (see Publisher.insert).
type WaitlistMailArgs struct {
	EventID    string    `json:"event_id" river:"unique"`
	Type       string    `json:"type"`
	EntryID    string    `json:"entry_id"`
	UserID     string    `json:"user_id"`
	SiteID     string    `json:"site_id"`
	ResourceID string    `json:"resource_id"`
	StartsAt   time.Time `json:"starts_at"`
	EndsAt     time.Time `json:"ends_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// Kind names the job in river_job.
func (WaitlistMailArgs) Kind() string { return "notify.waitlist" }

func (p *Publisher) publishWaitlist(ctx context.Context, idb bun.IDB, e events.Event) error {
	d, ok := e.Data.(calendar.WaitlistEvent)
	if !ok {
		return nil
	}
	return p.insert(ctx, idb, e, WaitlistMailArgs{EventID: e.ID, Type: e.Type, EntryID: d.EntryID, UserID: d.UserID,
		SiteID: d.SiteID, ResourceID: d.ResourceID, StartsAt: d.Start, EndsAt: d.End, ExpiresAt: d.ExpiresAt}, nil)
}

type waitlistWorker struct {
	river.WorkerDefaults[WaitlistMailArgs]
	svc *Service
}

// waitlistData is what the waiting-list templates show, in the site's
// zone and the member's language.
type waitlistData struct {
	Name, Resource, Site, Location string
	Date, Start, End               string
	// Deadline is the offer's end ("mardi 3 mars 2026 à 16 h 00").
	Deadline string
	// AcceptURL is the app's page of the entry, PUBLIC_URL/waitlist/{id};
	// "" without a public URL, when AcceptCall names the API call.
	AcceptURL, AcceptCall string
}

// Work mails the offer or its lapse, if the member still wants waiting-list
// mail. An offer whose deadline has passed by the time the job runs (a
// relay down for hours) is not sent: its lapse mail follows.
func (w *waitlistWorker) Work(ctx context.Context, job *river.Job[WaitlistMailArgs]) error {
	s, a := w.svc, job.Args
	message := "waitlist_lapsed"
	if a.Type == calendar.EventWaitlistOffered {
		message = "waitlist_offer"
		if !s.now().Before(a.ExpiresAt) {
			return nil
		}
	}
	to, err := s.accounts.Recipient(ctx, s.db, a.UserID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read member of waitlist entry %s: %w", a.EntryID, err)
	}
	if !to.Active || to.Email == "" || !to.Notifications.WaitingList {
		return nil
	}
	res, err := s.cal.GetResource(ctx, a.ResourceID)
	if err != nil {
		return fmt.Errorf("read resource of waitlist entry %s: %w", a.EntryID, err)
	}
	site, err := s.cal.GetSite(ctx, a.SiteID)
	if err != nil {
		return fmt.Errorf("read site of waitlist entry %s: %w", a.EntryID, err)
	}
	m, err := templates.Render(message, to.Language, to.Email, s.waitlistData(a, to, res, site))
	if err != nil {
		return fmt.Errorf("render %s: %w", message, err)
	}
	s.decorate(&m, to.ID, identity.CategoryWaitingList, site)
	if err := s.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("send %s for %s: %w", message, a.EntryID, err)
	}
	return nil
}

func (s *Service) waitlistData(a WaitlistMailArgs, to identity.Recipient, res *calendar.Resource, site *calendar.Site) waitlistData {
	loc, lang := site.Location(), to.Language
	start, end, deadline := a.StartsAt.In(loc), a.EndsAt.In(loc), a.ExpiresAt.In(loc)
	d := waitlistData{Name: oneLine(to.Name), Resource: oneLine(res.Name), Site: oneLine(site.Name),
		Location: oneLine(calendar.SiteLocation(site)), Date: formatDate(start, lang), Start: formatClock(start, lang),
		End: formatClock(end, lang), Deadline: formatDateTime(deadline, lang),
		AcceptCall: "POST /v1/waitlist/" + a.EntryID + "/accept"}
	if s.publicURL != "" {
		d.AcceptURL = s.publicURL + "/waitlist/" + url.PathEscape(a.EntryID)
	}
	return d
}

// formatDateTime is "mardi 3 mars 2026 à 16 h 00", "Tuesday 3 March 2026
// at 16:00".
func formatDateTime(t time.Time, lang string) string {
	if lang == identity.LanguageEnglish {
		return formatDate(t, lang) + " at " + formatClock(t, lang)
	}
	return formatDate(t, lang) + " à " + formatClock(t, lang)
}
