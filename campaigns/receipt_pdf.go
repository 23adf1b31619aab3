package campaigns

import (
	"context"
	"fmt"
	"io"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
	"github.com/relais-tierslieux/relais/invoicing"
)

var platformLabels = map[string]string{
	"stripe":        "Paiement en ligne (Stripe)",
	FormatHelloAsso: "HelloAsso (import)",
	FormatGeneric:   "Autre plateforme (import)",
}

var paymentLabels = map[string]string{
	ContribPending:   "en attente de paiement",
	ContribPaid:      "reçu",
	ContribRefundDue: "remboursement en cours",
	ContribRefunded:  "remboursé",
	ContribFailed:    "paiement refusé",
	ContribExpired:   "paiement abandonné",
}

// moneyReceived: the receipt then attests that the place got the money.
func moneyReceived(k *Contribution) bool {
	return k.Status == ContribPaid || k.Status == ContribRefundDue || k.Status == ContribRefunded
}

// rewardStatus says where a contribution's credit stands: pending until an
// all_or_nothing campaign succeeds, vested, voided when it fails, taken
// back with a refund. live is false when there is no credit to use.
func rewardStatus(c *Campaign, k *Contribution) (text string, live bool) {
	switch k.Status {
	case ContribPending:
		return "en attente du paiement", true
	case ContribFailed, ContribExpired:
		return "aucune : le paiement n'a pas abouti", false
	case ContribRefundDue:
		return "annulée : la contribution est en cours de remboursement", false
	case ContribRefunded:
		return "annulée : la contribution a été remboursée", false
	}
	switch {
	case c.Status == CampaignFailed:
		return "annulée : la campagne n'a pas atteint son objectif", false
	case c.Mode == ModeAllOrNothing && c.Status == CampaignOpen:
		text = "en attente : acquise si la campagne atteint son objectif au " + relpdf.FrenchDate(c.Deadline)
	default:
		text = "acquise"
	}
	if k.UserID == nil {
		text += " — créditée au compte de " + k.Email + " dès son inscription et la confirmation de cette adresse"
	}
	return text, true
}

// ReceiptPDF writes the receipt of a contribution as an A4 PDF in French:
// the place's legal identity, the receipt's number, the campaign, the
// contributor, the amount, the platform and its reference, the reward and
// where it stands, and the invoice of an online contribution. It is edited
// at the service's clock, which also dates the PDF. Nothing is written to
// w unless the whole document rendered.
func (s *Service) ReceiptPDF(ctx context.Context, p *identity.Principal, contributionID string, w io.Writer) error {
	k, c, err := s.Contribution(ctx, p, contributionID)
	if err != nil {
		return err
	}
	r, err := s.receiptFacts(ctx, k, c)
	if err != nil {
		return err
	}
	out, err := r.render(s.now())
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// receipt is what a contribution's receipt says.
type receipt struct {
	k             *Contribution
	c             *Campaign
	seller        invoicing.Seller
	expires       *time.Time // the credit's, once granted
	invoiceNumber string
	creditNotes   []string
}

// receiptFacts reads, for contribution k to campaign c, the place that
// received the money, the credit's expiry and the invoice's numbers.
func (s *Service) receiptFacts(ctx context.Context, k *Contribution, c *Campaign) (*receipt, error) {
	site, err := calendar.LoadSite(ctx, s.db, c.SiteID)
	if err != nil {
		return nil, err
	}
	r := &receipt{k: k, c: c, seller: invoicing.SellerOf(site)}
	if r.seller.Name == "" { // a place without a legal identity yet
		r.seller.Name, r.seller.TradeName = site.Name, ""
	}
	if k.LotID != nil {
		if r.expires, err = s.ledger.LotExpiry(ctx, s.db, *k.LotID); err != nil {
			return nil, fmt.Errorf("read contribution credit: %w", err)
		}
	}
	if k.InvoiceID != nil {
		if r.invoiceNumber, r.creditNotes, err = s.invoicer.Numbers(ctx, s.db, *k.InvoiceID); err != nil {
			return nil, fmt.Errorf("read contribution invoice: %w", err)
		}
	}
	return r, nil
}

// render lays the receipt out, edited at now.
func (r *receipt) render(now time.Time) ([]byte, error) {
	k, c := r.k, r.c
	number := k.ReceiptNumber()
	pdf, tr := relpdf.New("Reçu de contribution "+number, r.seller.Name, now, "Reçu de contribution n° "+number)
	pdf.AddPage()
	r.header(pdf, tr, number, now)

	// section prints a heading and its label/value rows.
	section := func(heading string, rows [][2]string) {
		pdf.SetFont("Helvetica", "B", 10)
		pdf.CellFormat(0, 7, tr(heading), "B", 1, "L", false, 0, "")
		pdf.Ln(1)
		for _, r := range rows {
			pdf.SetFont("Helvetica", "B", 9)
			pdf.CellFormat(50, relpdf.Line, tr(r[0]), "", 0, "L", false, 0, "")
			pdf.SetFont("Helvetica", "", 9)
			pdf.MultiCell(relpdf.Width-50, relpdf.Line, tr(r[1]), "", "L", false)
		}
		pdf.Ln(4)
	}
	section("Contribution", r.contributionRows())
	section("Contrepartie", r.rewardRows())

	if moneyReceived(k) {
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 4.5, tr(ReceiptText(r.seller.Name, c, k)), "", "L", false)
	}
	return relpdf.Bytes(pdf, "receipt "+number)
}

