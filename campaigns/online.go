package campaigns

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	relpdf "github.com/relais-tierslieux/relais/internal/pdf"
	"github.com/relais-tierslieux/relais/invoicing"
	"github.com/relais-tierslieux/relais/ledger"
)

// ContributionCheckout is an online contribution a member makes.
type ContributionCheckout struct {
	AmountCents int64
	// PublicName, when not empty, is shown on the campaign's public page.
	PublicName string
	SuccessURL string
	CancelURL  string
	// Buyer is who the invoice is made out to (required when invoicing is on).
	Buyer *invoicing.Buyer
}

// maxContributionCents bounds one contribution: 1 M€.
const maxContributionCents = 100_000_000

func errCampaignClosed(detail string) error {
	return &errs.Problem{Kind: errs.ErrConflict, Code: "campaign_not_open", Detail: detail}
}

// campaignTakes refuses contributions outside the campaign's window.
func campaignTakes(c *Campaign, now time.Time) error {
	switch {
	case c.Status != CampaignOpen:
		return errCampaignClosed("the campaign is closed")
	case !c.Started(now):
		return errCampaignClosed("the campaign has not started yet")
	case !now.Before(c.Deadline):
		return errCampaignClosed("the campaign's deadline has passed")
	}
	return nil
}

// CheckoutContribution opens a Stripe Checkout Session (one payment) for a
// contribution. The contribution is recorded pending; the webhook records
// the money, issues the invoice and grants the credit.
func (s *Service) CheckoutContribution(ctx context.Context, p *identity.Principal, campaignID string, in ContributionCheckout) (*billing.CheckoutResult, error) {
	if err := mayContribute(p); err != nil {
		return nil, err
	}
	userID := p.UserID
	if err := s.payments.OnlinePaymentReady(); err != nil {
		return nil, err
	}
	var v errs.Validator
	v.Check(in.AmountCents >= billing.StripeMinimumCents, "amount_cents", "must be at least %d (Stripe's minimum)", billing.StripeMinimumCents)
	v.Check(in.AmountCents <= maxContributionCents, "amount_cents", "must be at most %d", maxContributionCents)
	v.Check(len(in.PublicName) <= 100, "public_name", "must be at most 100 bytes")
	v.Check(billing.ValidReturnURL(in.SuccessURL), "success_url", "must be an absolute http(s) URL")
	v.Check(billing.ValidReturnURL(in.CancelURL), "cancel_url", "must be an absolute http(s) URL")
	if err := v.Merge(billing.CheckBuyer(in.Buyer)); err != nil {
		return nil, err
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var k *Contribution
	var camp *Campaign
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		c, err := getCampaign(ctx, tx, campaignID, true)
		if err != nil {
			return err
		}
		camp = c
		now := s.now()
		if err := campaignTakes(c, now); err != nil {
			return err
		}
		member, err := s.accounts.Contact(ctx, tx, userID)
		if err != nil {
			return fmt.Errorf("read member: %w", err)
		}
		email, name := member.Email, member.Name
		seq, err := nextReceipt(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		cid := id.New()
		k = &Contribution{ID: cid, CampaignID: c.ID, Platform: "stripe", ExternalID: cid, ReceiptSeq: seq, UserID: &userID,
			Email: normEmail(email), Name: name, AmountCents: in.AmountCents, Status: ContribPending, ContributedAt: now,
			Buyer: in.Buyer, CreatedAt: now, UpdatedAt: now}
		if pn := strings.TrimSpace(in.PublicName); pn != "" {
			k.PublicName = &pn
		}
		c.applyTier(k)
		if _, err := tx.NewInsert().Model(k).Exec(ctx); err != nil {
			return fmt.Errorf("insert contribution: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sess, err := s.contributionSession(ctx, userID, camp, k, in)
	if err != nil {
		if _, uerr := s.db.NewUpdate().Model((*Contribution)(nil)).Set("status = ?, updated_at = ?", ContribExpired, s.now()).
			Where("id = ? AND status = ?", k.ID, ContribPending).Exec(context.WithoutCancel(ctx)); uerr != nil {
			slog.ErrorContext(ctx, "abandon contribution", "contribution_id", k.ID, "error", uerr)
		}
		return nil, billing.CheckoutFailed(ctx, err, "contribution_id", k.ID)
	}
	if _, err := s.db.NewUpdate().Model((*Contribution)(nil)).Set("stripe_checkout_session_id = ?", sess.ID).
		Where("id = ?", k.ID).Exec(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("store checkout session: %w", err)
	}
	return &billing.CheckoutResult{SessionID: sess.ID, URL: sess.URL, TargetID: k.ID}, nil
}

func (s *Service) contributionSession(ctx context.Context, userID string, c *Campaign, k *Contribution, in ContributionCheckout) (*stripe.CheckoutSession, error) {
	meta := map[string]string{"purpose": billing.PurposeContribution, "contribution_id": k.ID, "campaign_id": c.ID, "user_id": userID}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(k.ID),
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(string(stripe.CurrencyEUR)),
				UnitAmount:  stripe.Int64(k.AmountCents),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String("Contribution — " + c.Title)},
			},
		}},
	}
	params.SetIdempotencyKey("relais-contribution-" + k.ID)
	// billing opens it as the member's Stripe customer.
	return s.payments.CheckoutSession(ctx, userID, params)
}

