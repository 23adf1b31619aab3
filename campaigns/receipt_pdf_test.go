package campaigns

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/relais-tierslieux/relais/billing"
	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/pdftest"
	"github.com/relais-tierslieux/relais/internal/stripetest"
	"github.com/relais-tierslieux/relais/invoicing"
)

// TestReceiptPDF renders the receipts of an imported and of an online
// contribution, before and after the campaign succeeds, and reads their
// text back.
func TestReceiptPDF(t *testing.T) {
	t.Parallel()
	f := newCampaignFixture(t, 2, stripetest.Start(t))
	ctx := context.Background()
	c := f.campaign(t, ModeAllOrNothing, 14000)
	anne := f.users[0]

	if _, err := f.camp.ImportContributions(ctx, identity.System(), c.ID, []byte("contribution_id;email;name;amount;date\nHA-77;m1@example.fr;Hélène Lefèvre;120;2026-03-02\n")); err != nil {
		t.Fatal(err)
	}
	ks, _ := f.camp.ListContributions(ctx, identity.System(), c.ID, ContributionFilter{})
	if len(ks) != 1 {
		t.Fatalf("imported %d contributions", len(ks))
	}
	imported := ks[0]

	res, err := f.camp.CheckoutContribution(ctx, &identity.Principal{UserID: anne}, c.ID, ContributionCheckout{AmountCents: 2500, SuccessURL: "https://x.fr/ok",
		CancelURL: "https://x.fr/ko", Buyer: &invoicing.Buyer{Address: calendar.Address{Line1: "3 rue des Lilas", PostalCode: "23000", City: "Guéret", Country: "FR"}}})
	if err != nil {
		t.Fatal(err)
	}
	f.mustDeliver(t, stripetest.Event("checkout.session.completed", *f.clock, map[string]any{"id": res.SessionID, "object": "checkout.session",
		"client_reference_id": res.TargetID, "mode": "payment", "payment_status": "paid", "status": "complete", "payment_intent": "pi_" + res.TargetID,
		"metadata": map[string]any{"purpose": billing.PurposeContribution, "contribution_id": res.TargetID, "campaign_id": c.ID}}))
	online, _ := f.camp.GetContribution(ctx, res.TargetID)
	if online.Status != ContribPaid || online.InvoiceID == nil {
		t.Fatalf("online contribution = %+v", online)
	}
	var invoiceNumber string
	if err := f.db.NewSelect().Model((*invoicing.Invoice)(nil)).Column("number").Where("id = ?", *online.InvoiceID).Scan(ctx, &invoiceNumber); err != nil {
		t.Fatal(err)
	}

	tr := fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
	render := func(t *testing.T, contributionID string) (pdf []byte, text string) {
		t.Helper()
		var buf bytes.Buffer
		if err := f.camp.ReceiptPDF(ctx, identity.System(), contributionID, &buf); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || !bytes.Contains(buf.Bytes(), []byte("%%EOF")) {
			t.Fatalf("not a PDF: %q", buf.Bytes()[:min(20, buf.Len())])
		}
		return buf.Bytes(), pdftest.Text(t, buf.Bytes())
	}
	check := func(t *testing.T, text string, want, not []string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, tr(w)) {
				t.Errorf("receipt lacks %q", w)
			}
		}
		for _, n := range not {
			if strings.Contains(text, tr(n)) {
				t.Errorf("receipt shows %q", n)
			}
		}
	}
	place := []string{"SCIC La Fabrique", "La Fabrique", "2 place de la Mairie", "23000 Guéret", "SCIC SAS",
		"SIREN 732829320 — SIRET 73282932000074", "N° TVA intracommunautaire : FR44732829320",
		"Reçu de contribution", "Une découpeuse laser", "Date de la contribution", "02/03/2026", "Édité le 02/03/2026"}
	pending := "en attente : acquise si la campagne atteint son objectif au 02/04/2026"

	first, text := render(t, imported.ID)
	check(t, text, append([]string{"N° " + imported.ReceiptNumber(), "Reçu de contribution n° " + imported.ReceiptNumber() + " — page 1/",
		"Hélène Lefèvre", "m1@example.fr", "120,00\u00a0€", "Autre plateforme (import)", "HA-77",
		"Laser", "10 h de machine à utiliser sur place", pending, "jusqu'au 02/04/2027",
		"SCIC La Fabrique reconnaît avoir reçu de Hélène Lefèvre", "Paiement reçu par une autre plateforme (référence HA-77)."}, place...), []string{"Facture", "Stripe"})
	if again, _ := render(t, imported.ID); !bytes.Equal(first, again) {
		t.Error("the same receipt at the same clock gave different bytes")
	}

	_, text = render(t, online.ID)
	check(t, text, append([]string{"N° " + online.ReceiptNumber(), "Membre 0", "m0@example.fr", "25,00\u00a0€",
		"Paiement en ligne (Stripe)", "pi_" + online.ID, "Facture", "n° " + invoiceNumber, "Soutien", "24,00 € de crédit", pending,
		"sans limite de durée"}, place...), []string{"HA-77"})

	// The campaign reaches its goal: the credit is acquired, on a receipt
	// edited later (the service's clock, not the machine's).
	if got, err := f.camp.CloseCampaign(ctx, identity.System(), c.ID); err != nil || got.Status != CampaignSucceeded {
		t.Fatalf("close: %v %+v", err, got)
	}
	*f.clock = f.clock.AddDate(0, 0, 10)
	_, text = render(t, imported.ID)
	check(t, text, []string{"Statut", "acquise", "Édité le 12/03/2026", "Date de la contribution"}, []string{pending, "Édité le 02/03/2026"})

	if err := f.camp.ReceiptPDF(ctx, identity.System(), "nope", &bytes.Buffer{}); problemCode(err) != "contribution_not_found" {
		t.Fatalf("unknown contribution: %v", err)
	}
}

