package calendar_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/db/dbtest"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs/jobstest"
)

func validSite() calendar.NewSite {
	return calendar.NewSite{
		Name:     "La Fabrique du Bourg",
		Timezone: "Europe/Paris",
		Address:  calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"},
		OpeningHours: calendar.OpeningHours{
			"mon": {{"09:00", "12:30"}, {"14:00", "19:00"}},
			"tue": {{"09:00", "19:00"}},
		},
		// 732829320 is the classic valid SIREN example; its VAT key is 44.
		Legal: calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIREN: "732 829 320", SIRET: "73282932000074", VATNumber: "FR44732829320"},
	}
}

func TestCreateAndUpdateSite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := newService(t)
	s, err := svc.CreateSite(ctx, bySystem(), validSite())
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetSite(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Legal.SIREN != "732829320" || got.Address.City != "Guéret" || len(got.OpeningHours["mon"]) != 2 {
		t.Fatalf("stored site = %+v", got)
	}
	name := "La Fabrique"
	up, err := svc.UpdateSite(ctx, bySystem(), s.ID, calendar.SiteUpdate{Name: &name, ClearOpeningHours: true})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = svc.GetSite(ctx, s.ID)
	if up.Name != name || got.Name != name || got.OpeningHours != nil {
		t.Fatalf("after update: %+v", got)
	}
	bad := "Mars/Olympus"
	if _, err := svc.UpdateSite(ctx, bySystem(), s.ID, calendar.SiteUpdate{Timezone: &bad}); err == nil {
		t.Fatal("unknown zone accepted on update")
	}
	got, _ = svc.GetSite(ctx, s.ID)
	if got.Timezone != "Europe/Paris" {
		t.Fatalf("failed update changed the zone to %q", got.Timezone)
	}
}

func TestSiteValidation(t *testing.T) {
	t.Parallel()
	svc := newService(t)
	tests := []struct {
		name   string
		change func(*calendar.NewSite)
		field  string
	}{
		{"unknown zone", func(s *calendar.NewSite) { s.Timezone = "Europe/Pariss" }, "timezone"},
		{"empty zone", func(s *calendar.NewSite) { s.Timezone = "" }, "timezone"},
		{"bad SIREN key", func(s *calendar.NewSite) { s.Legal.SIREN = "732829321"; s.Legal.SIRET = "" }, "legal.siren"},
		{"SIRET of another SIREN", func(s *calendar.NewSite) { s.Legal.SIRET = "44306184100047" }, "legal.siret"},
		{"wrong VAT key", func(s *calendar.NewSite) { s.Legal.VATNumber = "FR45732829320" }, "legal.vat_number"},
		{"no VAT and not exempt", func(s *calendar.NewSite) { s.Legal.VATNumber = "" }, "legal.vat_number"},
		{"bad clock", func(s *calendar.NewSite) { s.OpeningHours = calendar.OpeningHours{"mon": {{"9h", "12:00"}}} }, "opening_hours.mon[0]"},
		{"reversed", func(s *calendar.NewSite) { s.OpeningHours = calendar.OpeningHours{"fri": {{"18:00", "09:00"}}} }, "opening_hours.fri[0]"},
		{"overlap", func(s *calendar.NewSite) {
			s.OpeningHours = calendar.OpeningHours{"fri": {{"09:00", "13:00"}, {"12:00", "18:00"}}}
		}, "opening_hours.fri[1]"},
		{"unknown day", func(s *calendar.NewSite) { s.OpeningHours = calendar.OpeningHours{"monday": {}} }, "opening_hours.monday"},
		{"postal code", func(s *calendar.NewSite) { s.Address.PostalCode = "230" }, "address.postal_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validSite()
			tt.change(&in)
			_, err := svc.CreateSite(context.Background(), bySystem(), in)
			var ve *errs.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want validation error", err)
			}
			for _, f := range ve.Fields {
				if f.Field == tt.field {
					return
				}
			}
			t.Fatalf("fields = %+v, want one on %q", ve.Fields, tt.field)
		})
	}
	exempt := validSite()
	exempt.Legal = calendar.Legal{CompanyName: "Asso Tiers-Lieu", LegalForm: "Association loi 1901", SIRET: "73282932000074", VATExempt: true}
	if _, err := svc.CreateSite(context.Background(), bySystem(), exempt); err != nil {
		t.Fatalf("VAT-exempt association: %v", err)
	}
}

