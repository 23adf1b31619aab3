package ledger

import (
	"context"

	"github.com/relais-tierslieux/relais/identity"
)

// What the ledger does for personal data (the privacy package
// orchestrates). The ledger is never erased nor changed: its entries are
// accounting records, and a member's account in it keeps its user id,
// whose name and email identity pseudonymises.

// MemberExport is a member's credit: what they hold now and every movement
// that touched it.
type MemberExport struct {
	Balances  []CreditBalance  `json:"balances"`
	Movements []MemberMovement `json:"movements"`
}

// exportPage is how many movements are read at a time.
const exportPage = 500

// ExportMember returns the credit of userID and its movements, oldest
// first.
func (s *Service) ExportMember(ctx context.Context, userID string) (*MemberExport, error) {
	p := &identity.Principal{UserID: userID, Role: identity.RoleMember}
	balances, err := s.Balances(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &MemberExport{Balances: append([]CreditBalance{}, balances...), Movements: []MemberMovement{}}
	after := ""
	for {
		page, err := s.memberMovements(ctx, userID, after, exportPage, "")
		if err != nil {
			return nil, err
		}
		out.Movements = append(out.Movements, page...)
		if len(page) < exportPage {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}