// header writes the place, top left; the receipt, top right; the
// contributor below it.
func (r *receipt) header(pdf *fpdf.Fpdf, tr func(string) string, number string, now time.Time) {
	k := r.k
	pdf.SetFont("Helvetica", "B", 12)
	relpdf.Block(pdf, tr, relpdf.Margin, 90, 6, []string{r.seller.Name})
	pdf.SetFont("Helvetica", "", 9)
	relpdf.Block(pdf, tr, relpdf.Margin, 90, 4.5, invoicing.SellerLines(r.seller))
	sellerBottom := pdf.GetY()
	pdf.SetY(relpdf.Margin)
	pdf.SetFont("Helvetica", "B", 14)
	relpdf.Block(pdf, tr, relpdf.Right, 0, 8, []string{"Reçu de contribution"})
	pdf.SetFont("Helvetica", "", 9)
	relpdf.Block(pdf, tr, relpdf.Right, 0, relpdf.Line, []string{"N° " + number, "Édité le " + relpdf.FrenchDate(now)})
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 9)
	relpdf.Block(pdf, tr, relpdf.Right, 0, relpdf.Line, []string{"Contributeur"})
	pdf.SetFont("Helvetica", "", 9)
	who := []string{k.Email}
	if k.Name != "" {
		who = []string{k.Name, k.Email}
	}
	relpdf.Block(pdf, tr, relpdf.Right, 0, relpdf.Line, who)
	pdf.SetXY(relpdf.Margin, max(sellerBottom, pdf.GetY())+10)
}

// contributionRows are the money's lines: campaign, date, amount,
// platform, reference, payment, refunds, invoice and credit notes.
func (r *receipt) contributionRows() [][2]string {
	k, c := r.k, r.c
	ref := k.ExternalID
	if k.StripePaymentIntentID != nil {
		ref = *k.StripePaymentIntentID
	}
	platform := platformLabels[k.Platform]
	if platform == "" {
		platform = k.Platform
	}
	status := paymentLabels[k.Status]
	if status == "" {
		status = k.Status
	}
	contribution := [][2]string{
		{"Campagne", c.Title},
		{"Date de la contribution", relpdf.FrenchDate(k.ContributedAt)},
		{"Montant", invoicing.Euro(k.AmountCents)},
		{"Plateforme", platform},
		{"Référence", ref},
		{"Paiement", status},
	}
	if k.RefundedCents > 0 {
		contribution = append(contribution, [2]string{"Remboursé", invoicing.Euro(k.RefundedCents)})
	}
	if r.invoiceNumber != "" {
		contribution = append(contribution, [2]string{"Facture", "n° " + r.invoiceNumber})
	}
	for _, n := range r.creditNotes {
		contribution = append(contribution, [2]string{"Avoir", "n° " + n})
	}
	return contribution
}

// rewardRows are the reward's lines: tier, credit, where it stands and
// how long it lasts.
func (r *receipt) rewardRows() [][2]string {
	k, c := r.k, r.c
	if k.CreditAmount <= 0 {
		return [][2]string{{"Contrepartie", "aucune (montant inférieur au premier palier)"}}
	}
	var reward [][2]string
	if k.TierIndex != nil && *k.TierIndex < len(c.Tiers) {
		reward = append(reward, [2]string{"Palier", c.Tiers[*k.TierIndex].Name})
	}
	reward = append(reward, [2]string{"Crédit", creditText(k.CreditUnit, k.CreditAmount, k.CreditResourceKind) + " à utiliser sur place"})
	rs, live := rewardStatus(c, k)
	reward = append(reward, [2]string{"Statut", rs})
	switch {
	case !live:
	case r.expires != nil:
		reward = append(reward, [2]string{"Validité", "jusqu'au " + relpdf.FrenchDate(*r.expires)})
	case k.LotID == nil && k.TierIndex != nil && *k.TierIndex < len(c.Tiers) && c.Tiers[*k.TierIndex].ExpiresAfterDays > 0:
		reward = append(reward, [2]string{"Validité", fmt.Sprintf("%d jours après l'acquisition du crédit", c.Tiers[*k.TierIndex].ExpiresAfterDays)})
	default:
		reward = append(reward, [2]string{"Validité", "sans limite de durée"})
	}
	return reward
}
