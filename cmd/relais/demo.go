package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/jobs"
	"github.com/relais-tierslieux/relais/invoicing"
)

// The demo's accounts. Their passwords are printed at every start: the demo
// is for a laptop, never for a server.
const (
	demoSiteName     = "La Fabrique (démo)"
	demoManagerEmail = "animatrice@demo.relais.test"
	demoTrainedEmail = "camille@demo.relais.test"
	demoMemberEmail  = "sacha@demo.relais.test"
	demoPassword     = "demo-relais-2026"
)

// demo is what seedDemo made or found.
type demo struct {
	site     *calendar.Site
	desk     *calendar.Resource
	laser    *calendar.Resource
	entrance *devices.Device
	devices  []demoDevice
}

// demoDevice is a device of the demo with its fresh MQTT password, for the
// in-process simulator that plays it.
type demoDevice struct {
	device *devices.Device
	secret string
}

// seedDemo creates the demo site once (a second start finds it), and gives
// its devices fresh secrets so the in-process simulators can connect.
func seedDemo(ctx context.Context, d *bun.DB, acc *identity.Service, cal *calendar.Service, bill *billing.Service, dev *devices.Service, now time.Time) (*demo, error) {
	out := &demo{}
	site, err := findDemoSite(ctx, cal)
	if err != nil {
		return nil, err
	}
	if site == nil {
		if err := createDemo(ctx, acc, cal, bill, dev, now); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if site, err = findDemoSite(ctx, cal); err != nil || site == nil {
			return nil, fmt.Errorf("demo: read site back: %v", err)
		}
	}
	out.site = site
	rs, err := cal.ListResources(ctx, identity.System(), out.site.ID, calendar.ResourceFilter{})
	if err != nil {
		return nil, err
	}
	for i := range rs {
		switch rs[i].Kind {
		case calendar.KindDesk:
			if out.desk == nil {
				out.desk = &rs[i]
			}
		case calendar.KindMachine:
			out.laser = &rs[i]
		}
	}
	ds, err := dev.List(ctx, out.site.ID)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		secret, err := dev.RotateSecret(ctx, demoOperator, ds[i].ID)
		if err != nil {
			return nil, err
		}
		out.devices = append(out.devices, demoDevice{device: &ds[i], secret: secret})
		if ds[i].Kind == devices.KindLock && ds[i].ResourceID == nil {
			out.entrance = &ds[i]
		}
	}
	if out.desk == nil || out.laser == nil || out.entrance == nil {
		return nil, errors.New("demo: the demo site lost its desk, laser or entrance; delete the demo database and start again")
	}
	if err := bookDemoLaser(ctx, d, acc, cal, out, now); err != nil {
		return nil, err
	}
	return out, nil
}

// demoAddress is the demo site's address, also its members' billing address.
var demoAddress = calendar.Address{Line1: "2 place de la Mairie", PostalCode: "23000", City: "Guéret", Country: "FR"}

// createDemo creates the demo site, its people, resources, plans and
// devices, in that order: each step uses what the ones before made.
func createDemo(ctx context.Context, acc *identity.Service, cal *calendar.Service, bill *billing.Service, dev *devices.Service, now time.Time) error {
	site, err := createDemoSite(ctx, cal)
	if err != nil {
		return err
	}
	manager, trained, member, err := createDemoPeople(ctx, acc, site.ID)
	if err != nil {
		return err
	}
	room, laser, err := createDemoResources(ctx, cal, site.ID, manager.ID, trained.ID)
	if err != nil {
		return err
	}
	if err := createDemoPlans(ctx, bill, site.ID, manager.ID, []*identity.User{trained, member}); err != nil {
		return err
	}
	return createDemoDevices(ctx, dev, site.ID, room, laser)
}

// createDemoSite creates the demo site, open day and night so that the demo
// works whenever it is tried.
func createDemoSite(ctx context.Context, cal *calendar.Service) (*calendar.Site, error) {
	hours := calendar.OpeningHours{}
	for _, day := range calendar.Weekdays {
		hours[day] = [][2]string{{"00:00", "24:00"}}
	}
	return cal.CreateSite(ctx, identity.System(), calendar.NewSite{Name: demoSiteName, Timezone: "Europe/Paris", Address: demoAddress, OpeningHours: hours,
		Legal: calendar.Legal{CompanyName: "SCIC La Fabrique", LegalForm: "SCIC SAS", SIRET: "73282932000074", VATNumber: "FR44732829320"}})
}

// createDemoPeople creates the demo's manager (an admin who manages the
// site), a member who will be trained on the laser, and another member.
func createDemoPeople(ctx context.Context, acc *identity.Service, siteID string) (manager, trained, member *identity.User, err error) {
	manager, _, err = acc.EnsureAdmin(ctx, demoManagerEmail, demoPassword)
	if err != nil {
		return nil, nil, nil, err
	}
	admin := &identity.Principal{UserID: manager.ID, Role: identity.RoleAdmin}
	if err := acc.AddManager(ctx, admin, siteID, manager.ID); err != nil {
		return nil, nil, nil, err
	}
	trained, err = acc.Register(ctx, identity.Registration{Email: demoTrainedEmail, Password: demoPassword, Name: "Camille Martin"})
	if err != nil {
		return nil, nil, nil, err
	}
	member, err = acc.Register(ctx, identity.Registration{Email: demoMemberEmail, Password: demoPassword, Name: "Sacha Bernard"})
	if err != nil {
		return nil, nil, nil, err
	}
	return manager, trained, member, nil
}

