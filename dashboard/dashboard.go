// Package dashboard is the figures a site's managers read every morning:
// occupancy, who is here, today's arrivals and bookings, revenue, members,
// machine hours, devices offline, waiting lists and no-shows. It owns no
// table: each domain sums its own rows (the for_dashboard.go of calendar,
// billing, invoicing, access and devices), read here through small
// interfaces, and this package combines them.
package dashboard

import (
	"context"
	"sort"
	"time"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/invoicing"
)

// Calendar is what the dashboard reads of calendar (*calendar.Service).
type Calendar interface {
	GetSite(ctx context.Context, siteID string) (*calendar.Site, error)
	Occupancy(ctx context.Context, siteID string, from, to time.Time) ([]calendar.OccupancyDay, error)
	Bookings(ctx context.Context, siteID string, from, to, now time.Time) (calendar.BookingFigures, error)
	CheckIns(ctx context.Context, siteID string, from, to time.Time) ([]calendar.Arrival, error)
}

// Billing is what the dashboard reads of billing (*billing.Service).
type Billing interface {
	Members(ctx context.Context, siteID string, from, to, now time.Time) (billing.MemberFigures, error)
	InvoicePurposes(ctx context.Context, invoiceIDs []string) (map[string]string, error)
}

// Invoices is what the dashboard reads of invoicing (*invoicing.Invoicer).
type Invoices interface {
	RevenueDocuments(ctx context.Context, siteID string, from, to time.Time) ([]invoicing.RevenueDocument, error)
}

// Access is what the dashboard reads of the gate (*access.Events).
type Access interface {
	DoorGrants(ctx context.Context, siteID string, from, to time.Time) ([]access.DoorGrant, error)
	MachineMinutes(ctx context.Context, siteID string, from, to, now time.Time) (int64, error)
}

// Devices is what the dashboard reads of devices (*devices.Service).
type Devices interface {
	Offline(ctx context.Context, siteID string) ([]devices.OfflineDevice, error)
}

// Config gives the service the domains it reads; all are required.
type Config struct {
	Now      func() time.Time
	Calendar Calendar
	Billing  Billing
	Invoices Invoices
	Access   Access
	Devices  Devices
}

// Service computes a site's dashboard.
type Service struct{ cfg Config }

// New returns the dashboard's service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}
}

// HereWindow is how far back "here now" looks: a member whose door opened
// or who checked in within the last four hours is counted here. Relais
// does not see people leave (doors open from outside only), so this is an
// estimate of who is in, a morning or an afternoon long.
const HereWindow = 4 * time.Hour

// MaxDays bounds a dashboard's period.
const MaxDays = 366

// Dashboard is the figures of a site over [From, To] (local dates, both
// included), and now.
type Dashboard struct {
	SiteID         string             `json:"site_id"`
	Timezone       string             `json:"timezone"`
	From           string             `json:"from"`
	To             string             `json:"to"`
	GeneratedAt    time.Time          `json:"generated_at"`
	Occupancy      []Occupancy        `json:"occupancy"`
	HereNow        HereNow            `json:"here_now"`
	Today          Today              `json:"today"`
	Bookings       int                `json:"bookings"`
	NoShows        int                `json:"no_shows"`
	WaitingOpen    int                `json:"waiting_list_entries_open"`
	Revenue        []Revenue          `json:"revenue"`
	Members        Members            `json:"members"`
	MachineHours   float64            `json:"machine_hours"`
	DevicesOffline []OfflineDeviceOut `json:"devices_offline"`
}

// Occupancy is one resource kind on one local day.
type Occupancy struct {
	Day         string  `json:"day"`
	Kind        string  `json:"kind"`
	BookedHours float64 `json:"booked_hours"`
	OpenHours   float64 `json:"open_hours"`
	// Rate is booked ÷ open, null when nothing was open.
	Rate *float64 `json:"rate"`
}

// HereNow is who came in within HereWindow.
type HereNow struct {
	Since  time.Time `json:"since"`
	Count  int       `json:"count"`
	People []Person  `json:"people"`
}

// Person is a member seen at the site, with the last time.
type Person struct {
	UserID   string    `json:"user_id"`
	LastSeen time.Time `json:"last_seen_at"`
	// Name is the account's, which the API adds for the console (the
	// dashboard reads no accounts).
	Name string `json:"name"`
}

// Today is the site's local day of now.
type Today struct {
	Date string `json:"date"`
	// Arrivals: members who opened a door or checked in today.
	Arrivals int `json:"arrivals"`
	// Bookings: confirmed bookings starting today.
	Bookings int `json:"bookings"`
}

// Revenue is the invoiced amounts of one kind in one local month (credit
// notes deducted).
type Revenue struct {
	Month    string `json:"month"`
	Kind     string `json:"kind"`
	HTCents  int64  `json:"ht_cents"`
	TTCCents int64  `json:"ttc_cents"`
}

// Members counts the site's members.
type Members struct {
	Active int `json:"active"`
	New    int `json:"new"`
}

// OfflineDeviceOut is a device offline now.
type OfflineDeviceOut struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	LastSeenAt *time.Time `json:"last_seen_at"`
}

