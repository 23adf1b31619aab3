package people

import (
	"context"
	"fmt"
	"time"

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

// GuestRecord is a guest's row as their export shows it.
type GuestRecord struct {
	SiteID    string    `json:"site_id"`
	Commune   Commune   `json:"commune"`
	AgeBand   string    `json:"age_band"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ExportGuest returns what the guests table holds of userID, or nil when
// they were never registered as a guest.
func (s *Service) ExportGuest(ctx context.Context, userID string) (*GuestRecord, error) {
	var rows []guestRow
	if err := s.db.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("export guest: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	g := &GuestRecord{SiteID: r.SiteID, Commune: Commune{Name: r.CommuneName}, AgeBand: r.AgeBand, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.CommuneINSEE != nil {
		g.Commune.INSEE = *r.CommuneINSEE
	}
	if r.PostalCode != nil {
		g.Commune.PostalCode = *r.PostalCode
	}
	return g, nil
}

// ForgetMember erases, in the erasure's transaction, the notes about
// userID, their registrations at sites' desks and their guest row. Notes they wrote as a
// manager stay (they are about others) and lose their author's name with
// the account's pseudonymisation.
func (s *Service) ForgetMember(ctx context.Context, tx bun.IDB, userID string) error {
	if _, err := tx.NewDelete().Model((*Note)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("erase notes: %w", err)
	}
	if _, err := tx.NewDelete().Model((*sitePerson)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("erase desk registrations: %w", err)
	}
	if _, err := tx.NewDelete().Model((*guestRow)(nil)).Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("erase guest: %w", err)
	}
	return nil
}