// TestRewardStatus covers the states of a contribution's credit the
// receipt prints.
func TestRewardStatus(t *testing.T) {
	user := "u1"
	for _, tc := range []struct {
		name           string
		mode, campaign string
		status         string
		member         *string
		want           string
		live           bool
	}{
		{"pending until the goal", ModeAllOrNothing, CampaignOpen, ContribPaid, &user, "en attente : acquise si la campagne atteint son objectif au 02/04/2026", true},
		{"vested at once", ModeKeepItAll, CampaignOpen, ContribPaid, &user, "acquise", true},
		{"vested with the goal", ModeAllOrNothing, CampaignSucceeded, ContribPaid, &user, "acquise", true},
		{"held for a newcomer", ModeKeepItAll, CampaignSucceeded, ContribPaid, nil, "acquise — créditée au compte de z@example.fr dès son inscription et la confirmation de cette adresse", true},
		{"voided", ModeAllOrNothing, CampaignFailed, ContribPaid, &user, "annulée : la campagne n'a pas atteint son objectif", false},
		{"refund due", ModeAllOrNothing, CampaignFailed, ContribRefundDue, &user, "annulée : la contribution est en cours de remboursement", false},
		{"refunded", ModeKeepItAll, CampaignSucceeded, ContribRefunded, &user, "annulée : la contribution a été remboursée", false},
		{"not paid yet", ModeKeepItAll, CampaignOpen, ContribPending, &user, "en attente du paiement", true},
		{"payment failed", ModeKeepItAll, CampaignOpen, ContribFailed, &user, "aucune : le paiement n'a pas abouti", false},
	} {
		c := &Campaign{Mode: tc.mode, Status: tc.campaign, Deadline: time.Date(2026, 4, 2, 5, 0, 0, 0, time.UTC)}
		k := &Contribution{Status: tc.status, UserID: tc.member, Email: "z@example.fr"}
		if got, live := rewardStatus(c, k); got != tc.want || live != tc.live {
			t.Errorf("%s: %q %v, want %q %v", tc.name, got, live, tc.want, tc.live)
		}
	}
}
