package calendar

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
)

// What the calendar does for personal data (the privacy package
// orchestrates): a member's export, and forgetting a member whose account
// is erased.

// erasureReason is recorded on the reservations an erasure cancels.
const erasureReason = "account erased"

// ForgetMember, inside tx, takes the member userID out of the calendar:
// their waiting-list entries, calendar feed tokens and qualification grants
// are deleted, and their reservations that have not ended are cancelled
// through the normal cancel path, so that credit is released, the slot is
// offered to the waiting list, and events (webhooks, mails) follow. The
// cancellations are recorded as made by p (the member, or the admin who
// erases the account). Past reservations stay: they are the history
// invoices and the ledger refer to.
func (svc *Service) ForgetMember(ctx context.Context, p *identity.Principal, tx bun.Tx, userID string) error {
	// The entries go first: a held slot cancelled below must not be
	// offered to this member's own entries.
	for _, model := range []any{(*WaitlistEntry)(nil), (*feedToken)(nil), (*Grant)(nil)} {
		if _, err := tx.NewDelete().Model(model).Where("user_id = ?", userID).Exec(ctx); err != nil {
			return fmt.Errorf("forget %T: %w", model, err)
		}
	}
	var ids []string
	if err := tx.NewSelect().Model((*Reservation)(nil)).Column("id").
		Where("user_id = ? AND status <> ? AND ends_at > ?", userID, StatusCancelled, svc.now()).
		Order("starts_at", "id").Scan(ctx, &ids); err != nil {
		return fmt.Errorf("find reservations to cancel: %w", err)
	}
	actor := userID
	if p != nil && p.UserID != "" {
		actor = p.UserID
	}
	for _, rid := range ids {
		r, err := lockReservation(ctx, tx, rid)
		if err != nil {
			return err
		}
		if _, err := svc.cancel(ctx, tx, r, actor, erasureReason); err != nil {
			return fmt.Errorf("cancel reservation %s: %w", rid, err)
		}
	}
	return nil
}

// MemberExport is what the calendar holds about a member.
type MemberExport struct {
	Reservations []ReservationExport `json:"reservations"`
	WaitingList  []WaitlistExport    `json:"waiting_list"`
	// Qualifications are the trainings the member was granted.
	Qualifications []GrantExport `json:"qualifications"`
	// FeedTokens: when the member's calendar feed URLs were made and
	// revoked (their secrets are stored only as hashes and not exported).
	FeedTokens []FeedTokenExport `json:"calendar_feeds"`
}

// ReservationExport is a reservation of the member as exported.
type ReservationExport struct {
	ID           string     `json:"id"`
	SiteID       string     `json:"site_id"`
	ResourceID   string     `json:"resource_id"`
	Status       string     `json:"status"`
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	Seats        int        `json:"seats"`
	Note         string     `json:"note"`
	SeriesID     *string    `json:"series_id"`
	CreatedAt    time.Time  `json:"created_at"`
	CancelledAt  *time.Time `json:"cancelled_at"`
	CancelReason string     `json:"cancel_reason"`
	LateCancel   bool       `json:"late_cancel"`
	// CheckedInAt: when the member arrived (calendar/checkin.go).
	CheckedInAt *time.Time `json:"checked_in_at"`
}

// WaitlistExport is a waiting-list entry of the member as exported.
type WaitlistExport struct {
	ID         string    `json:"id"`
	ResourceID string    `json:"resource_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Seats      int       `json:"seats"`
	AutoBook   bool      `json:"auto_book"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
}

// GrantExport is a qualification grant with its qualification's name.
type GrantExport struct {
	QualificationID   string     `json:"qualification_id"`
	QualificationName string     `json:"qualification_name"`
	SiteID            string     `json:"site_id"`
	GrantedAt         time.Time  `json:"granted_at"`
	ExpiresAt         *time.Time `json:"expires_at"`
	RevokedAt         *time.Time `json:"revoked_at"`
}

// FeedTokenExport is a calendar feed URL of the member, without its secret.
type FeedTokenExport struct {
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// ExportMember returns everything the calendar holds about userID.
func (svc *Service) ExportMember(ctx context.Context, userID string) (*MemberExport, error) {
	out := &MemberExport{Reservations: []ReservationExport{}, WaitingList: []WaitlistExport{}, Qualifications: []GrantExport{}, FeedTokens: []FeedTokenExport{}}
	var rs []Reservation
	if err := svc.db.NewSelect().Model(&rs).Where("user_id = ?", userID).Order("starts_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export reservations: %w", err)
	}
	for _, r := range rs {
		out.Reservations = append(out.Reservations, ReservationExport{ID: r.ID, SiteID: r.SiteID, ResourceID: r.ResourceID, Status: r.Status,
			Start: r.StartsAt.UTC(), End: r.EndsAt.UTC(), Seats: r.Seats, Note: r.Note, SeriesID: r.SeriesID, CreatedAt: r.CreatedAt.UTC(),
			CancelledAt: r.CancelledAt, CancelReason: r.CancelReason, LateCancel: r.LateCancel,
			CheckedInAt: r.CheckedInAt})
	}
	var es []WaitlistEntry
	if err := svc.db.NewSelect().Model(&es).Where("user_id = ?", userID).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export waiting list: %w", err)
	}
	for _, e := range es {
		out.WaitingList = append(out.WaitingList, WaitlistExport{ID: e.ID, ResourceID: e.ResourceID, Start: e.StartsAt.UTC(), End: e.EndsAt.UTC(),
			Seats: e.Seats, AutoBook: e.AutoBook, Status: e.Status, CreatedAt: e.CreatedAt.UTC()})
	}
	var grants []struct {
		Grant
		Name   string `bun:"q_name"`
		SiteID string `bun:"q_site_id"`
	}
	if err := svc.db.NewSelect().Model((*Grant)(nil)).ColumnExpr("g.*, q.name AS q_name, q.site_id AS q_site_id").
		Join("JOIN qualifications AS q ON q.id = g.qualification_id").
		Where("g.user_id = ?", userID).Order("g.granted_at").Scan(ctx, &grants); err != nil {
		return nil, fmt.Errorf("export qualifications: %w", err)
	}
	for _, g := range grants {
		out.Qualifications = append(out.Qualifications, GrantExport{QualificationID: g.QualificationID, QualificationName: g.Name,
			SiteID: g.SiteID, GrantedAt: g.GrantedAt.UTC(), ExpiresAt: g.ExpiresAt, RevokedAt: g.RevokedAt})
	}
	var tokens []feedToken
	if err := svc.db.NewSelect().Model(&tokens).Where("user_id = ?", userID).Order("created_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export feed tokens: %w", err)
	}
	for _, t := range tokens {
		out.FeedTokens = append(out.FeedTokens, FeedTokenExport{CreatedAt: t.CreatedAt.UTC(), RevokedAt: t.RevokedAt})
	}
	return out, nil
}
