package calendar_test

import (
	"context"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
)

func TestAvailability(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	ctx := context.Background()
	a, b := f.users[0], f.users[1]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	laser := f.resource(t, calendar.NewResource{Kind: calendar.KindMachine, Name: "Laser", Rules: calendar.Rules{SlotMinutes: 15, BufferAfterMinutes: 15}})
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "Open space", Capacity: 3})
	for _, r := range []*calendar.Resource{desk, laser} {
		if _, err := f.book(r, a, f.at(3, 10, 0), f.at(3, 11, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{a, b} {
		if _, err := f.book(zone, u, f.at(3, 10, 0), f.at(3, 11, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.AddClosure(ctx, bySystem(), f.site.ID, time.Date(2026, 3, 3, 18, 0, 0, 0, f.paris), time.Date(2026, 3, 4, 0, 0, 0, 0, f.paris), "Assemblée générale"); err != nil {
		t.Fatal(err)
	}
	day := calendar.AvailabilityQuery{From: time.Date(2026, 3, 3, 0, 0, 0, 0, f.paris), To: time.Date(2026, 3, 4, 0, 0, 0, 0, f.paris)}
	type iv struct{ from, to string }
	local := func(fi []calendar.FreeInterval) []iv {
		out := []iv{}
		for _, x := range fi {
			out = append(out, iv{x.Start.In(f.paris).Format("15:04"), x.End.In(f.paris).Format("15:04")})
		}
		return out
	}
	tests := []struct {
		name  string
		res   *calendar.Resource
		seats int
		want  []iv
	}{
		{"desk", desk, 1, []iv{{"08:00", "10:00"}, {"11:00", "18:00"}}},
		// The laser cools down 15 min after a booking, and a booking before
		// 10:00 must leave 15 min before it.
		{"laser with buffer", laser, 1, []iv{{"08:00", "09:45"}, {"11:15", "18:00"}}},
		{"zone, one seat", zone, 1, []iv{{"08:00", "10:00"}, {"10:00", "11:00"}, {"11:00", "18:00"}}},
		{"zone, two seats", zone, 2, []iv{{"08:00", "10:00"}, {"11:00", "18:00"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := day
			q.Seats = tt.seats
			got, err := f.svc.ResourceAvailability(ctx, bySystem(), tt.res.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			if g := local(got.Free); len(g) != len(tt.want) || func() bool {
				for i := range g {
					if g[i] != tt.want[i] {
						return true
					}
				}
				return false
			}() {
				t.Fatalf("free = %v, want %v", g, tt.want)
			}
		})
	}
	all, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, calendar.AvailabilityQuery{From: day.From, To: day.To, Kind: calendar.KindZone, Seats: 1})
	if err != nil || len(all) != 1 || all[0].Resource.ID != zone.ID || all[0].Free[1].FreeSeats != 1 {
		t.Fatalf("site availability of zones = %+v, %v", all, err)
	}
	if _, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, calendar.AvailabilityQuery{From: day.From, To: day.From.AddDate(0, 2, 0)}); err == nil {
		t.Fatal("a two-month window was accepted")
	}
}

func TestAvailabilityOnDSTDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	always := calendar.OpeningHours{}
	for _, d := range calendar.Weekdays {
		always[d] = [][2]string{{"00:00", "24:00"}}
	}
	zone := f.resource(t, calendar.NewResource{Kind: calendar.KindZone, Name: "24/7", Capacity: 2, OpeningHours: always, Rules: calendar.Rules{HorizonDays: 365}})
	for _, tc := range []struct {
		day   time.Time
		hours float64
	}{
		{time.Date(2026, 3, 29, 0, 0, 0, 0, f.paris), 23},
		{time.Date(2026, 10, 25, 0, 0, 0, 0, f.paris), 25},
	} {
		got, err := f.svc.ResourceAvailability(ctx, bySystem(), zone.ID, calendar.AvailabilityQuery{From: tc.day, To: tc.day.AddDate(0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Free) != 1 || got.Free[0].End.Sub(got.Free[0].Start).Hours() != tc.hours {
			t.Fatalf("%s: free = %+v, want one interval of %v h", tc.day.Format("2 Jan"), got.Free, tc.hours)
		}
	}
}
