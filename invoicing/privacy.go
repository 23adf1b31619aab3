package invoicing

import (
	"context"
)

// What invoicing does for personal data (the privacy package
// orchestrates). Invoices and credit notes are never erased nor changed:
// French law keeps them ten years (Code de commerce, art. L123-22) with the
// buyer they were issued to, and their footprint chain would break.

// MemberDocument is one of a member's invoices or credit notes, with its
// lines, and its PDF.
type MemberDocument struct {
	Invoice Invoice
	PDF     []byte
}

// ExportMember returns the invoices and credit notes issued to userID, in
// issue order, each with its PDF.
func (iv *Invoicer) ExportMember(ctx context.Context, userID string) ([]MemberDocument, error) {
	docs, err := iv.loadDocuments(ctx, InvoiceFilter{UserID: userID})
	if err != nil {
		return nil, err
	}
	out := make([]MemberDocument, 0, len(docs))
	for _, d := range docs {
		inv, err := iv.Get(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		pdf, err := renderPDF(inv)
		if err != nil {
			return nil, err
		}
		out = append(out, MemberDocument{Invoice: *inv, PDF: pdf})
	}
	return out, nil
}
