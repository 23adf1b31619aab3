package campaigns

import (
	"bytes"
	"context"

	"github.com/relais-tierslieux/relais/identity"
)

// What the campaigns do for personal data (the privacy package
// orchestrates). A contribution is a payment with its receipt and, online,
// its invoice: it is kept, with the contributor's name and address as the
// receipt gives them, like the invoices.

// MemberContribution is one of a member's contributions and its receipt.
type MemberContribution struct {
	Contribution Contribution
	// ReceiptPDF is empty for a contribution that has no receipt (not
	// paid).
	ReceiptPDF []byte
}

// ExportMember returns the contributions of userID, oldest first, with
// their receipts.
func (s *Service) ExportMember(ctx context.Context, userID string) ([]MemberContribution, error) {
	p := &identity.Principal{UserID: userID, Role: identity.RoleMember}
	ks, err := s.MyContributions(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]MemberContribution, 0, len(ks))
	for i := len(ks) - 1; i >= 0; i-- {
		mc := MemberContribution{Contribution: ks[i]}
		if ks[i].ReceiptSeq > 0 {
			var b bytes.Buffer
			if err := s.ReceiptPDF(ctx, p, ks[i].ID, &b); err != nil {
				return nil, err
			}
			mc.ReceiptPDF = b.Bytes()
		}
		out = append(out, mc)
	}
	return out, nil
}
