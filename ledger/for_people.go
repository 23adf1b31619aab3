package ledger

import (
	"context"
)

// UsableAt lists the credit userID may spend at siteID now (lots of that
// site or of every site, not expired), for the front desk's picture of a
// person (package people, which decides who may read it); pending credit
// is left out.
func (s *Service) UsableAt(ctx context.Context, userID, siteID string) ([]CreditBalance, error) {
	lots, err := heldLots(ctx, s.db, memberAccount(userID), nil)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []CreditBalance{}
	for _, l := range lots {
		if l.expired(now) || l.Balance <= 0 || (l.SiteID != nil && *l.SiteID != siteID) {
			continue
		}
		out = append(out, CreditBalance{Lot: l.CreditLot, Available: l.Balance})
	}
	return out, nil
}
