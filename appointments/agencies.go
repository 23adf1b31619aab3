package appointments

import (
	"context"
	"fmt"

	"github.com/relais-tierslieux/relais/identity"
)

// --- services-app ---

// MyAgencies lists the partners the caller is an agent of (their
// organisation's page in the app), inactive ones included, by name. Users
// only: an API key is no one's agent (forbidden).
func (s *Service) MyAgencies(ctx context.Context, p *identity.Principal) ([]Partner, error) {
	if err := mayListAgencies(p); err != nil {
		return nil, err
	}
	out := []Partner{}
	err := s.db.NewSelect().Model(&out).
		Where("id IN (SELECT partner_id FROM partner_agents WHERE user_id = ?)", p.UserID).
		Order("name", "id").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	return out, nil
}
