package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// handleCheckout starts an online payment: a Stripe Checkout Session for a
// membership (subscription), a day pass or a pack (one payment).
func (s *Server) handleCheckout(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		PlanID  string `json:"plan_id"`
		PackID  string `json:"pack_id"`
		DayPass *struct {
			SiteID string `json:"site_id"`
			Date   string `json:"date"`
		} `json:"day_pass"`
		SiteID     string      `json:"site_id"`
		SuccessURL string      `json:"success_url"`
		CancelURL  string      `json:"cancel_url"`
		Buyer      *buyerInput `json:"buyer"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	req := billing.CheckoutRequest{PlanID: in.PlanID, PackID: in.PackID, SiteID: in.SiteID, SuccessURL: in.SuccessURL, CancelURL: in.CancelURL}
	if in.DayPass != nil {
		req.DayPass = &billing.DayPassCheckout{SiteID: in.DayPass.SiteID, Date: in.DayPass.Date}
	}
	req.Buyer = in.Buyer.toBuyer()
	out, err := s.Billing.CheckoutFor(r.Context(), p, req)
	if err != nil {
		if errors.Is(err, errs.ErrUnavailable) {
			w.Header().Set("Retry-After", "60")
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"session_id": out.SessionID, "url": out.URL, "payment_id": out.PaymentID, "target_id": out.TargetID})
}

// handleStripeWebhook takes Stripe's events. It reads the raw body: the
// signature is computed over the exact bytes Stripe sent.
func (s *Server) handleStripeWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		s.writeError(w, r, badRequest(http.StatusRequestEntityTooLarge, "body_too_large", "", "the event is too large"))
		return
	}
	err = s.Billing.HandleWebhook(r.Context(), body, r.Header.Get("Stripe-Signature"))
	var sig *billing.WebhookSignatureError
	switch {
	case errors.As(err, &sig):
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_signature", "Stripe-Signature", errs.Verbatim(sig.Error())))
	case err != nil:
		s.writeError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]bool{"received": true})
	}
}

// handleChargesCheckout opens a Stripe Checkout Session for the caller's
// open pay-per-use charges at a site.
func (s *Server) handleChargesCheckout(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		SiteID     string      `json:"site_id"`
		SuccessURL string      `json:"success_url"`
		CancelURL  string      `json:"cancel_url"`
		Buyer      *buyerInput `json:"buyer"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.Billing.CheckoutChargesFor(r.Context(), p, billing.ChargesCheckout{SiteID: in.SiteID, SuccessURL: in.SuccessURL,
		CancelURL: in.CancelURL, Buyer: in.Buyer.toBuyer()})
	if err != nil {
		if errors.Is(err, errs.ErrUnavailable) {
			w.Header().Set("Retry-After", "60")
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"session_id": out.SessionID, "url": out.URL, "payment_id": out.PaymentID,
		"amount_cents": out.AmountCents, "charges": out.Charges})
}
