package calendar_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/internal/events"
)

// Availability keeps a site's reservations in memory (busyCache). Whatever
// changes them — a booking, move or cancellation made through another
// replica (another Service on the same database), or a row written by hand —
// shows in the very next answer; a hold stops counting at its expiry
// without any write; a request outside the window kept reads afresh.
func TestAvailabilitySeesEveryChange(t *testing.T) {
	t.Parallel()
	paris, _ := time.LoadLocation("Europe/Paris")
	clock := time.Date(2026, 3, 2, 7, 0, 0, 0, paris)
	f := newFixtureWith(t, 1, calendar.Config{Events: events.Discard, Now: func() time.Time { return clock }}, clock)
	ctx := context.Background()
	other := calendar.New(f.db, calendar.Config{Events: events.Discard, Now: func() time.Time { return clock }, Jobs: f.jobs, Accounts: f.accounts})
	u := f.users[0]
	desk := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Desk"})
	neighbour := f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: "Neighbour"})
	if _, err := f.book(neighbour, u, f.at(3, 8, 0), f.at(3, 9, 0)); err != nil {
		t.Fatal(err)
	}
	free := func(day int) string {
		t.Helper()
		q := calendar.AvailabilityQuery{From: time.Date(2026, 3, day, 0, 0, 0, 0, paris), To: time.Date(2026, 3, day+1, 0, 0, 0, 0, paris)}
		all, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(all, func(a calendar.Availability) bool { return a.Resource.ID == desk.ID })
		s := ""
		for _, x := range all[i].Free {
			s += fmt.Sprintf("%s-%s ", x.Start.In(paris).Format("15:04"), x.End.In(paris).Format("15:04"))
		}
		return s
	}
	expect := func(step string, day int, want string) {
		t.Helper()
		if got := free(day); got != want {
			t.Fatalf("%s: free on the %d = %q, want %q", step, day, got, want)
		}
	}
	expect("at first", 3, "08:00-20:00 ")

	r, err := other.Book(ctx, calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: f.at(3, 10, 0), End: f.at(3, 11, 0)})
	if err != nil {
		t.Fatal(err)
	}
	expect("booked elsewhere", 3, "08:00-10:00 11:00-20:00 ")

	if _, err := other.MoveReservation(ctx, calendar.Move{ReservationID: r.ID, By: byMember(u), Start: f.at(3, 14, 0), End: f.at(3, 15, 0)}); err != nil {
		t.Fatal(err)
	}
	expect("moved elsewhere", 3, "08:00-14:00 15:00-20:00 ")

	// Held until 09:00 on the 2nd: busy before, free after, with no write.
	f.exec(t, "UPDATE reservations SET status = ?, hold_expires_at = ? WHERE id = ?", calendar.StatusHeld, time.Date(2026, 3, 2, 9, 0, 0, 0, paris).UTC(), r.ID)
	expect("held", 3, "08:00-14:00 15:00-20:00 ")
	clock = time.Date(2026, 3, 2, 9, 0, 0, 0, paris)
	expect("the hold lapsed", 3, "08:00-20:00 ")

	f.exec(t, "UPDATE reservations SET status = ?, hold_expires_at = NULL WHERE id = ?", calendar.StatusConfirmed, r.ID)
	expect("confirmed by hand", 3, "08:00-14:00 15:00-20:00 ")

	if _, err := other.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: byMember(u)}); err != nil {
		t.Fatal(err)
	}
	expect("cancelled elsewhere", 3, "08:00-20:00 ")

	// Another day: outside the window kept, read afresh.
	if _, err := other.Book(ctx, calendar.Booking{ResourceID: desk.ID, UserID: u, By: byMember(u), Start: f.at(10, 9, 0), End: f.at(10, 12, 0)}); err != nil {
		t.Fatal(err)
	}
	expect("another week", 10, "08:00-09:00 12:00-20:00 ")
	expect("back to the first day", 3, "08:00-20:00 ")

	// Deleted by hand (an erasure): the counter moves too.
	f.exec(t, "DELETE FROM reservations WHERE resource_id = ?", desk.ID)
	expect("deleted by hand", 10, "08:00-20:00 ")

	// Closures of the site and of the desk, added and removed elsewhere.
	at := func(h int) time.Time { return time.Date(2026, 3, 10, h, 0, 0, 0, paris) }
	sc, err := other.AddClosure(ctx, bySystem(), f.site.ID, at(12), at(14), "Assemblée générale")
	if err != nil {
		t.Fatal(err)
	}
	expect("site closed elsewhere", 10, "08:00-12:00 14:00-20:00 ")
	rc, err := other.AddResourceClosure(ctx, bySystem(), desk.ID, at(16), at(17), "Maintenance")
	if err != nil {
		t.Fatal(err)
	}
	expect("desk closed elsewhere", 10, "08:00-12:00 14:00-16:00 17:00-20:00 ")
	if err := other.DeleteClosure(ctx, bySystem(), f.site.ID, sc.ID); err != nil {
		t.Fatal(err)
	}
	if err := other.DeleteResourceClosure(ctx, bySystem(), desk.ID, rc.ID); err != nil {
		t.Fatal(err)
	}
	expect("closures removed elsewhere", 10, "08:00-20:00 ")

	// The resources themselves, changed elsewhere: hours, retirement, a new one.
	hours := calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		hours[day] = [][2]string{{"09:00", "12:00"}}
	}
	if _, err := other.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{OpeningHours: hours}); err != nil {
		t.Fatal(err)
	}
	expect("hours changed elsewhere", 10, "09:00-12:00 ")
	yes := true
	if _, err := other.UpdateResource(ctx, bySystem(), desk.ID, calendar.ResourceUpdate{Retired: &yes}); err != nil {
		t.Fatal(err)
	}
	added, err := other.CreateResource(ctx, bySystem(), f.site.ID, calendar.NewResource{Kind: calendar.KindDesk, Name: "Added"})
	if err != nil {
		t.Fatal(err)
	}
	q := calendar.AvailabilityQuery{From: time.Date(2026, 3, 10, 0, 0, 0, 0, paris), To: time.Date(2026, 3, 11, 0, 0, 0, 0, paris)}
	all, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, q)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range all {
		names = append(names, a.Resource.Name)
	}
	if !slices.Equal(names, []string{added.Name, neighbour.Name}) {
		t.Fatalf("resources after a retirement and an addition elsewhere: %v", names)
	}
}