// Read computes the dashboard of siteID for p over the local dates from
// and to (YYYY-MM-DD or YYYY-MM, both included; empty: today).
func (s *Service) Read(ctx context.Context, p *identity.Principal, siteID, from, to string) (*Dashboard, error) {
	site, err := s.cfg.Calendar.GetSite(ctx, siteID)
	if err != nil {
		return nil, err
	}
	if err := mayReadDashboard(p, siteID); err != nil {
		return nil, err
	}
	loc := site.Location()
	now := s.cfg.Now().UTC()
	start, end, err := period(from, to, now, loc)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{SiteID: siteID, Timezone: site.Timezone, From: start.Format(time.DateOnly),
		To: end.AddDate(0, 0, -1).Format(time.DateOnly), GeneratedAt: now}
	for _, step := range []func(context.Context, *Dashboard, time.Time, time.Time, time.Time, *time.Location) error{
		s.occupancy, s.presence, s.bookings, s.revenue, s.members, s.machines, s.devices,
	} {
		if err := step(ctx, d, start, end, now, loc); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (s *Service) occupancy(ctx context.Context, d *Dashboard, start, end, _ time.Time, _ *time.Location) error {
	days, err := s.cfg.Calendar.Occupancy(ctx, d.SiteID, start, end)
	if err != nil {
		return err
	}
	d.Occupancy = make([]Occupancy, len(days))
	for i, o := range days {
		d.Occupancy[i] = Occupancy{Day: o.Day, Kind: o.Kind, BookedHours: hours(o.BookedMinutes), OpenHours: hours(o.OpenMinutes)}
		if o.OpenMinutes > 0 {
			r := float64(o.BookedMinutes) / float64(o.OpenMinutes)
			d.Occupancy[i].Rate = &r
		}
	}
	return nil
}

// presence: here now (door grants and check-ins within HereWindow) and
// today's arrivals (the same, since local midnight), each member once.
func (s *Service) presence(ctx context.Context, d *Dashboard, _, _, now time.Time, loc *time.Location) error {
	l := now.In(loc)
	midnight := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	since := now.Add(-HereWindow)
	earliest := since
	if midnight.Before(earliest) {
		earliest = midnight
	}
	seen, err := s.seen(ctx, d.SiteID, earliest, now)
	if err != nil {
		return err
	}
	d.HereNow = HereNow{Since: since, People: []Person{}}
	d.Today.Date = midnight.Format(time.DateOnly)
	for user, times := range seen {
		last := times[len(times)-1]
		if !last.Before(since) {
			d.HereNow.People = append(d.HereNow.People, Person{UserID: user, LastSeen: last})
		}
		if !last.Before(midnight) {
			d.Today.Arrivals++
		}
	}
	sort.Slice(d.HereNow.People, func(i, j int) bool {
		a, b := d.HereNow.People[i], d.HereNow.People[j]
		return a.LastSeen.After(b.LastSeen) || a.LastSeen.Equal(b.LastSeen) && a.UserID < b.UserID
	})
	d.HereNow.Count = len(d.HereNow.People)
	return nil
}

// seen returns, per member, the times of their door grants and check-ins
// at siteID in [from, to], sorted.
func (s *Service) seen(ctx context.Context, siteID string, from, to time.Time) (map[string][]time.Time, error) {
	grants, err := s.cfg.Access.DoorGrants(ctx, siteID, from, to.Add(time.Microsecond))
	if err != nil {
		return nil, err
	}
	checkins, err := s.cfg.Calendar.CheckIns(ctx, siteID, from, to.Add(time.Microsecond))
	if err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	for _, g := range grants {
		out[g.UserID] = append(out[g.UserID], g.At)
	}
	for _, c := range checkins {
		out[c.UserID] = append(out[c.UserID], c.At)
	}
	for _, ts := range out {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	}
	return out, nil
}

func (s *Service) bookings(ctx context.Context, d *Dashboard, start, end, now time.Time, loc *time.Location) error {
	f, err := s.cfg.Calendar.Bookings(ctx, d.SiteID, start, end, now)
	if err != nil {
		return err
	}
	d.Bookings, d.NoShows, d.WaitingOpen = f.Bookings, f.NoShows, f.WaitingOpen
	midnight, _ := time.ParseInLocation(time.DateOnly, d.Today.Date, loc)
	today, err := s.cfg.Calendar.Bookings(ctx, d.SiteID, midnight, midnight.AddDate(0, 0, 1), now)
	if err != nil {
		return err
	}
	d.Today.Bookings = today.Bookings
	return nil
}

func (s *Service) members(ctx context.Context, d *Dashboard, start, end, now time.Time, _ *time.Location) error {
	m, err := s.cfg.Billing.Members(ctx, d.SiteID, start, end, now)
	d.Members = Members{Active: m.Active, New: m.New}
	return err
}

func (s *Service) machines(ctx context.Context, d *Dashboard, start, end, now time.Time, _ *time.Location) error {
	minutes, err := s.cfg.Access.MachineMinutes(ctx, d.SiteID, start, end, now)
	d.MachineHours = hours(minutes)
	return err
}

func (s *Service) devices(ctx context.Context, d *Dashboard, _, _, _ time.Time, _ *time.Location) error {
	off, err := s.cfg.Devices.Offline(ctx, d.SiteID)
	if err != nil {
		return err
	}
	d.DevicesOffline = make([]OfflineDeviceOut, len(off))
	for i, o := range off {
		d.DevicesOffline[i] = OfflineDeviceOut{ID: o.ID, Name: o.Name, Kind: o.Kind, LastSeenAt: o.LastSeenAt}
	}
	return nil
}

// hours turns minutes into hours, to the hundredth.
func hours(minutes int64) float64 {
	return float64(minutes*100/60) / 100
}
