package identity

import (
	"context"
	"fmt"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// UserPrincipal is userID as they stand now, without a session: their role
// and the sites they manage, for a credential that names a user but is not
// a login (a manager's calendar feed URL), so that what it opens is decided
// on today's rights, not those of the day it was made. A disabled or
// deleted account is errs.ErrNotFound.
func (s *Service) UserPrincipal(ctx context.Context, userID string) (*Principal, error) {
	var u User
	err := s.db.NewSelect().Model(&u).Column("id", "role", "disabled_at", "deleted_at").Where("id = ?", userID).Scan(ctx)
	if err != nil {
		if isNoRows(err) {
			return nil, fmt.Errorf("account %s: %w", userID, errs.ErrNotFound)
		}
		return nil, fmt.Errorf("read account: %w", err)
	}
	if u.DisabledAt != nil || u.DeletedAt != nil {
		return nil, fmt.Errorf("account %s: %w", userID, errs.ErrNotFound)
	}
	managed, err := s.managedSites(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &Principal{UserID: u.ID, Role: u.Role, ManagedSites: managed}, nil
}
