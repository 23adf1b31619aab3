package ateliers

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/events"
)

// --- services-mail ---

// What ateliers tells (Config.Events), in the transaction of the change,
// for notify's mails to the person: for members' and guests' mail only,
// not webhooks (serve gives them to notify alone).
const (
	EventRegistrationConfirmed = "atelier_registration.confirmed"
	EventRegistrationPromoted  = "atelier_registration.promoted"
	EventRegistrationCancelled = "atelier_registration.cancelled"
)

// RegistrationEvent is the data of those events.
type RegistrationEvent struct {
	RegistrationID string `json:"registration_id"`
	UserID         string `json:"user_id"`
	// Reason: the session was cancelled, with what the site said.
	Reason string `json:"reason,omitempty"`
}

func (s *Service) tell(ctx context.Context, tx bun.IDB, typ string, a *Atelier, r *Registration, reason string) error {
	e := events.New(typ, a.SiteID, s.now(), RegistrationEvent{RegistrationID: r.ID, UserID: r.UserID, Reason: reason})
	if err := s.cfg.Events.Publish(ctx, tx, e); err != nil {
		return fmt.Errorf("publish %s: %w", typ, err)
	}
	return nil
}

// RegistrationMail is a registration as its mails show it.
type RegistrationMail struct {
	Registration Registration
	Session      Session
	Atelier      Atelier
}

// RegistrationForMail reads a registration with its session and atelier,
// as they are now, for notify (a system read: notify decides whom it
// mails); errs.ErrNotFound when it is gone.
func (s *Service) RegistrationForMail(ctx context.Context, registrationID string) (*RegistrationMail, error) {
	r, a, ss, err := s.loadRegistration(ctx, s.db, registrationID)
	if errors.Is(err, errRegistrationNotFound) {
		return nil, fmt.Errorf("registration %s: %w", registrationID, errRegistrationNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &RegistrationMail{Registration: *r, Session: *ss, Atelier: *a}, nil
}
