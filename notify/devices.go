package notify

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/access"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
)

// Mails about equipment: to a member, that the machine they use is about
// to be switched off (access's warning before the end of their session);
// to a site's managers, that one of its devices has been offline for
// DeviceOfflineAlert.

// DefaultDeviceOfflineAlert is how long a device stays offline before its
// site's managers are mailed, unless the Publisher says otherwise.
const DefaultDeviceOfflineAlert = 10 * time.Minute

// Devices is what notify reads of devices (*devices.Service).
type Devices interface {
	Get(ctx context.Context, deviceID string) (*devices.Device, error)
}

// Managers is what notify reads of identity about a site's managers
// (*identity.Service).
type Managers interface {
	SiteManagerRecipients(ctx context.Context, idb bun.IDB, siteID string) ([]identity.Recipient, error)
}

// MachineMailArgs is a machine about to be switched off, to tell the
// member whose session it is. One per session (unique by its arguments).
type MachineMailArgs struct {
	Notice access.MachineNotice `json:"notice"`
	SiteID string               `json:"site_id"`
}

// Kind names the job in river_job.
func (MachineMailArgs) Kind() string { return "notify.machine" }

// DeviceOfflineArgs checks, DeviceOfflineAlert after a device went
// offline at OfflineAt, whether it still is, and then mails its site's
// managers.
type DeviceOfflineArgs struct {
	DeviceID  string    `json:"device_id"`
	SiteID    string    `json:"site_id"`
	OfflineAt time.Time `json:"offline_at"`
}

// Kind names the job in river_job.
func (DeviceOfflineArgs) Kind() string { return "notify.device_offline" }

// deviceArgs is the job of a machine warning or a device going offline,
// with its options, or nil.
func (p *Publisher) deviceArgs(e events.Event) (river.JobArgs, *river.InsertOpts) {
	unique := river.UniqueOpts{ByArgs: true}
	switch d := e.Data.(type) {
	case access.MachineNotice:
		if e.Type == access.EventPowerOffSoon {
			return MachineMailArgs{Notice: d, SiteID: e.SiteID}, &river.InsertOpts{UniqueOpts: unique}
		}
	case access.AccessEvent:
		if e.Type == access.EventDeviceIsOff && d.DeviceID != nil {
			wait := p.DeviceOfflineAlert
			if wait <= 0 {
				wait = DefaultDeviceOfflineAlert
			}
			args := DeviceOfflineArgs{DeviceID: *d.DeviceID, SiteID: e.SiteID, OfflineAt: d.OccurredAt.UTC()}
			return args, &river.InsertOpts{ScheduledAt: args.OfflineAt.Add(wait), UniqueOpts: unique}
		}
	}
	return nil, nil
}

// addNoticeWorkers registers the workers of billing.go, credits.go and
// this file.
func (s *Service) addNoticeWorkers(w *river.Workers) error {
	for _, add := range []func(*river.Workers) error{
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &membershipWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &paymentWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &creditWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &creditSweepWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &creditExpiryWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &machineWorker{svc: s}) },
		func(w *river.Workers) error { return river.AddWorkerSafely(w, &deviceOfflineWorker{svc: s}) },
	} {
		if err := add(w); err != nil {
			return err
		}
	}
	return nil
}

// machineData is what the machine mail shows.
type machineData struct {
	noticeData
	Machine, Off string
	Minutes      int
}

type machineWorker struct {
	river.WorkerDefaults[MachineMailArgs]
	svc *Service
}

// Work mails the member that their machine goes off soon, unless that
// time has passed already (a job run late tells nothing useful).
func (w *machineWorker) Work(ctx context.Context, job *river.Job[MachineMailArgs]) error {
	s, n := w.svc, job.Args.Notice
	left := n.EndsAt.Sub(s.now())
	if left <= 0 {
		return nil
	}
	to, ok, err := s.recipient(ctx, n.UserID)
	if err != nil || !ok || !wants(to, identity.CategoryMachines) {
		return err
	}
	res, err := s.cal.GetResource(ctx, n.ResourceID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read machine %s: %w", n.ResourceID, err)
	}
	siteID := job.Args.SiteID
	nd, site, err := s.siteData(ctx, to.Name, &siteID)
	if err != nil {
		return err
	}
	d := machineData{noticeData: nd, Machine: res.Name, Minutes: int(math.Ceil(left.Minutes())),
		Off: formatClock(n.EndsAt.In(siteZone(site)), to.Language)}
	return s.mailTo(ctx, to, site, identity.CategoryMachines, "machine_power_off", d)
}

// deviceData is what the device mail shows.
type deviceData struct {
	noticeData
	Device, Since string
	Minutes       int
}

type deviceOfflineWorker struct {
	river.WorkerDefaults[DeviceOfflineArgs]
	svc *Service
}

// Work mails the site's managers if the device is still offline and has
// not come back in between: last_seen_at moves only when the device is
// heard online, so a device seen after OfflineAt came back (and, if it
// went offline again, that has its own job). A retired device mails no one.
func (w *deviceOfflineWorker) Work(ctx context.Context, job *river.Job[DeviceOfflineArgs]) error {
	s, a := w.svc, job.Args
	if s.devices == nil || s.managers == nil {
		return errors.New("notify: Config.Devices and Config.Managers are required for device mails")
	}
	d, err := s.devices.Get(ctx, a.DeviceID)
	if errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read device %s: %w", a.DeviceID, err)
	}
	if d.Online || d.RetiredAt != nil || (d.LastSeenAt != nil && d.LastSeenAt.After(a.OfflineAt)) {
		return nil
	}
	managers, err := s.managers.SiteManagerRecipients(ctx, s.db, d.SiteID)
	if err != nil {
		return err
	}
	var errs []error
	for _, to := range managers {
		if err := s.mailDeviceOffline(ctx, to, d, a.OfflineAt); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mailDeviceOffline tells one manager. A retry after a partial failure
// mails again those the first attempt reached: better twice than never.
func (s *Service) mailDeviceOffline(ctx context.Context, to identity.Recipient, d *devices.Device, since time.Time) error {
	nd, site, err := s.siteData(ctx, to.Name, &d.SiteID)
	if err != nil {
		return err
	}
	at := since.In(siteZone(site))
	data := deviceData{noticeData: nd, Device: d.Name, Minutes: int(s.now().Sub(since).Minutes()),
		Since: formatDate(at, to.Language) + ", " + formatClock(at, to.Language)}
	return s.mailTo(ctx, to, site, identity.CategoryDevices, "device_offline", data)
}
