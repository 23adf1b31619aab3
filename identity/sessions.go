package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// SessionInfo is a login as its owner sees it in their list of sessions.
type SessionInfo struct {
	ID         string
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastUsedAt time.Time
	// Current: the session of the access token that asks.
	Current bool
}

var errSessionNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "session_not_found", Detail: "no such session"}

// ListSessions lists the caller's open sessions (neither ended nor
// expired), oldest first, limit at a time after the cursor. A user only;
// an API key has no sessions (403).
func (s *Service) ListSessions(ctx context.Context, p *Principal, after string, limit int) (Page[SessionInfo], error) {
	if err := MayActAsMe(p); err != nil {
		return Page[SessionInfo]{}, err
	}
	var rows []session
	q := s.db.NewSelect().Model(&rows).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", p.UserID, s.now()).
		Order("id").Limit(limit + 1)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if err := q.Scan(ctx); err != nil {
		return Page[SessionInfo]{}, fmt.Errorf("list sessions: %w", err)
	}
	var page Page[SessionInfo]
	if len(rows) > limit {
		rows = rows[:limit]
		page.NextCursor = rows[limit-1].ID
	}
	page.Items = make([]SessionInfo, len(rows))
	for i, r := range rows {
		page.Items[i] = SessionInfo{ID: r.ID, UserAgent: r.UserAgent, IP: r.IP, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: r.LastUsedAt.UTC(),
			Current: r.ID == p.SessionID}
	}
	return page, nil
}

// EndSession ends one of the caller's sessions (the current one too, as
// logging out does). Another account's session, or one already ended, is
// not found: ids reveal nothing.
func (s *Service) EndSession(ctx context.Context, p *Principal, sessionID string) error {
	defer s.principals.Invalidate() // after the change is committed
	if err := MayActAsMe(p); err != nil {
		return err
	}
	if !id.Valid(sessionID) {
		return errSessionNotFound
	}
	now := s.now()
	res, err := s.db.NewUpdate().Model((*session)(nil)).Set("revoked_at = ?, revoked_reason = ?", now, "ended_by_user").
		Where("id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?", sessionID, p.UserID, now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errSessionNotFound
	}
	return nil
}

// EndOtherSessions ends every session of the caller but the current one.
func (s *Service) EndOtherSessions(ctx context.Context, p *Principal) error {
	defer s.principals.Invalidate() // after the change is committed
	if err := MayActAsMe(p); err != nil {
		return err
	}
	now := s.now()
	if _, err := s.db.NewUpdate().Model((*session)(nil)).Set("revoked_at = ?, revoked_reason = ?", now, "ended_by_user").
		Where("user_id = ? AND id <> ? AND revoked_at IS NULL", p.UserID, p.SessionID).Exec(ctx); err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	return nil
}
