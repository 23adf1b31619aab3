// Package journal is the technical events journal of the cash system
// (art. 286 I-3° bis CGI): an append-only record of who changed what in
// prices, plans, legal identity, VAT rates, closings and exports. The
// domains write one entry per change, in the transaction that makes it, so
// that a change and its record commit or fail together. A database trigger
// refuses any UPDATE or DELETE of the table.
package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/id"
)

// Actor kinds.
const (
	ActorUser   = "user"
	ActorAPIKey = "api_key"
	ActorSystem = "system"
)

// Entry is one recorded change. Before and After are the field's values as
// text (amounts in cents, rates in basis points), empty when the object is
// created or has no such value.
type Entry struct {
	bun.BaseModel `bun:"table:journal_events,alias:je"`

	ID string `bun:"id,pk" json:"id"`
	// EntityKey is the legal entity (SIREN) the change concerns when known;
	// SiteID the site. Both empty: a network-wide object (a network plan).
	EntityKey  string    `bun:"entity_key" json:"entity_key,omitempty"`
	SiteID     string    `bun:"site_id" json:"site_id,omitempty"`
	OccurredAt time.Time `bun:"occurred_at" json:"occurred_at"`
	ActorKind  string    `bun:"actor_kind" json:"actor_kind"`
	ActorID    string    `bun:"actor_id" json:"actor_id,omitempty"`
	// Action: create, update, close, export.
	Action     string `bun:"action" json:"action"`
	ObjectKind string `bun:"object_kind" json:"object_kind"`
	ObjectID   string `bun:"object_id" json:"object_id,omitempty"`
	Field      string `bun:"field" json:"field,omitempty"`
	Before     string `bun:"before_value" json:"before,omitempty"`
	After      string `bun:"after_value" json:"after,omitempty"`
}

// Actor names who acts: a user, an API key (its id), or relais itself
// when both are empty.
func Actor(userID, apiKeyID string) (kind, id string) {
	switch {
	case apiKeyID != "":
		return ActorAPIKey, apiKeyID
	case userID != "":
		return ActorUser, userID
	default:
		return ActorSystem, ""
	}
}

type actorKey struct{}

type actor struct{ kind, id string }

// WithActor returns ctx naming who acts (see Actor): the API sets it for
// every authenticated request, so that the domains' Record calls need not
// be handed the caller. A context without one is relais itself (a job).
func WithActor(ctx context.Context, userID, apiKeyID string) context.Context {
	k, i := Actor(userID, apiKeyID)
	return context.WithValue(ctx, actorKey{}, actor{k, i})
}

// Record appends e through idb (the caller's transaction). The id, the
// actor (from ctx, see WithActor) and, when zero, the time are filled in.
func Record(ctx context.Context, idb bun.IDB, e Entry) error {
	if a, ok := ctx.Value(actorKey{}).(actor); ok && e.ActorKind == "" {
		e.ActorKind, e.ActorID = a.kind, a.id
	}
	e.ID = id.New()
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now()
	}
	e.OccurredAt = e.OccurredAt.UTC()
	if e.ActorKind == "" {
		e.ActorKind = ActorSystem
	}
	if _, err := idb.NewInsert().Model(&e).Exec(ctx); err != nil {
		return fmt.Errorf("record journal event: %w", err)
	}
	return nil
}

// Changed records one field's change, and nothing when it did not change.
func Changed(ctx context.Context, idb bun.IDB, base Entry, field string, before, after any) error {
	b, a := text(before), text(after)
	if b == a {
		return nil
	}
	base.Action, base.Field, base.Before, base.After = "update", field, b, a
	return Record(ctx, idb, base)
}

// text is a value as the journal writes it: numbers and strings as they
// are, anything else (a legal identity) as JSON.
func text(v any) string {
	switch v.(type) {
	case string, int, int64, bool:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Str is *s, or "" for nil (a network plan's site).
func Str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Filter selects entries of one entity: those naming it, those of its
// sites, and network-wide ones, in [From, To) when set.
type Filter struct {
	EntityKey string
	SiteIDs   []string
	From, To  time.Time
	// After is the id of the last entry of the previous page.
	After string
	Limit int
}

// List returns entries in time order.
func List(ctx context.Context, idb bun.IDB, f Filter) ([]Entry, error) {
	var out []Entry
	q := idb.NewSelect().Model(&out).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("je.entity_key = ?", f.EntityKey).WhereOr("(je.entity_key = '' AND je.site_id = '')")
		if len(f.SiteIDs) > 0 {
			q = q.WhereOr("je.site_id IN (?)", bun.In(f.SiteIDs))
		}
		return q
	})
	if !f.From.IsZero() {
		q = q.Where("je.occurred_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("je.occurred_at < ?", f.To.UTC())
	}
	if f.After != "" {
		q = q.Where("je.id > ?", f.After)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if err := q.Order("je.id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list journal: %w", err)
	}
	return out, nil
}
