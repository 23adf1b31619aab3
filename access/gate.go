// Package access is the gate: it decides, from a member's rights (billing)
// and bookings (calendar), whether a door opens or a machine switches on,
// records every decision before it acts, and runs machine sessions.
package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/events"
	"github.com/relais-tierslieux/relais/internal/freetext"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/jobs"
)

// Devices is what the gate needs from the devices package: find a device and
// send it a command, waiting for its confirmation.
type Devices interface {
	Get(ctx context.Context, id string) (*devices.Device, error)
	List(ctx context.Context, siteID string) ([]devices.Device, error)
	Send(ctx context.Context, d *devices.Device, cmd devices.Command) (*devices.Result, error)
}

// GateConfig tunes doors and machines. Zero values take the defaults.
type GateConfig struct {
	Now    func() time.Time
	Logger *slog.Logger
	// RoomMargin opens a room's lock this long before a reservation starts
	// and after it ends; default 10 min.
	RoomMargin time.Duration
	// MachineGrace keeps a machine powered this long after the slot ends
	// (to finish a cut), unless the next booking starts sooner; default 5 min.
	MachineGrace time.Duration
	// MachineWarning records a warning event this long before the power
	// goes off; default 5 min.
	MachineWarning time.Duration
	// DurableAudit makes every door decision wait, on PostgreSQL, for the
	// write-ahead log's flush to disk before its command goes out, and the
	// lock's answer before the door answers. Off by default: both are then
	// committed at once and on disk within three times wal_writer_delay, so
	// only a crash of PostgreSQL or its machine in that time could lose
	// them (see eventInsertSQL). Machine sessions are always durable.
	DurableAudit bool
	// DeadMan is the device-side auto-off relais sets on a relay and
	// refreshes while the session lasts: if relais or the network dies, the
	// machine powers down by itself within this time; default 2 min.
	DeadMan time.Duration
	// Jobs queues each machine session's power-off and warning and each
	// latching lock's relock, for the job client serve runs. Required.
	Jobs *jobs.Queue
	// Events records the access events. Built before devices, whose
	// presence it records (NewEvents); nil makes one of this config.
	Events *Events
	// Accounts gives the names the audit shows (identity.Service).
	Accounts Accounts
	// Publisher receives access.granted/denied and device.online/offline
	// (required; events.Discard for none).
	Publisher events.Publisher
	// Notices receives what is for the member's mail alone, not for
	// integrators: machine.power_off_soon (publish.go). nil publishes
	// nothing.
	Notices events.Publisher
}

// Accounts is what the gate needs of identity's accounts: the name of the
// manager who opened a door, which the audit shows next to the event.
type Accounts interface {
	Contact(ctx context.Context, idb bun.IDB, userID string) (identity.Contact, error)
}

// Gate decides who may open a door or power a machine, from billing's
// entitlements, the calendar's reservations and trainings; sends the command
// through devices; and records every decision as an access event.
type Gate struct {
	db   *bun.DB
	cal  *calendar.Service
	bill *billing.Service
	dev  Devices
	jobs *jobs.Queue
	cfg  GateConfig
	log  *slog.Logger
	// Events records the gate's decisions and their answers.
	*Events
}

// NewGate returns a Gate. cfg.Jobs is required: a gate that could not
// switch a machine off at the end of its slot must not switch it on.
func NewGate(db *bun.DB, cal *calendar.Service, bill *billing.Service, dev Devices, cfg GateConfig) *Gate {
	if cfg.Jobs == nil {
		panic("access: NewGate needs GateConfig.Jobs")
	}
	cfg = cfg.withDefaults()
	if cfg.Events == nil {
		cfg.Events = NewEvents(db, cfg)
	}
	return &Gate{db: db, cal: cal, bill: bill, dev: dev, jobs: cfg.Jobs, cfg: cfg, log: cfg.Logger, Events: cfg.Events}
}

// withDefaults fills cfg's zero values.
func (cfg GateConfig) withDefaults() GateConfig {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RoomMargin == 0 {
		cfg.RoomMargin = 10 * time.Minute
	}
	if cfg.MachineGrace == 0 {
		cfg.MachineGrace = 5 * time.Minute
	}
	if cfg.MachineWarning == 0 {
		cfg.MachineWarning = 5 * time.Minute
	}
	if cfg.Notices == nil {
		cfg.Notices = events.Discard
	}
	if cfg.DeadMan == 0 {
		cfg.DeadMan = 2 * time.Minute
	}
	return cfg
}

