package campaigns

import (
	"io"
	"strconv"
	"time"

	"github.com/relais-tierslieux/relais/internal/csvsafe"
)

// WriteContributionsCSV exports a campaign's contributions for managers.
// Names and emails come from backers, often through another platform's
// file: every cell goes through csvsafe.
func WriteContributionsCSV(w io.Writer, ks []Contribution) error {
	cw := csvsafe.NewWriter(w, ',', false)
	cw.Write([]string{"receipt_number", "contribution_id", "platform", "external_id", "contributed_at", "status", "email", "name",
		"public_name", "amount_cents", "refunded_cents", "credit_unit", "credit_amount", "credit_resource_kind", "member_id", "invoice_id"})
	for _, k := range ks {
		pub, uid, inv := "", "", ""
		if k.PublicName != nil {
			pub = *k.PublicName
		}
		if k.UserID != nil {
			uid = *k.UserID
		}
		if k.InvoiceID != nil {
			inv = *k.InvoiceID
		}
		cw.Write([]string{k.ReceiptNumber(), k.ID, k.Platform, k.ExternalID, k.ContributedAt.UTC().Format(time.RFC3339), k.Status,
			k.Email, k.Name, pub, strconv.FormatInt(k.AmountCents, 10), strconv.FormatInt(k.RefundedCents, 10), k.CreditUnit,
			strconv.FormatInt(k.CreditAmount, 10), k.CreditResourceKind, uid, inv})
	}
	return cw.Flush()
}