// createDemoResources creates the laser's qualification, granted by
// managerID to trainedID, and the site's resources; it returns the meeting
// room and the laser, which get devices.
func createDemoResources(ctx context.Context, cal *calendar.Service, siteID, managerID, trainedID string) (room, laser *calendar.Resource, err error) {
	qual, err := cal.CreateQualification(ctx, identity.System(), siteID, "Découpe laser — formation sécurité", "Formation d'une heure avec l'animatrice")
	if err != nil {
		return nil, nil, err
	}
	trainer := &identity.Principal{UserID: managerID, Role: identity.RoleAdmin}
	if _, err := cal.GrantQualification(ctx, trainer, qual.ID, trainedID, nil); err != nil {
		return nil, nil, err
	}
	rules := calendar.Rules{SlotMinutes: 15}
	resources := []calendar.NewResource{
		{Kind: calendar.KindDesk, Name: "Bureau 1", Capacity: 1, Rules: rules},
		{Kind: calendar.KindDesk, Name: "Bureau 2", Capacity: 1, Rules: rules},
		{Kind: calendar.KindRoom, Name: "Salle du conseil", Capacity: 8, Rules: rules, PricePerHourCents: 2000},
		{Kind: calendar.KindZone, Name: "Open space", Capacity: 10, Rules: rules},
		{Kind: calendar.KindMachine, Name: "Découpeuse laser", Capacity: 1, QualificationID: &qual.ID, PricePerHourCents: 1500,
			Rules: calendar.Rules{SlotMinutes: 15, BufferAfterMinutes: 10}},
	}
	for _, in := range resources {
		r, err := cal.CreateResource(ctx, identity.System(), siteID, in)
		if err != nil {
			return nil, nil, err
		}
		switch r.Kind {
		case calendar.KindRoom:
			room = r
		case calendar.KindMachine:
			laser = r
		}
	}
	return room, laser, nil
}

// createDemoPlans creates the site's plans, and the membership of
// "Résident" that managerID sold, paid in cash, to each of members.
func createDemoPlans(ctx context.Context, bill *billing.Service, siteID, managerID string, members []*identity.User) error {
	everything := []string{calendar.KindDesk, calendar.KindZone, calendar.KindRoom, calendar.KindMachine}
	resident, err := bill.CreatePlan(ctx, billing.NewPlan{SiteID: &siteID, Kind: billing.PlanMembership, Name: "Résident", PriceCents: 50000,
		Includes: billing.Includes{ResourceKinds: everything, DoorAccess: billing.DoorAlways, PayPerUse: true,
			Allowances: []billing.Allowance{{ResourceKind: calendar.KindRoom, MinutesPerPeriod: 8 * 60}, {ResourceKind: calendar.KindMachine, MinutesPerPeriod: 120}}}})
	if err != nil {
		return err
	}
	if _, err := bill.CreatePlan(ctx, billing.NewPlan{SiteID: &siteID, Kind: billing.PlanMembership, Name: "Nomade", PriceCents: 30000,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindZone}, DoorAccess: billing.DoorOpeningHours}}); err != nil {
		return err
	}
	if _, err := bill.CreatePlan(ctx, billing.NewPlan{SiteID: &siteID, Kind: billing.PlanDayPass, Name: "Pass journée", PriceCents: 2500,
		Includes: billing.Includes{ResourceKinds: []string{calendar.KindDesk, calendar.KindZone}, DoorAccess: billing.DoorOpeningHours}}); err != nil {
		return err
	}
	for _, u := range members {
		if _, err := bill.RecordOnSitePayment(ctx, billing.OnSitePayment{SiteID: siteID, UserID: u.ID, PlanID: resident.ID,
			Method: billing.MethodCash, AmountCents: resident.PriceCents, RecordedBy: managerID,
			Buyer: &invoicing.Buyer{UserID: u.ID, Name: u.Name, Email: u.Email, Address: demoAddress}}); err != nil {
			return err
		}
	}
	return nil
}

// createDemoDevices registers one device per protocol, so the demo shows
// each adapter at work: the entrance, the meeting room's door, the laser's
// power.
func createDemoDevices(ctx context.Context, dev *devices.Service, siteID string, room, laser *calendar.Resource) error {
	for _, in := range []devices.NewDevice{
		{Kind: devices.KindLock, Name: "Porte d'entrée", Protocol: devices.ProtocolRelais, Address: "entree"},
		{Kind: devices.KindLock, Name: "Porte de la salle du conseil", ResourceID: &room.ID, Protocol: devices.ProtocolShelly, Address: "shellyplus1-demo-salle"},
		{Kind: devices.KindRelay, Name: "Prise de la découpeuse laser", ResourceID: &laser.ID, Protocol: devices.ProtocolTasmota, Address: "tasmota_laser", Channel: 1},
	} {
		in.SiteID = siteID
		if _, _, err := dev.Create(ctx, demoOperator, in); err != nil {
			return err
		}
	}
	return nil
}