func TestOpeningHoursCovers(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	h := calendar.OpeningHours{
		"mon": {{"09:00", "12:30"}, {"14:00", "24:00"}},
		"tue": {{"00:00", "02:00"}, {"09:00", "18:00"}},
		"sun": {{"01:00", "04:00"}},
	}
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, paris) }
	tests := []struct {
		name       string
		start, end time.Time
		want       bool
	}{
		{"inside morning", at(2026, 3, 9, 9, 0), at(2026, 3, 9, 12, 30), true},
		{"across lunch", at(2026, 3, 9, 12, 0), at(2026, 3, 9, 14, 30), false},
		{"before opening", at(2026, 3, 9, 8, 45), at(2026, 3, 9, 9, 30), false},
		{"over midnight into tuesday", at(2026, 3, 9, 23, 0), at(2026, 3, 10, 1, 0), true},
		{"past tuesday's night hours", at(2026, 3, 9, 23, 0), at(2026, 3, 10, 3, 0), false},
		{"closed wednesday", at(2026, 3, 11, 10, 0), at(2026, 3, 11, 11, 0), false},
		// 29 March 2026: clocks jump from 02:00 to 03:00 in Paris. 01:00–04:00
		// local lasts two hours and is still inside the published hours.
		{"spring-forward sunday", at(2026, 3, 29, 1, 0), at(2026, 3, 29, 4, 0), true},
		// 25 October 2026: 02:00–03:00 happens twice; 01:00–04:00 lasts four hours.
		{"fall-back sunday", at(2026, 10, 25, 1, 0), at(2026, 10, 25, 4, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Covers(paris, tt.start, tt.end); got != tt.want {
				t.Fatalf("Covers(%s, %s) = %v, want %v", tt.start, tt.end, got, tt.want)
			}
		})
	}
	if !calendar.OpeningHours(nil).Covers(paris, at(2026, 1, 1, 3, 0), at(2026, 1, 5, 3, 0)) {
		t.Fatal("nil opening hours (24/7) does not cover")
	}
}

