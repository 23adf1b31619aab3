package appointments

import (
	"time"

	"github.com/uptrace/bun"
)

// Purpose is a reason to meet a partner (motif) and what to bring.
type Purpose struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Documents []string `json:"documents"`
}

// Partner is a public service or an association.
type Partner struct {
	bun.BaseModel `bun:"table:partners"`

	ID     string  `bun:"id,pk"`
	SiteID *string `bun:"site_id"` // nil: network-wide
	Name   string  `bun:"name"`
	// Kind is free text: caf, france_travail, cpam, msa, carsat, impots,
	// mission_locale, association…
	Kind      string    `bun:"kind"`
	Purposes  []Purpose `bun:"purposes,type:json"`
	VideoMode string    `bun:"video_mode"`
	// VideoBaseURL is where VideoGenerated rooms are made (https).
	VideoBaseURL *string   `bun:"video_base_url"`
	Active       bool      `bun:"active"`
	CreatedBy    *string   `bun:"created_by"`
	CreatedAt    time.Time `bun:"created_at"`
	UpdatedAt    time.Time `bun:"updated_at"`
}

// Agent is an account acting for a partner.
type Agent struct {
	bun.BaseModel `bun:"table:partner_agents"`

	PartnerID string    `bun:"partner_id,pk"`
	UserID    string    `bun:"user_id,pk"`
	VideoURL  *string   `bun:"video_url"`
	CreatedAt time.Time `bun:"created_at"`

	Name string `bun:"-"`
}

// Window is when and where a partner receives.
type Window struct {
	bun.BaseModel `bun:"table:partner_windows"`

	ID         string  `bun:"id,pk"`
	PartnerID  string  `bun:"partner_id"`
	SiteID     string  `bun:"site_id"`
	ResourceID string  `bun:"resource_id"`
	AgentID    *string `bun:"agent_id"`
	// Weekday (mon…sun) repeats the window weekly from ValidFrom to
	// ValidUntil (nil: no end); nil is every day of that range.
	Weekday     *string    `bun:"weekday"`
	ValidFrom   string     `bun:"valid_from"`  // 2026-03-03, the site's date
	ValidUntil  *string    `bun:"valid_until"` // inclusive
	StartTime   string     `bun:"start_time"`  // 09:00, the site's wall clock
	EndTime     string     `bun:"end_time"`
	SlotMinutes int        `bun:"slot_minutes"`
	Status      string     `bun:"status"`
	CreatedAt   time.Time  `bun:"created_at"`
	ClosedAt    *time.Time `bun:"closed_at"`
}

// Appointment is a resident at a slot.
type Appointment struct {
	bun.BaseModel `bun:"table:appointments"`

	ID            string     `bun:"id,pk"`
	PartnerID     string     `bun:"partner_id"`
	WindowID      string     `bun:"window_id"`
	SiteID        string     `bun:"site_id"`
	ResourceID    string     `bun:"resource_id"`
	UserID        string     `bun:"user_id"`
	AgentID       *string    `bun:"agent_id"`
	PurposeID     string     `bun:"purpose_id"`
	Purpose       string     `bun:"purpose"`
	Checklist     []string   `bun:"checklist,type:json"`
	VideoURL      *string    `bun:"video_url"`
	StartsAt      time.Time  `bun:"starts_at"`
	EndsAt        time.Time  `bun:"ends_at"`
	Status        string     `bun:"status"`
	ReservationID *string    `bun:"reservation_id"`
	Outcome       *string    `bun:"outcome"`
	OutcomeNote   *string    `bun:"outcome_note"`
	OutcomeBy     *string    `bun:"outcome_by"`
	OutcomeAt     *time.Time `bun:"outcome_at"`
	CreatedBy     *string    `bun:"created_by"`
	CreatedAt     time.Time  `bun:"created_at"`
	CancelledBy   *string    `bun:"cancelled_by"`
	CancelledAt   *time.Time `bun:"cancelled_at"`
	// Sequence is the iCalendar SEQUENCE of its invitations: one more at
	// each move and at the cancellation.
	Sequence int64 `bun:"sequence"`
}

// Slot is a time a window offers.
type Slot struct {
	WindowID   string
	SiteID     string
	ResourceID string
	AgentID    *string
	Start, End time.Time
}