// now is the gate's clock, at the database's precision (microseconds), so
// an answer shows the times that are stored.
func (g *Gate) now() time.Time { return g.cfg.Now().UTC().Truncate(time.Microsecond) }

// Decision is the answer to an unlock or a machine start.
type Decision struct {
	Granted   bool
	Confirmed bool
	Event     *Event
}

// denied records a refusal and returns the problem that names it.
func (g *Gate) denied(ctx context.Context, ev *Event, kind error, code, detail string) error {
	ev.Decision, ev.Reason, ev.Detail = Denied, code, detail
	if err := g.record(ctx, g.db, ev); err != nil {
		return err
	}
	return &errs.Problem{Kind: kind, Code: code, Detail: detail}
}

// Unlock opens the door device deviceID for p: a manager of the site opens
// any of its doors (the reason is recorded); a member needs, for a site
// entrance, a membership or day pass whose door window covers now, and for
// a room's lock, a reservation of that room under way (with RoomMargin).
// Every decision is recorded and committed first; only then is a granted
// one sent to the lock, and the lock's answer written into the record.
func (g *Gate) Unlock(ctx context.Context, p *identity.Principal, deviceID, reason string) (*Decision, error) {
	if p == nil || p.IsAPIKey() {
		return nil, errs.ErrForbidden
	}
	d, err := g.dev.Get(ctx, deviceID)
	if err != nil {
		return nil, err
	}
	return g.UnlockDevice(ctx, p, d, reason)
}

// UnlockDevice is Unlock for a device the caller has already read (the API
// reads it to check the caller may see it; devices.Service.ForCommand). It
// returns once the device's answer is recorded.
func (g *Gate) UnlockDevice(ctx context.Context, p *identity.Principal, d *devices.Device, reason string) (*Decision, error) {
	dec, finish, err := g.OpenDoor(ctx, p, d, reason)
	if finish != nil {
		if ferr := finish(); ferr != nil {
			return nil, ferr
		}
	}
	return dec, err
}

// OpenDoor decides, records the decision, sends the command and waits for
// the lock's answer, then returns the decision (or the problem the caller
// sees) and finish, which records the answer in the decision's row and,
// for a latching lock, schedules its relock. The caller answers the member
// first and then calls finish (nil when nothing was sent): the member does
// not wait for the second write, and a reader of the audit in between sees
// the decision pending. finish must be called, once.
func (g *Gate) OpenDoor(ctx context.Context, p *identity.Principal, d *devices.Device, reason string) (dec *Decision, finish func() error, err error) {
	if p == nil || p.IsAPIKey() {
		return nil, nil, errs.ErrForbidden
	}
	if d.Kind != devices.KindLock || d.RetiredAt != nil {
		return nil, nil, fmt.Errorf("device %s is not a lock in service: %w", d.ID, errs.ErrNotFound)
	}
	ev, err := g.CheckDoor(ctx, p, d, g.now())
	if err != nil {
		return nil, nil, err
	}
	if ev.Decision == Denied {
		// The decision's detail, as CheckDoor recorded it: its texts are
		// collected for the catalogue where they are written.
		return nil, nil, g.denied(ctx, ev, errs.ErrForbidden, ev.Reason, errs.Verbatim(ev.Detail))
	}
	if ev.ActorID != nil {
		ev.Detail = reason
		actor, err := g.cfg.Accounts.Contact(ctx, g.db, *ev.ActorID)
		if err != nil {
			return nil, nil, fmt.Errorf("read the manager's name: %w", err)
		}
		ev.ActorName = actor.Name
	}
	pulse := time.Duration(d.PulseSeconds) * time.Second
	ev.ID = id.New()
	if relocks(d) {
		// The backstop relock exists before the command goes out. Should
		// the decision then fail to be recorded, it finds another unlock
		// (or none) the latest of this lock, and does nothing.
		if err := g.scheduleRelock(ctx, d, ev.ID, g.now().Add(pulse+relockBackstop)); err != nil {
			return nil, nil, err
		}
	}
	cmd := devices.Command{ID: id.New(), Action: devices.ActionUnlock, Duration: pulse}
	// The decision, naming its command, is committed before the command
	// goes out: if it cannot be recorded, the door stays shut.
	ev.Outcome, ev.CommandID = OutcomePending, ptr(cmd.ID)
	if err := g.record(ctx, g.db, ev); err != nil {
		return nil, nil, err
	}
	res, sendErr := g.dev.Send(ctx, d, cmd)
	answer(ev, res, sendErr)
	// The answer stands whatever the request's context became: a member
	// who hung up still opened the door, and the audit must say so.
	bg := context.WithoutCancel(ctx)
	finish = func() error {
		if err := g.writeAnswer(bg, g.db, ev); err != nil {
			return err
		}
		if sendErr == nil {
			g.checkInOnArrival(bg, ev)
		}
		if relocks(d) && sendErr == nil {
			return g.scheduleRelock(bg, d, ev.ID, res.ConfirmedAt.Add(pulse))
		}
		return nil
	}
	if sendErr != nil {
		return nil, finish, commandProblem(sendErr)
	}
	return &Decision{Granted: true, Confirmed: true, Event: ev}, finish, nil
}

