package people

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// ExportMember returns the notes written about userID at every site, for
// their privacy export: notes are personal data about them (RGPD art. 15
// gives them access), though the member's API never shows them.
func (s *Service) ExportMember(ctx context.Context, userID string) ([]Note, error) {
	out := []Note{}
	if err := s.db.NewSelect().Model(&out).Where("user_id = ?", userID).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export notes: %w", err)
	}
	ptrs := make([]*Note, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	return out, s.authors(ctx, ptrs)
}

// ForgetMember erases, in the erasure's transaction, the notes about
// userID and their registrations at sites' desks. Notes they wrote as a
// manager stay (they are about others) and lose their author's name with
// the account's pseudonymisation.
func (s *Service) ForgetMember(ctx context.Context, tx bun.IDB, userID string) error {
	if _, err := tx.NewDelete().Model((*Note)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("erase notes: %w", err)
	}
	if _, err := tx.NewDelete().Model((*sitePerson)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("erase desk registrations: %w", err)
	}
	return nil
}
