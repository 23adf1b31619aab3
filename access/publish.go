package access

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// What the gate tells integrators (see internal/events): a door or machine
// granted, with the device's answer; a refusal; a device going offline or
// coming back.
const (
	EventAccessGranted = "access.granted"
	EventAccessDenied  = "access.denied"
	EventDeviceIsOn    = "device.online"
	EventDeviceIsOff   = "device.offline"
)

// AccessEvent is the data of access and device events: the audit's
// record, without the actor's name.
type AccessEvent struct {
	EventID       string    `json:"access_event_id"`
	Kind          string    `json:"kind"`
	Decision      string    `json:"decision"`
	Reason        string    `json:"reason,omitempty"`
	Outcome       string    `json:"outcome,omitempty"`
	OccurredAt    time.Time `json:"occurred_at"`
	UserID        *string   `json:"user_id,omitempty"`
	ActorID       *string   `json:"actor_id,omitempty"`
	DeviceID      *string   `json:"device_id,omitempty"`
	ResourceID    *string   `json:"resource_id,omitempty"`
	ReservationID *string   `json:"reservation_id,omitempty"`
}

// publishedType names the integrators' event of ev at this step: at its
// record for a refusal or a presence change, at its answer for a grant.
func publishedType(ev *Event, answered bool) string {
	switch {
	case !answered && ev.Decision == Denied && (ev.Kind == EventDoorUnlock || ev.Kind == EventMachineOn):
		return EventAccessDenied
	case !answered && ev.Kind == EventDeviceOnline:
		return EventDeviceIsOn
	case !answered && ev.Kind == EventDeviceOffline:
		return EventDeviceIsOff
	case answered && ev.Decision == Granted && (ev.Kind == EventDoorUnlock || ev.Kind == EventMachineOn):
		return EventAccessGranted
	}
	return ""
}

// publish tells e.publisher of ev, in idb: the transaction that records
// it, or, for a door's decision recorded on its own (the hot path), right
// after it.
func (e *Events) publish(ctx context.Context, idb bun.IDB, ev *Event, answered bool) error {
	typ := publishedType(ev, answered)
	if typ == "" {
		return nil
	}
	return e.publisher.Publish(ctx, idb, events.New(typ, ev.SiteID, ev.OccurredAt, AccessEvent{
		EventID: ev.ID, Kind: ev.Kind, Decision: ev.Decision, Reason: ev.Reason, Outcome: ev.Outcome,
		OccurredAt: ev.OccurredAt, UserID: ev.UserID, ActorID: ev.ActorID, DeviceID: ev.DeviceID,
		ResourceID: ev.ResourceID, ReservationID: ev.ReservationID}))
}

// EventPowerOffSoon tells a member that their machine's power goes off
// soon (WarnSession). It goes to GateConfig.Notices, the member's mail,
// and never to integrators: webhooks.EventTypes does not list it.
const EventPowerOffSoon = "machine.power_off_soon"

// MachineNotice is the data of machine.power_off_soon: whose session, on
// which machine, and when its power goes off.
type MachineNotice struct {
	SessionID     string    `json:"session_id"`
	UserID        string    `json:"user_id"`
	ResourceID    string    `json:"resource_id"`
	ReservationID string    `json:"reservation_id"`
	EndsAt        time.Time `json:"ends_at"`
}
