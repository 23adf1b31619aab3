package ateliers

import (
	"time"

	"github.com/uptrace/bun"
)

// Category is a kind of atelier, from the network's list.
type Category struct {
	bun.BaseModel `bun:"table:atelier_categories"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name"`
	Position  int       `bun:"position"`
	CreatedAt time.Time `bun:"created_at"`
}

// Atelier is what a site offers.
type Atelier struct {
	bun.BaseModel `bun:"table:ateliers"`

	ID          string `bun:"id,pk"`
	SiteID      string `bun:"site_id"`
	CategoryID  string `bun:"category_id"`
	Title       string `bun:"title"`
	Description string `bun:"description"`
	Audience    string `bun:"audience"`
	Seats       int    `bun:"seats"`
	// Pricing is PricingFree, PricingPrice (PriceCents TTC, charged),
	// PricingIncluded (in the plans of PlanIDs) or PricingCredits
	// (CreditCents of money credit).
	Pricing     string `bun:"pricing"`
	PriceCents  int64  `bun:"price_cents"`
	CreditCents int64  `bun:"credit_cents"`
	// QualificationID: the machine's qualification this training grants to
	// those marked present, for QualificationMonths (0: without end).
	QualificationID     *string    `bun:"qualification_id"`
	QualificationMonths int        `bun:"qualification_months"`
	RegistrationOpensAt *time.Time `bun:"registration_opens_at"`
	// RegistrationClosesMinutes: registrations close this long before a
	// session starts; CancelBeforeMinutes: a participant cancels until
	// this long before it (managers at any time).
	RegistrationClosesMinutes int       `bun:"registration_closes_minutes"`
	CancelBeforeMinutes       int       `bun:"cancel_before_minutes"`
	Status                    string    `bun:"status"`
	CreatedBy                 *string   `bun:"created_by"`
	CreatedAt                 time.Time `bun:"created_at"`
	UpdatedAt                 time.Time `bun:"updated_at"`

	// Read with the atelier.
	ResourceIDs  []string  `bun:"-"`
	AnimateurIDs []string  `bun:"-"`
	PlanIDs      []string  `bun:"-"`
	Sessions     []Session `bun:"-"`
}

type atelierResource struct {
	bun.BaseModel `bun:"table:atelier_resources"`
	AtelierID     string `bun:"atelier_id,pk"`
	ResourceID    string `bun:"resource_id,pk"`
}

type atelierPlan struct {
	bun.BaseModel `bun:"table:atelier_plans"`
	AtelierID     string `bun:"atelier_id,pk"`
	PlanID        string `bun:"plan_id,pk"`
}

type atelierAnimateur struct {
	bun.BaseModel `bun:"table:atelier_animateurs"`
	AtelierID     string `bun:"atelier_id,pk"`
	UserID        string `bun:"user_id,pk"`
}

// Session is one date of an atelier.
type Session struct {
	bun.BaseModel `bun:"table:atelier_sessions"`

	ID          string     `bun:"id,pk"`
	AtelierID   string     `bun:"atelier_id"`
	StartsAt    time.Time  `bun:"starts_at"`
	EndsAt      time.Time  `bun:"ends_at"`
	Status      string     `bun:"status"`
	CancelledAt *time.Time `bun:"cancelled_at"`

	// Counted with the session.
	Confirmed  int `bun:"-"`
	Waitlisted int `bun:"-"`
}

type sessionBlock struct {
	bun.BaseModel `bun:"table:atelier_session_blocks"`
	SessionID     string `bun:"session_id,pk"`
	ReservationID string `bun:"reservation_id,pk"`
}

// Registration is a person at a session.
type Registration struct {
	bun.BaseModel `bun:"table:atelier_registrations"`

	ID           string     `bun:"id,pk"`
	AtelierID    string     `bun:"atelier_id"`
	SessionID    string     `bun:"session_id"`
	UserID       string     `bun:"user_id"`
	Status       string     `bun:"status"`
	Attendance   *string    `bun:"attendance"`
	AttendanceBy *string    `bun:"attendance_by"`
	AttendanceAt *time.Time `bun:"attendance_at"`
	CreatedBy    *string    `bun:"created_by"`
	CreatedAt    time.Time  `bun:"created_at"`
	PromotedAt   *time.Time `bun:"promoted_at"`
	CancelledAt  *time.Time `bun:"cancelled_at"`

	// Name is the person's, for the managers' and animateurs' lists.
	Name string `bun:"-"`
	// Position is a waiting registration's place in its session's line
	// (1: the next seat freed is theirs), in the person's own list; else 0.
	Position int `bun:"-"`
}
