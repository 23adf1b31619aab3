package webhooks

import (
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Endpoint is a URL that receives a site's events (or the whole network's
// when SiteID is nil).
type Endpoint struct {
	bun.BaseModel `bun:"table:webhook_endpoints,alias:we"`

	ID          string   `bun:"id,pk"`
	SiteID      *string  `bun:"site_id"`
	URL         string   `bun:"url"`
	Events      []string `bun:"events,type:json"`
	Description string   `bun:"description"`
	// Secret is the HMAC key in its whsec_ form. It is stored as it is,
	// not hashed: signing each delivery needs the key itself. It leaves
	// Relais once, in the answer to the creation (or a rotation).
	Secret  string `bun:"secret" json:"-"`
	Enabled bool   `bun:"enabled"`
	// FailingSince: the first failed attempt since the last success; nil
	// while deliveries succeed. An endpoint failing for FailureWindow is
	// disabled.
	FailingSince   *time.Time `bun:"failing_since"`
	DisabledReason string     `bun:"disabled_reason"`
	CreatedBy      string     `bun:"created_by"`
	CreatedAt      time.Time  `bun:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at"`
}

// Delivery is one event sent (or to be sent) to one endpoint, with its
// last attempt's outcome.
type Delivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID         string `bun:"id,pk"`
	EndpointID string `bun:"endpoint_id"`
	EventID    string `bun:"event_id"`
	EventType  string `bun:"event_type"`
	// Payload is the exact body sent, kept so a redelivery sends the same
	// bytes (with a fresh timestamp and signature).
	Payload []byte `bun:"payload"`
	// Status: pending, succeeded, failed (all attempts used or endpoint
	// disabled).
	Status       string     `bun:"status"`
	Attempts     int        `bun:"attempts"`
	ResponseCode int        `bun:"response_code"`
	ResponseBody string     `bun:"response_body"`
	Error        string     `bun:"error"`
	DurationMS   int64      `bun:"duration_ms"`
	CreatedAt    time.Time  `bun:"created_at"`
	LastAttempt  *time.Time `bun:"last_attempt_at"`
}

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// EventTypes lists every event Relais may send; endpoints subscribe to
// them by name, by "domain.*", or to all with "*".
var EventTypes = []string{
	"reservation.created", "reservation.updated", "reservation.cancelled",
	"payment.succeeded", "payment.refunded",
	"membership.created", "membership.renewed", "membership.past_due", "membership.suspended", "membership.cancelled",
	"invoice.issued",
	"access.granted", "access.denied",
	"device.online", "device.offline",
	"campaign.settled",
	"waitlist.offered", "waitlist.lapsed",
}

// validPattern: a known type, a known domain followed by ".*", or "*".
func validPattern(p string) bool {
	if p == "*" {
		return true
	}
	for _, t := range EventTypes {
		if p == t {
			return true
		}
		if domain, ok := strings.CutSuffix(p, ".*"); ok && strings.HasPrefix(t, domain+".") {
			return true
		}
	}
	return false
}

// matches reports whether an endpoint subscribed to patterns wants typ.
func matches(patterns []string, typ string) bool {
	for _, p := range patterns {
		if p == "*" || p == typ {
			return true
		}
		if domain, ok := strings.CutSuffix(p, ".*"); ok && strings.HasPrefix(typ, domain+".") {
			return true
		}
	}
	return false
}