// CheckDoor decides, without recording or sending anything, whether p may
// open lock d at now. The event it returns says granted or denied, and why.
func (g *Gate) CheckDoor(ctx context.Context, p *identity.Principal, d *devices.Device, now time.Time) (*Event, error) {
	ev := &Event{SiteID: d.SiteID, OccurredAt: now, Kind: EventDoorUnlock, Decision: Granted, UserID: ptr(p.UserID), DeviceID: ptr(d.ID), ResourceID: d.ResourceID}
	switch {
	case p.ManagesSite(d.SiteID):
		ev.ActorID = ptr(p.UserID)
		ev.Reason = "manager"
	case d.ResourceID == nil:
		entry, err := g.bill.MayEnter(ctx, p.UserID, d.SiteID, now)
		if err != nil {
			return nil, err
		}
		if !entry.Allowed {
			ev.Decision, ev.Reason, ev.Detail = Denied, entry.Code, entry.Detail
			return ev, nil
		}
		ev.Reason = "entitlement:" + entry.Window
	default:
		r, err := g.cal.ReservationAt(ctx, g.db, *d.ResourceID, p.UserID, now, g.cfg.RoomMargin)
		if err != nil {
			return nil, err
		}
		if r == nil {
			ev.Decision, ev.Reason, ev.Detail = Denied, "no_reservation", "you have no reservation of this room now"
			return ev, nil
		}
		ev.ReservationID = ptr(r.ID)
		ev.Reason = "reservation"
	}
	return ev, nil
}

// checkInOnArrival checks in the member's bookings under way at the site
// of the door that just opened for them (calendar.CheckInOnArrival). It
// runs in finish, after the member has their answer, so the door's hot
// path does not wait for it; a failure is logged, not the member's
// problem (they may still check in themselves).
func (g *Gate) checkInOnArrival(ctx context.Context, ev *Event) {
	if ev.UserID == nil {
		return
	}
	if _, err := g.cal.CheckInOnArrival(ctx, g.db, *ev.UserID, ev.SiteID, ev.OccurredAt); err != nil {
		g.log.Warn("check in on arrival", "user", *ev.UserID, "site", ev.SiteID, "error", err)
	}
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return OutcomeConfirmed
	case errors.Is(err, devices.ErrOffline):
		return OutcomeOffline
	case errors.Is(err, devices.ErrTimeout):
		return OutcomeTimeout
	case errors.Is(err, devices.ErrRejected):
		return OutcomeRejected
	case errors.Is(err, devices.ErrBusy):
		return OutcomeBusy
	default:
		return OutcomeTimeout
	}
}

// commandProblem turns a failed command into the problem the caller sees.
func commandProblem(err error) error {
	switch outcomeOf(err) {
	case OutcomeOffline:
		return &errs.Problem{Kind: errs.ErrUnavailable, Code: "device_offline", Detail: "the device is offline; nothing was sent"}
	case OutcomeRejected:
		return &errs.Problem{Kind: errs.ErrBadGateway, Code: "device_error", Detail: errs.Verbatim(freetext.Clean(err.Error(), 500))}
	case OutcomeBusy:
		return &errs.Problem{Kind: errs.ErrConflict, Code: "device_busy", Detail: "the device is carrying out another command; nothing was sent, try again"}
	default:
		return &errs.Problem{Kind: errs.ErrGatewayTimeout, Code: "device_timeout", Detail: "the device did not confirm in time; the command has expired and will not be carried out"}
	}
}