// findDemoSite returns the demo's site, found by its name through
// calendar's listing (the demo database holds a handful of sites), or nil.
func findDemoSite(ctx context.Context, cal *calendar.Service) (*calendar.Site, error) {
	after := ""
	for {
		sites, next, err := cal.ListSites(ctx, after, 100)
		if err != nil {
			return nil, fmt.Errorf("demo: find site: %w", err)
		}
		for i := range sites {
			if sites[i].Name == demoSiteName {
				return &sites[i], nil
			}
		}
		if next == "" {
			return nil, nil
		}
		after = next
	}
}

// bookDemoLaser makes sure the trained member holds the laser now, so that
// "start the laser" works at once. A booking cannot start in the past, so
// it is made with a calendar whose clock is set back an hour.
func bookDemoLaser(ctx context.Context, d *bun.DB, acc *identity.Service, cal *calendar.Service, dm *demo, now time.Time) error {
	member, err := acc.ContactByEmail(ctx, d, demoTrainedEmail)
	if err != nil {
		return fmt.Errorf("demo: find member: %w", err)
	}
	userID := member.ID
	held, err := cal.ReservationAt(ctx, d, dm.laser.ID, userID, now, 0)
	if err != nil || held != nil {
		return err
	}
	start := now.Truncate(15 * time.Minute)
	queue, err := jobs.NewQueue(d)
	if err != nil {
		return err
	}
	past := calendar.New(d, calendar.Config{Events: events.Discard, Now: func() time.Time { return start.Add(-time.Hour) }, Jobs: queue, Accounts: acc})
	_, err = past.Book(ctx, calendar.Booking{ResourceID: dm.laser.ID, UserID: userID, By: identity.System(),
		Start: start.Format(time.RFC3339), End: start.Add(2 * time.Hour).Format(time.RFC3339), Note: "démo"})
	if err != nil {
		return fmt.Errorf("demo: book the laser: %w", err)
	}
	return nil
}

// printDemo writes the credentials and three commands to paste.
func printDemo(w io.Writer, base string, dm *demo, now time.Time) {
	loc := dm.site.Location()
	tomorrow := now.In(loc).AddDate(0, 0, 1)
	day := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 9, 0, 0, 0, loc)
	login := func(email string) string {
		return fmt.Sprintf(`$(curl -s -X POST %s/v1/auth/login -H 'Content-Type: application/json' -d '{"email":"%s","password":"%s"}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')`, base, email, demoPassword)
	}
	fmt.Fprintf(w, `
Relais demo — %s (Europe/Paris), devices simulated in-process.

  manager (admin)    %s  /  %s
  member, trained    %s  /  %s   (Résident, holds the laser cutter now)
  member             %s  /  %s   (Résident)

Log in as the trained member:

  TOKEN=%s

1. Book a desk for tomorrow morning:

  curl -s -X POST %s/v1/reservations -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"resource_id":"%s","start":"%s","end":"%s"}'

2. Open the front door (the simulated lock confirms):

  curl -s -X POST %s/v1/doors/%s/unlock -H "Authorization: Bearer $TOKEN"

3. Switch the laser cutter on for your slot (and off with DELETE):

  curl -s -X POST %s/v1/machines/%s/session -H "Authorization: Bearer $TOKEN"

Every decision is in the audit: GET %s/v1/sites/%s/access-events (as the manager).

`, demoSiteName, demoManagerEmail, demoPassword, demoTrainedEmail, demoPassword, demoMemberEmail, demoPassword,
		login(demoTrainedEmail),
		base, dm.desk.ID, day.Format(time.RFC3339), day.Add(3*time.Hour).Format(time.RFC3339),
		base, dm.entrance.ID, base, dm.laser.ID, base, dm.site.ID)
}

// simulateDemo runs a simulated device for each device of the demo site,
// in-process, against the broker relais uses.
func simulateDemo(ctx context.Context, dm *demo, brokerURL string, log *slog.Logger) (func(), error) {
	var sims []*devicesim.Sim
	stop := func() {
		for _, s := range sims {
			s.Close()
		}
	}
	for _, dd := range dm.devices {
		cfg := devicesim.ForDevice(dd.device, dd.secret, brokerURL)
		cfg.Logger = log
		cfg.AutoRelock = 5 * time.Second
		startCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		s, err := devicesim.Start(startCtx, cfg)
		cancel()
		if err != nil {
			stop()
			return nil, fmt.Errorf("demo: simulate %s: %w", dd.device.Name, err)
		}
		sims = append(sims, s)
	}
	return stop, nil
}

// demoOperator is the administrator the demo sets the devices up as, the
// way a network's administrator would through the API.
var demoOperator = &identity.Principal{UserID: "demo", Role: identity.RoleAdmin}
