package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// --- services-mail ---

// Outcomes of an appointment as the report counts them: as recorded, or
// not recorded (yet).
const OutcomeNotRecorded = "not_recorded"

// AppointmentLine is the appointments of one month, site, partner, purpose
// and outcome: those not cancelled that started in the period (and before
// now). Both counts are about people, so masked from 1 to MinCount-1.
type AppointmentLine struct {
	Month     string // 2026-03, in the site's zone
	SiteID    string
	PartnerID string
	Partner   string
	Purpose   string
	Outcome   string // held, no_show, follow_up or not_recorded
	Count     Count  // appointments
	People    Count  // distinct residents
}

type apptKey struct{ month, site, partner, purpose, outcome string }

// appointments adds the appointments' lines to r, and to served the
// residents received (outcome held or follow_up): a no-show, or an
// appointment whose outcome nobody recorded, served nobody we know of.
func (s *Service) appointments(ctx context.Context, r *Report, zones map[string]*time.Location, served map[string]bool) error {
	var rows []struct {
		SiteID    string    `bun:"site_id"`
		PartnerID string    `bun:"partner_id"`
		Partner   string    `bun:"partner"`
		Purpose   string    `bun:"purpose"`
		UserID    string    `bun:"user_id"`
		Outcome   *string   `bun:"outcome"`
		StartsAt  time.Time `bun:"starts_at"`
	}
	if err := s.db.NewRaw(`SELECT ap.site_id, ap.partner_id, pt.name AS partner, ap.purpose, ap.user_id, ap.outcome, ap.starts_at
		FROM appointments ap JOIN partners pt ON pt.id = ap.partner_id
		WHERE ap.site_id IN (?) AND ap.status = 'confirmed' AND ap.starts_at >= ? AND ap.starts_at < ? AND ap.starts_at < ?`,
		bun.In(r.SiteIDs), r.From, r.To, s.now().UTC()).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("report appointments: %w", err)
	}
	type tally struct {
		partner string
		n       int
		people  map[string]bool
	}
	lines := map[apptKey]*tally{}
	for _, a := range rows {
		outcome := OutcomeNotRecorded
		if a.Outcome != nil {
			outcome = *a.Outcome
		}
		k := apptKey{a.StartsAt.In(zones[a.SiteID]).Format("2006-01"), a.SiteID, a.PartnerID, a.Purpose, outcome}
		t := lines[k]
		if t == nil {
			t = &tally{partner: a.Partner, people: map[string]bool{}}
			lines[k] = t
		}
		t.n++
		t.people[a.UserID] = true
		if outcome == "held" || outcome == "follow_up" {
			served[a.UserID] = true
		}
	}
	keys := make([]apptKey, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b apptKey) int {
		return strings.Compare(strings.Join([]string{a.month, a.site, lines[a].partner, a.partner, a.purpose, a.outcome}, "\x00"),
			strings.Join([]string{b.month, b.site, lines[b].partner, b.partner, b.purpose, b.outcome}, "\x00"))
	})
	for _, k := range keys {
		t := lines[k]
		r.Appointments = append(r.Appointments, AppointmentLine{Month: k.month, SiteID: k.site, PartnerID: k.partner, Partner: t.partner,
			Purpose: k.purpose, Outcome: k.outcome, Count: count(t.n), People: count(len(t.people))})
	}
	return nil
}