// withDesks is a fixture with n desks, and another Service on its database
// (another replica, without this one's cache).
func withDesks(t *testing.T, n int) (*fixture, *calendar.Service, []*calendar.Resource) {
	t.Helper()
	f := newFixture(t, 1)
	other := calendar.New(f.db, calendar.Config{Events: events.Discard, Now: func() time.Time { return f.now }, Jobs: f.jobs, Accounts: f.accounts})
	var desks []*calendar.Resource
	for i := range n {
		desks = append(desks, f.resource(t, calendar.NewResource{Kind: calendar.KindDesk, Name: fmt.Sprintf("Desk %d", i)}))
	}
	return f, other, desks
}

// When more resources changed than are worth reading one by one, the whole
// window is read again, and every change shows.
func TestAvailabilityAfterManyChanges(t *testing.T) {
	t.Parallel()
	f, other, desks := withDesks(t, 80)
	ctx, u := context.Background(), f.users[0]
	q := calendar.AvailabilityQuery{From: time.Date(2026, 3, 3, 0, 0, 0, 0, f.paris), To: time.Date(2026, 3, 4, 0, 0, 0, 0, f.paris)}
	freeSpans := func() int {
		all, err := f.svc.SiteAvailability(ctx, bySystem(), f.site.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range all {
			n += len(a.Free)
		}
		return n
	}
	if n := freeSpans(); n != len(desks) {
		t.Fatalf("%d free spans at first, want one per desk", n)
	}
	for _, d := range desks {
		if _, err := other.Book(ctx, calendar.Booking{ResourceID: d.ID, UserID: u, By: byMember(u), Start: f.at(3, 12, 0), End: f.at(3, 13, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := freeSpans(); n != 2*len(desks) {
		t.Fatalf("%d free spans after booking every desk at noon, want two per desk", n)
	}
}

// Availability read while bookings land, from several goroutines: no data
// race (under -race), and once the writes stop the cached answer equals the
// one a Service with no cache computes.
func TestAvailabilityUnderConcurrentBookings(t *testing.T) {
	t.Parallel()
	f, writer, desks := withDesks(t, 6)
	ctx, u := context.Background(), f.users[0]
	q := calendar.AvailabilityQuery{From: time.Date(2026, 3, 3, 0, 0, 0, 0, f.paris), To: time.Date(2026, 3, 5, 0, 0, 0, 0, f.paris)}
	render := func(svc *calendar.Service) string {
		all, err := svc.SiteAvailability(ctx, bySystem(), f.site.ID, q)
		if err != nil {
			t.Error(err)
			return ""
		}
		s := ""
		for _, a := range all {
			s += a.Resource.Name + ":"
			for _, x := range a.Free {
				s += x.Start.Format(time.RFC3339) + "/" + x.End.Format(time.RFC3339) + " "
			}
		}
		return s
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
					render(f.svc)
				}
			}
		}()
	}
	var (
		writers sync.WaitGroup
		booked  atomic.Int32
	)
	for w := range 3 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 8 {
				d := desks[(w+i)%len(desks)]
				day, hour := 3+i%2, 8+(w*4+i)%12
				r, err := writer.Book(ctx, calendar.Booking{ResourceID: d.ID, UserID: u, By: byMember(u), Start: f.at(day, hour, 0), End: f.at(day, hour+1, 0)})
				if err == nil {
					booked.Add(1)
				}
				if err == nil && i%3 == 0 {
					if _, err := writer.Cancel(ctx, calendar.Cancellation{ReservationID: r.ID, By: byMember(u)}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	writers.Wait()
	close(done)
	readers.Wait()
	if booked.Load() == 0 {
		t.Fatal("no booking went through")
	}
	fresh := calendar.New(f.db, calendar.Config{Events: events.Discard, Now: func() time.Time { return f.now }, Jobs: f.jobs, Accounts: f.accounts})
	if got, want := render(f.svc), render(fresh); got != want {
		t.Fatalf("cached availability after the writes:\n%s\nwant (no cache):\n%s", got, want)
	}
}