func TestClosures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := newService(t)
	s, err := svc.CreateSite(ctx, bySystem(), validSite())
	if err != nil {
		t.Fatal(err)
	}
	xmas := time.Date(2026, 12, 24, 23, 0, 0, 0, time.UTC)
	c, err := svc.AddClosure(ctx, bySystem(), s.ID, xmas, xmas.Add(48*time.Hour), "Noël")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddClosure(ctx, bySystem(), s.ID, xmas, xmas, ""); err == nil {
		t.Fatal("empty closure accepted")
	}
	// Bounded: from at most a year ago to at most MaxClosureDays ahead.
	now := time.Now()
	for _, tc := range []struct {
		start, end time.Time
		field      string
	}{
		{now.AddDate(-1, 0, -1), now, "starts_at"},
		{now, now.AddDate(0, 0, calendar.MaxClosureDays+1), "ends_at"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), "starts_at"},
		{now.AddDate(0, -11, 0), now.AddDate(0, 0, calendar.MaxClosureDays-1), ""},
	} {
		_, err := svc.AddResourceClosure(ctx, bySystem(), mustDesk(t, svc, s.ID), tc.start, tc.end, "")
		var ve *errs.ValidationError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s – %s: %v", tc.start, tc.end, err)
		case tc.field != "" && (!errors.As(err, &ve) || ve.Fields[0].Field != tc.field):
			t.Errorf("%s – %s: %v, want a refusal naming %s", tc.start, tc.end, err, tc.field)
		}
	}
	list, err := svc.ListClosures(ctx, bySystem(), s.ID, xmas.Add(24*time.Hour), time.Time{})
	if err != nil || len(list) != 1 || list[0].ID != c.ID || !list[0].StartsAt.Equal(xmas) {
		t.Fatalf("list = %+v, %v", list, err)
	}
	list, _ = svc.ListClosures(ctx, bySystem(), s.ID, xmas.Add(48*time.Hour), time.Time{})
	if len(list) != 0 {
		t.Fatalf("closure ending at from is listed (intervals are half-open): %+v", list)
	}
	if err := svc.DeleteClosure(ctx, bySystem(), s.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteClosure(ctx, bySystem(), s.ID, c.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

// Only an admin changes a site's legal identity; anyone may send it back
// unchanged, however its numbers are written.
func TestSiteLegalIdentityChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc := newService(t)
	other := calendar.Legal{CompanyName: "Association Le Bourg Numérique", LegalForm: "Association loi 1901",
		SIREN: "443061841", SIRET: "44306184100005", VATNumber: "FR64443061841"}
	office := calendar.Address{Line1: "1 rue Haute", PostalCode: "23000", City: "Guéret", Country: "FR"}
	tests := []struct {
		name    string
		change  func(l *calendar.Legal)
		admin   bool
		allowed bool
	}{
		{"another entity, by a manager", func(l *calendar.Legal) { *l = other }, false, false},
		{"another entity, by an admin", func(l *calendar.Legal) { *l = other }, true, true},
		{"VAT exemption, by a manager", func(l *calendar.Legal) { l.VATExempt, l.VATNumber = true, "" }, false, false},
		{"registered office, by a manager", func(l *calendar.Legal) { l.Address = &office }, false, false},
		{"company name, by a manager", func(l *calendar.Legal) { l.CompanyName = "SCIC La Fabrique SAS" }, false, false},
		{"unchanged, by a manager", func(l *calendar.Legal) {}, false, true},
		{"unchanged but spaced, by a manager", func(l *calendar.Legal) { l.SIREN, l.VATNumber = "732 829 320", "fr 44 732829320" }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := svc.CreateSite(ctx, bySystem(), validSite())
			if err != nil {
				t.Fatal(err)
			}
			legal := validSite().Legal
			tt.change(&legal)
			name := "Renamed"
			// A manager of the site, or an admin of the network.
			by := &identity.Principal{UserID: "mona", ManagedSites: []string{s.ID}}
			if tt.admin {
				by = byAdmin("ada")
			}
			_, err = svc.UpdateSite(ctx, by, s.ID, calendar.SiteUpdate{Name: &name, Legal: &legal})
			got, gerr := svc.GetSite(ctx, s.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.allowed {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Name != name {
					t.Fatalf("not applied: %+v", got)
				}
				return
			}
			var p *errs.Problem
			if !errors.As(err, &p) || !errors.Is(err, errs.ErrForbidden) || p.Code != "legal_identity_admin_only" || len(p.Fields) != 1 || p.Fields[0].Field != "legal" {
				t.Fatalf("err = %v, want legal_identity_admin_only naming legal", err)
			}
			if got.Name != s.Name || !reflect.DeepEqual(got.Legal, s.Legal) {
				t.Fatalf("a refused update changed the site: %+v", got)
			}
		})
	}
}

// newService is a calendar service over a fresh test database.
func newService(t *testing.T) *calendar.Service {
	t.Helper()
	d := dbtest.New(t)
	queue := jobstest.Queue(t, d)
	return calendar.New(d, calendar.Config{Events: events.Discard, Jobs: queue, Accounts: identitytest.Accounts(t, d, queue)})
}

// mustDesk adds a desk to siteID and returns its id.
func mustDesk(t *testing.T, svc *calendar.Service, siteID string) string {
	t.Helper()
	r, err := svc.CreateResource(context.Background(), bySystem(), siteID, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}