// OnContributionSession records the outcome of a contribution's checkout,
// once whatever the order and number of deliveries: the contribution's
// status says what is already done.
func (s *Contributions) OnContributionSession(ctx context.Context, tx bun.IDB, ev *stripe.Event, at time.Time, cs *stripe.CheckoutSession) error {
	kid := cs.Metadata["contribution_id"]
	if kid == "" {
		kid = cs.ClientReferenceID
	}
	var k Contribution
	found, err := billing.LockStripeRow(ctx, tx, &k, "id = ? AND platform = 'stripe'", kid)
	if err != nil {
		return fmt.Errorf("find contribution: %w", err)
	}
	if !found {
		billing.IgnoreEvent(ctx, ev, "unknown contribution", "contribution_id", kid, "session_id", cs.ID)
		return nil
	}
	if k.StripeCheckoutSessionID != nil && *k.StripeCheckoutSessionID != cs.ID {
		billing.IgnoreEvent(ctx, ev, "session of another checkout", "contribution_id", kid, "session_id", cs.ID)
		return nil
	}
	k.StripeCheckoutSessionID = &cs.ID
	if cs.PaymentIntent != nil && cs.PaymentIntent.ID != "" {
		k.StripePaymentIntentID = &cs.PaymentIntent.ID
	}
	now := s.now()
	k.UpdatedAt = now
	waiting := k.Status == ContribPending || k.Status == ContribExpired
	switch {
	case ev.Type == stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		if waiting {
			k.Status = ContribFailed
		}
	case ev.Type == stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, cs.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid:
		if waiting {
			return s.contributionPaid(ctx, tx, &k, at)
		}
	}
	return saveContribution(ctx, tx, &k)
}

func saveContribution(ctx context.Context, tx bun.IDB, k *Contribution) error {
	if _, err := tx.NewUpdate().Model(k).WherePK().ExcludeColumn("id", "campaign_id", "created_at").Exec(ctx); err != nil {
		return fmt.Errorf("save contribution: %w", err)
	}
	return nil
}

// contributionPaid records the money of an online contribution: its
// invoice, and its credit — pending, vested, or, when the campaign has
// failed meanwhile, none and a refund due (the campaign job refunds it).
func (s *Contributions) contributionPaid(ctx context.Context, tx bun.IDB, k *Contribution, at time.Time) error {
	c, err := getCampaign(ctx, tx, k.CampaignID, true)
	if err != nil {
		return err
	}
	k.Status, k.ContributedAt = ContribPaid, at
	if err := s.invoiceContribution(ctx, tx, c, k); err != nil {
		return err
	}
	if c.Status == CampaignFailed {
		k.Status = ContribRefundDue
		if err := saveContribution(ctx, tx, k); err != nil {
			return err
		}
		return s.schedule(ctx, tx, CampaignDeadlineArgs{CampaignID: c.ID}, time.Time{})
	}
	if err := saveContribution(ctx, tx, k); err != nil {
		return err
	}
	return s.creditContribution(ctx, tx, c, k)
}

