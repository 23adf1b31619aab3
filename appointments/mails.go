package appointments

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// --- services-mail ---

// What appointments tells (Config.Events), in the transaction of the
// change, for notify's mails to the resident and the partner's agents:
// mail only, not webhooks (serve gives them to notify alone).
const (
	EventAppointmentBooked    = "appointment.booked"
	EventAppointmentMoved     = "appointment.moved"
	EventAppointmentCancelled = "appointment.cancelled"
)

// AppointmentEvent is the data of those events.
type AppointmentEvent struct {
	AppointmentID string `json:"appointment_id"`
	// Reason is the cancellation's, as given.
	Reason string `json:"reason,omitempty"`
}

func (s *Service) tell(ctx context.Context, tx bun.IDB, typ string, a *Appointment, reason string) error {
	e := events.New(typ, a.SiteID, s.now(), AppointmentEvent{AppointmentID: a.ID, Reason: reason})
	if err := s.cfg.Events.Publish(ctx, tx, e); err != nil {
		return fmt.Errorf("publish %s: %w", typ, err)
	}
	return nil
}

// AppointmentMail is an appointment as its mails show it: with the
// partner's name and the agents to tell (the window's agent, or every
// agent of the partner when the window names none).
type AppointmentMail struct {
	Appointment Appointment
	PartnerName string
	AgentIDs    []string
}

// AppointmentForMail reads an appointment as it is now, for notify (a
// system read: notify decides whom it mails); errs.ErrNotFound when it
// is gone.
func (s *Service) AppointmentForMail(ctx context.Context, appointmentID string) (*AppointmentMail, error) {
	a, err := s.load(ctx, s.db, appointmentID, false)
	if err != nil {
		return nil, err
	}
	pt, err := s.loadPartner(ctx, s.db, a.PartnerID)
	if err != nil {
		return nil, err
	}
	out := &AppointmentMail{Appointment: *a, PartnerName: pt.Name}
	if a.AgentID != nil {
		out.AgentIDs = []string{*a.AgentID}
		return out, nil
	}
	if err := s.db.NewSelect().Model((*Agent)(nil)).Column("user_id").Where("partner_id = ?", a.PartnerID).Order("user_id").Scan(ctx, &out.AgentIDs); err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}
