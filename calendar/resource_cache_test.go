package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/events"
)

// The booking path keeps resources and sites in memory. A change made
// through another replica (another Service on the same database, here with
// the same frozen clock, so updated_at cannot tell) is seen by the next
// booking all the same, and so is one made through this Service.
func TestBookingSeesResourceChangesFromOtherReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	ctx := context.Background()
	other := calendar.New(f.db, calendar.Config{Events: events.Discard, Now: func() time.Time { return f.now }, Jobs: f.jobs, Accounts: f.accounts})
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk 1"})
	yes, no := true, false
	steps := []struct {
		name   string
		by     *calendar.Service
		change func(svc *calendar.Service) error
		want   string // the rule code refusing the next booking, "" for none
	}{
		{"retired elsewhere", other, func(svc *calendar.Service) error {
			_, err := svc.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{Retired: &yes})
			return err
		}, "resource_retired"},
		{"back in service here", f.svc, func(svc *calendar.Service) error {
			_, err := svc.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{Retired: &no})
			return err
		}, ""},
		{"managers only elsewhere", other, func(svc *calendar.Service) error {
			_, err := svc.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{MemberBookable: &no})
			return err
		}, "not_member_bookable"},
		{"members again elsewhere", other, func(svc *calendar.Service) error {
			_, err := svc.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{MemberBookable: &yes})
			return err
		}, ""},
		{"site closes at noon elsewhere", other, func(svc *calendar.Service) error {
			hours := calendar.OpeningHours{}
			for _, day := range calendar.Weekdays {
				hours[day] = [][2]string{{"08:00", "12:00"}}
			}
			_, err := svc.UpdateSite(ctx, bySystem(), f.site.ID, calendar.SiteUpdate{OpeningHours: hours})
			return err
		}, "outside_opening_hours"},
	}
	for i, st := range steps {
		// A booking fills the cache (a refused one too, from fresh rows);
		// then the change; then a booking on the same day at 14:00.
		if _, err := f.book(desk, u, f.at(3+i, 8, 0), f.at(3+i, 9, 0)); (err == nil) != (i == 0 || steps[i-1].want == "") {
			t.Fatalf("%s: booking before the change: %v", st.name, err)
		}
		if err := st.change(st.by); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		_, err := f.book(desk, u, f.at(3+i, 14, 0), f.at(3+i, 15, 0))
		switch {
		case st.want == "" && err != nil:
			t.Fatalf("%s: booking after the change: %v", st.name, err)
		case st.want != "" && ruleCode(err) != st.want:
			t.Fatalf("%s: booking after the change: %s, want %s", st.name, ruleCode(err), st.want)
		}
	}
}