// invoiceContribution issues the invoice of an online contribution: the
// credit it buys is a prepayment of the place's services, invoiced TTC at
// the campaign's VAT rate.
func (s *Contributions) invoiceContribution(ctx context.Context, tx bun.IDB, c *Campaign, k *Contribution) error {
	if k.InvoiceID != nil || k.UserID == nil {
		return nil
	}
	var buyer invoicing.Buyer
	if k.Buyer != nil {
		buyer = *k.Buyer
	}
	buyer.UserID = *k.UserID
	if buyer.Name == "" {
		buyer.Name = k.Name
	}
	if buyer.Email == "" {
		buyer.Email = k.Email
	}
	loc := billing.SiteLocation(ctx, tx, c.SiteID)
	day := k.ContributedAt.In(loc).Format("2006-01-02")
	desc := fmt.Sprintf("Contribution à la campagne « %s » (reçu %s)", c.Title, k.ReceiptNumber())
	if k.CreditAmount > 0 {
		desc += " — contrepartie : " + creditText(k.CreditUnit, k.CreditAmount, k.CreditResourceKind)
	}
	ref := ""
	if k.StripePaymentIntentID != nil {
		ref = *k.StripePaymentIntentID
	}
	inv, err := s.invoicer.Issue(ctx, tx, invoicing.InvoiceInput{SiteID: c.SiteID, Buyer: buyer,
		Lines:       []invoicing.InvoiceLineInput{{Description: desc, QuantityMilli: 1000, UnitPriceCents: k.AmountCents, PriceIncludesVAT: true, VATRateBP: c.VATRateBP}},
		ServiceFrom: day, ServiceTo: day,
		Payment: &invoicing.InvoicePayment{PaidAt: k.ContributedAt, Method: billing.MethodCard, Reference: ref}})
	if err != nil {
		return fmt.Errorf("invoice contribution %s: %w", k.ID, err)
	}
	k.InvoiceID = &inv.ID
	return nil
}

// CreditDescription says an amount of credit in French.
func CreditDescription(unit string, amount int64, kind string) string {
	return creditText(unit, amount, kind)
}

// ReceiptText is the receipt of a contribution as a paragraph in French.
func ReceiptText(seller string, c *Campaign, k *Contribution) string {
	t := fmt.Sprintf("%s reconnaît avoir reçu de %s (%s) la somme de %s € le %s, au titre de sa contribution à la campagne « %s » (reçu n° %s).",
		seller, k.Name, k.Email, euros(k.AmountCents), relpdf.FrenchDate(k.ContributedAt), c.Title, k.ReceiptNumber())
	if k.CreditAmount > 0 {
		t += " Contrepartie : " + creditText(k.CreditUnit, k.CreditAmount, k.CreditResourceKind) + " à utiliser sur place."
	}
	if k.Platform != "stripe" {
		by := "une autre plateforme"
		if k.Platform == FormatHelloAsso {
			by = "HelloAsso"
		}
		t += " Paiement reçu par " + by + " (référence " + k.ExternalID + ")."
	}
	if k.InvoiceID != nil {
		t += " Une facture a été émise pour ce paiement."
	}
	return t
}

// creditText says an amount of credit in French: "120,00 € de crédit" or
// "10 h 30 de machine".
func creditText(unit string, amount int64, kind string) string {
	if unit == ledger.UnitCents {
		return fmt.Sprintf("%s € de crédit", euros(amount))
	}
	h, m := amount/60, amount%60
	if m == 0 {
		return fmt.Sprintf("%d h de %s", h, kind)
	}
	return fmt.Sprintf("%d h %02d de %s", h, m, kind)
}

func euros(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d", sign, cents/100, cents%100)
}

// OnContributionRefunded records a refund Stripe reports for a
// contribution (ours at settlement, or one made in Stripe's dashboard):
// the credit note of what was not recorded yet, and, once all the money is
// back, the credit it had earned withdrawn (what is left of it).
func (s *Contributions) OnContributionRefunded(ctx context.Context, tx bun.IDB, ev *stripe.Event, ch *stripe.Charge) (bool, error) {
	if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return false, nil
	}
	var k Contribution
	found, err := billing.LockStripeRow(ctx, tx, &k, "stripe_payment_intent_id = ? AND platform = 'stripe'", ch.PaymentIntent.ID)
	if err != nil || !found {
		return false, err
	}
	if k.Status != ContribPaid && k.Status != ContribRefundDue && k.Status != ContribRefunded {
		return true, fmt.Errorf("refund of contribution %s which is %s", k.ID, k.Status)
	}
	if err := s.recordContributionRefund(ctx, tx, &k, ch.AmountRefunded); err != nil {
		return true, err
	}
	if k.Status == ContribRefunded && k.LotID != nil && k.UserID != nil {
		return true, s.ledger.ReclaimLot(ctx, tx, *k.LotID, *k.UserID, "contribution refunded")
	}
	return true, nil
}
