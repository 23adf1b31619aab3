//go:build browser

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/relais-tierslieux/relais/internal/stripetest"
)

// The wallet's journeys: plans bought through Stripe Checkout (stripe-mock
// stands for Stripe, and the test signs the webhook Stripe would send),
// invoices and their PDF, credits and a gift, a campaign's public page,
// contributions, and the member's trainings.

const walletWebhookSecret = "whsec_relais_e2e_wallet"

// sessionLog sits between relais and stripe-mock and keeps the Checkout
// Sessions stripe-mock answered: their ids (which the webhook must name)
// and the URLs the browser must be sent to.
type sessionLog struct {
	mu       sync.Mutex
	sessions []struct{ ID, URL string }
}

func (l *sessionLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions)
}

// next waits for the Checkout Session after the first n and returns it.
func (l *sessionLog) next(t *testing.T, n int) (id, url string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		l.mu.Lock()
		if len(l.sessions) > n {
			s := l.sessions[n]
			l.mu.Unlock()
			return s.ID, s.URL
		}
		l.mu.Unlock()
	}
	t.Fatal("relais opened no Checkout Session")
	return "", ""
}

func recordSessions(t *testing.T, stripeMock string) (string, *sessionLog) {
	t.Helper()
	target, err := url.Parse(stripeMock)
	if err != nil {
		t.Fatal(err)
	}
	log := &sessionLog{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(res *http.Response) error {
		if res.Request.Method != http.MethodPost || res.Request.URL.Path != "/v1/checkout/sessions" || res.StatusCode != http.StatusOK {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(b))
		var s struct{ ID, URL string }
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		log.mu.Lock()
		log.sessions = append(log.sessions, s)
		log.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL, log
}

// wallet is one relais with online payment (stripe-mock), an admin, a
// site with its legal identity, and its plans.
type wallet struct {
	*relais
	stripe *sessionLog
	admin  string
	site   string
	pass   string // a day pass at 25,00 €
	member string // a monthly membership at 300,00 €
}

func startWallet(t *testing.T) *wallet {
	t.Helper()
	proxy, log := recordSessions(t, stripetest.Start(t))
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice",
		"--stripe-secret-key", "sk_test_relais", "--stripe-webhook-secret", walletWebhookSecret, "--stripe-api-url", proxy)
	w := &wallet{relais: srv, stripe: log, admin: srv.login(t, "admin@example.org", "la phrase de l’administratrice")}
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var site struct{ ID string }
	srv.call(t, "POST", "/v1/sites", w.admin, map[string]any{
		"name": "La Fabrique", "timezone": "Europe/Paris", "opening_hours": hours,
		"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &site)
	w.site = site.ID
	var pass, member struct{ ID string }
	srv.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": w.site, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &pass)
	srv.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": w.site, "kind": "membership", "name": "Résident", "price_cents": 30000,
		"includes": map[string]any{"resource_kinds": []string{"desk", "zone"}, "door_access": "24_7"}}, http.StatusCreated, &member)
	// A cheaper membership, to move to.
	srv.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": w.site, "kind": "membership", "name": "Coworker", "price_cents": 15000,
		"includes": map[string]any{"resource_kinds": []string{"zone"}}}, http.StatusCreated, nil)
	w.pass, w.member = pass.ID, member.ID
	return w
}

var billingAddress = map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "69002", "city": "Lyon", "country": "FR"}}

// webhook posts the event Stripe would send, signed with the endpoint's
// secret, and expects it to be applied.
func (w *wallet) webhook(t *testing.T, typ string, object map[string]any) {
	t.Helper()
	payload, header := stripetest.SignEvent(t, stripetest.Event(typ, time.Now(), object), walletWebhookSecret)
	req, err := http.NewRequest("POST", w.URL+"/v1/webhooks/stripe", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s: %d %s", typ, res.StatusCode, b)
	}
}

// walletBrowser is browser() with Stripe's Checkout host pointed at a closed
// local port: the test checks where the app sends the browser, and nothing
// leaves the machine.
func walletBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.Flag("host-resolver-rules", "MAP checkout.stripe.com 127.0.0.1:9"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// waitNavigatedTo waits until the tab's current history entry is want (a
// page of another site, which may not load: the entry is there all the same).
func (p *page) waitNavigatedTo(want string) {
	p.t.Helper()
	var got string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		h, err := chromedp.Run(ctx, chromedp.NavigationEntries())
		cancel()
		if err == nil && int(h.CurrentIndex) < len(h.Entries) {
			if got = h.Entries[h.CurrentIndex].URL; got == want {
				return
			}
		}
	}
	p.t.Fatalf("the browser is at %q, not sent to %q\nthe page shows:\n%s", got, want, p.text())
}

// frenchDate is the app's formatDate in French: "mardi 9 décembre", with
// the year when it is not this year.
func frenchDate(d time.Time, loc *time.Location) string {
	d = d.In(loc)
	s := fmt.Sprintf("%s %d %s", frenchDays[d.Weekday()], d.Day(), frenchMonths[d.Month()])
	if d.Year() != time.Now().In(loc).Year() {
		s += fmt.Sprintf(" %d", d.Year())
	}
	return s
}

// TestWalletPlansCheckout: a member sees the site's plans with French
// prices, buys a day pass (typing the billing address the invoice needs),
// is sent to the Checkout page stripe-mock opened; back before Stripe's
// webhook, the return page waits, and shows the payment once it arrives.
func TestWalletPlansCheckout(t *testing.T) {
	w := startWallet(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b := walletBrowser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("fanny.%s@example.org", vp.name)
			w.register(t, "Fanny", email, "une phrase pour Fanny")
			p := newPage(t, b, vp)
			p.signIn(w.URL, email, "une phrase pour Fanny", "Fanny")
			p.click("Formules")
			p.waitHeading("Formules")
			p.waitText("main .wallet-price", "25,00\u00a0€ TTC (20,83\u00a0€ HT)")
			p.waitText("main .wallet-price", "300,00\u00a0€ TTC par mois (250,00\u00a0€ HT)")
			p.waitText("main .wallet-includes", "Accès au lieu 24\u00a0h/24, 7\u00a0j/7")
			p.waitText("main", "Vous n’avez pas d’abonnement, de pass ni de carnet en cours.")

			p.click("Acheter un pass")
			// No billing address on the account yet: the form asks for it.
			p.fill("Adresse", "3 rue des Lilas")
			p.fill("Code postal", "69002")
			p.fill("Ville", "Lyon")
			n := w.stripe.count()
			p.click("Payer en ligne")
			sessionID, checkoutURL := w.stripe.next(t, n)
			p.waitNavigatedTo(checkoutURL)

			// Back from Stripe before its webhook: the page waits for it.
			p.open(w.URL + "/payments/success?for=plan")
			p.waitHeading("Paiement en cours de confirmation")
			p.waitText("main [role=status]", "Nous attendons la confirmation de votre paiement")

			// Stripe says the session was paid.
			tok := w.login(t, email, "une phrase pour Fanny")
			var pays struct {
				Items []struct {
					ID, Status, Purpose string
					SiteID              string `json:"site_id"`
				}
			}
			w.call(t, "GET", "/v1/me/payments", tok, nil, http.StatusOK, &pays)
			if len(pays.Items) != 1 || pays.Items[0].Status != "pending" || pays.Items[0].Purpose != "day_pass" {
				t.Fatalf("payments after Checkout opened: %+v", pays)
			}
			w.webhook(t, "checkout.session.completed", map[string]any{"id": sessionID, "object": "checkout.session",
				"client_reference_id": pays.Items[0].ID, "payment_status": "paid", "status": "complete", "customer": "cus_test",
				"mode": "payment", "payment_intent": "pi_" + vp.name, "metadata": map[string]string{"payment_id": pays.Items[0].ID}})

			p.waitHeading("Paiement confirmé")
			p.waitText("[role=status][aria-live=polite]", "Paiement confirmé")
			p.waitText("main .alert--success", "Paiement de 25,00\u00a0€ reçu le")
			p.waitText("main", "Pour\u00a0: Journée")
			p.waitText("main", "Pass journée du "+frenchDate(time.Now(), paris))
			if n := eval[int](p, `document.querySelectorAll('main a[href^="/v1/invoices/"]').length`); n != 1 {
				t.Errorf("%d links to the invoice on the return page", n)
			}
			// The pass is the member's now.
			p.click("Mes formules")
			p.waitHeading("Formules")
			p.waitText("main .wallet-holding", "Pass journée du")
			p.waitText("main .wallet-holding .badge", "Payé")

			// Stripe's cancel page says nothing was charged.
			p.open(w.URL + "/payments/cancel?for=plan")
			p.waitHeading("Paiement abandonné")
			p.waitText("main", "rien n’a été débité")
		})
	}
}

// TestWalletInvoicesCreditsMembership: a member with a membership paid at
// the desk sees the invoice and downloads its PDF with the session cookie,
// cancels the membership (told the date it ends first), then gives credit
// to another member: a wrong address is refused in words, a right one
// moves the credit.
func TestWalletInvoicesCreditsMembership(t *testing.T) {
	w := startWallet(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("gael.%s@example.org", vp.name)
			friend := fmt.Sprintf("hugo.%s@example.org", vp.name)
			id := w.register(t, "Gaël", email, "une phrase pour Gaël")
			w.register(t, "Hugo", friend, "une phrase pour Hugo")
			w.call(t, "POST", "/v1/sites/"+w.site+"/payments", w.admin, map[string]any{"user_id": id, "plan_id": w.member, "method": "cash",
				"amount_cents": 30000, "buyer": billingAddress}, http.StatusCreated, nil)
			w.call(t, "POST", "/v1/users/"+id+"/credits", w.admin, map[string]any{"site_id": w.site, "action": "grant", "unit": "cents",
				"amount": 2000, "reason": "Bienvenue"}, http.StatusCreated, nil)
			var mine struct {
				Memberships []struct {
					End time.Time `json:"current_period_end"`
				}
			}
			w.call(t, "GET", "/v1/me/memberships", w.login(t, email, "une phrase pour Gaël"), nil, http.StatusOK, &mine)
			if len(mine.Memberships) != 1 {
				t.Fatalf("memberships %+v", mine)
			}
			end := frenchDate(mine.Memberships[0].End, paris)

			p := newPage(t, b, vp)
			p.signIn(w.URL, email, "une phrase pour Gaël", "Gaël")
			p.click("Factures")
			p.waitHeading("Factures")
			p.waitText("main .wallet-row", "300,00\u00a0€ TTC")
			p.waitText("main .wallet-row .badge", "Payée le")
			p.waitText("main", "Vous n’avez rien à régler.")
			// The PDF is a plain link: the session cookie opens it.
			head := eval[string](p, `fetch(document.querySelector("main a.wallet-pdf").href, {credentials: "same-origin"})
				.then((r) => r.arrayBuffer()).then((b) => new TextDecoder().decode(new Uint8Array(b).slice(0, 4)))`)
			if head != "%PDF" {
				t.Errorf("the invoice's link gives %q, not a PDF", head)
			}
			label := eval[string](p, `document.querySelector("main a.wallet-pdf").getAttribute("aria-label")`)
			if !strings.HasPrefix(label, "PDF de la facture ") {
				t.Errorf("the PDF link is named %q", label)
			}
			// Past the access cookie's 15 minutes, a click renews the session
			// before the download, and the member stays on the page.
			p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, network.DeleteCookies, network.DeleteCookiesParams{Name: "__Host-relais_session", URL: w.URL})
				return err
			}))
			p.do(chromedp.Click(chromedp.JSPath(`document.querySelector("main a.wallet-pdf")`)))
			for deadline := time.Now().Add(10 * time.Second); p.cookies(w.URL)["__Host-relais_session"] == nil; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the session was not renewed before the download")
				}
			}
			p.waitHeading("Factures")

			// The membership, its renewal, and cancelling it.
			p.click("Formules")
			p.waitHeading("Formules")
			p.waitText("main .wallet-holding", "Prochain renouvellement le "+end)
			// Subscribed, the member changes plan rather than subscribing twice.
			p.waitText("main .wallet-plan .badge--ok", "Votre formule actuelle")
			if n := eval[int](p, `[...document.querySelectorAll("main .wallet-plan button")].filter((b) => b.textContent === "S’abonner").length`); n != 0 {
				t.Errorf("%d plans offer a second subscription", n)
			}
			// A cheaper plan applies at the renewal.
			p.click("Changer de formule")
			p.waitJS(`document.activeElement && document.activeElement.tagName === "SELECT"`, "the focus on the new plan's choice")
			p.do(chromedp.Evaluate[chromedp.Void](`(() => {
				const s = document.activeElement;
				s.value = [...s.options].find((o) => o.textContent.startsWith("Coworker")).value;
				s.dispatchEvent(new Event("change", {bubbles: true}));
			})()`))
			p.click("Confirmer le changement")
			p.waitText("main .alert--success", "C’est noté\u00a0: vous passerez à la formule Coworker le "+end+".")
			p.waitText("main .wallet-holding", "Passe à la formule Coworker au prochain renouvellement")
			p.click("Résilier")
			p.waitText("main .wallet-confirm", "Votre abonnement restera actif jusqu’au "+end+", puis prendra fin.")
			p.waitJS(`document.activeElement.id.endsWith("-confirm")`, "the focus on the confirmation")
			p.click("Confirmer la résiliation")
			p.waitText("main .alert--success", "Résiliation enregistrée. Votre abonnement reste actif jusqu’au "+end+".")
			p.waitText("[role=status][aria-live=polite]", "Résiliation enregistrée.")
			p.waitText("main .wallet-holding", "Résilié\u00a0: prend fin le "+end)

			// Credits, then a gift refused, then one made.
			p.click("Factures")
			p.waitHeading("Factures")
			p.click("Crédits")
			p.waitHeading("Crédits")
			p.waitText("main .wallet-balance", "20,00\u00a0€")
			p.waitText("main", "Sans date de fin")
			p.waitText("main .wallet-row", "Crédit offert · Bienvenue")
			p.fill("Adresse e-mail du membre", "personne@example.org")
			p.fill("Montant en euros", "5")
			p.click("Continuer")
			p.waitText("main .wallet-confirm", "Offrir 5,00\u00a0€ au membre personne@example.org\u202f?")
			p.click("Confirmer le cadeau")
			p.waitJS(`!!document.getElementById("gift-to_email-error")`, "the address's refusal")
			reason := eval[string](p, `document.getElementById("gift-to_email-error").textContent`)
			if reason != "aucun membre n’a cette adresse e-mail" {
				t.Errorf("the refusal says %q", reason)
			}
			if eval[string](p, `document.getElementById("gift-to_email").getAttribute("aria-describedby")`) != "gift-to_email-error" {
				t.Error("the refusal is not tied to the address")
			}
			p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("gift-to_email").value = ""`))
			p.fill("Adresse e-mail du membre", friend)
			p.click("Continuer")
			p.click("Confirmer le cadeau")
			p.waitText("main .alert--success", "C’est fait\u00a0: 5,00\u00a0€ offerts à "+friend+".")
			p.waitText("main .wallet-balance", "15,00\u00a0€")
			p.waitText("main .wallet-row", "Cadeau")
			var theirs struct {
				Totals []struct{ Available int64 }
			}
			w.call(t, "GET", "/v1/me/credits", w.login(t, friend, "une phrase pour Hugo"), nil, http.StatusOK, &theirs)
			if len(theirs.Totals) != 1 || theirs.Totals[0].Available != 500 {
				t.Errorf("the friend's credit: %+v", theirs)
			}
			pdf := eval[string](p, `fetch("/v1/me/credits/statement.pdf").then((r) => r.arrayBuffer()).then((b) => new TextDecoder().decode(new Uint8Array(b).slice(0, 4)))`)
			if pdf != "%PDF" {
				t.Errorf("the statement's link gives %q", pdf)
			}
		})
	}
}

// TestWalletCampaignAndTrainings: a campaign's page is public (signed out:
// its progress as an accessible progress bar, its tiers, an invitation to
// sign in); a member contributes through Checkout and finds the
// contribution with its receipt; the member's trainings list their end and
// machines.
func TestWalletCampaignAndTrainings(t *testing.T) {
	w := startWallet(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	var campaign struct{ ID string }
	w.call(t, "POST", "/v1/sites/"+w.site+"/campaigns", w.admin, map[string]any{
		"title": "Une découpeuse laser pour tous", "description": "Aidez-nous à équiper l’atelier.\n\nChaque euro compte.",
		"goal_cents": 100000, "deadline": time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339), "mode": "keep_it_all",
		"tiers": []map[string]any{{"name": "Soutien", "min_cents": 2000, "credit_unit": "cents", "credit_amount": 2500}},
	}, http.StatusCreated, &campaign)
	var qual struct{ ID string }
	w.call(t, "POST", "/v1/sites/"+w.site+"/qualifications", w.admin, map[string]string{"name": "Découpe laser"}, http.StatusCreated, &qual)
	w.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "machine", "name": "Laser Trotec", "qualification_id": qual.ID},
		http.StatusCreated, nil)
	until := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	b := walletBrowser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			// Signed out.
			p := newPage(t, b, vp)
			p.open(w.URL + "/campaigns/" + campaign.ID)
			p.waitHeading("Une découpeuse laser pour tous")
			p.waitText("main", "Chaque euro compte.")
			valueText := eval[string](p, `(() => {
				const bar = document.querySelector("main progress");
				return bar && bar.getAttribute("aria-valuetext") || "";
			})()`)
			if valueText != "0,00\u00a0€ collectés sur 1\u202f000,00\u00a0€ (0\u00a0%)" {
				t.Errorf("the progress bar says %q", valueText)
			}
			p.waitText("main .card", "Vous recevez 25,00\u00a0€ de crédit")
			p.waitText("main a", "Se connecter pour contribuer")
			if n := eval[int](p, `document.querySelectorAll("nav.nav").length`); n != 0 {
				t.Errorf("signed out, the page shows %d navigations", n)
			}

			// A member contributes.
			email := fmt.Sprintf("iris.%s@example.org", vp.name)
			id := w.register(t, "Iris", email, "une phrase pour Iris")
			p.click("Se connecter pour contribuer")
			p.waitHeading("Se connecter")
			p.fill("Adresse e-mail", email)
			p.fill("Mot de passe", "une phrase pour Iris")
			p.click("Se connecter")
			p.waitHeading("Une découpeuse laser pour tous")
			p.fill("Montant en euros", "25")
			p.fill("Adresse", "3 rue des Lilas")
			p.fill("Code postal", "69002")
			p.fill("Ville", "Lyon")
			n := w.stripe.count()
			p.click("Contribuer en ligne")
			_, checkoutURL := w.stripe.next(t, n)
			p.waitNavigatedTo(checkoutURL)
			p.open(w.URL + "/contributions")
			p.waitHeading("Mes contributions")
			p.waitText("main .wallet-row", "Une découpeuse laser pour tous")
			p.waitText("main .wallet-row", "25,00\u00a0€")
			p.waitText("main .wallet-row .badge", "En attente de paiement")
			receipt := eval[string](p, `fetch(document.querySelector('main a[href$="/receipt.pdf"]').href).then((r) => r.arrayBuffer()).then((b) => new TextDecoder().decode(new Uint8Array(b).slice(0, 4)))`)
			if receipt != "%PDF" {
				t.Errorf("the receipt's link gives %q", receipt)
			}

			// Trainings: none, then one granted until a date.
			p.click("Formations")
			p.waitHeading("Mes formations")
			p.waitText("main", "Vous n’avez pas encore de formation validée.")
			w.call(t, "POST", "/v1/qualifications/"+qual.ID+"/grants", w.admin, map[string]any{"user_id": id, "expires_at": until.Format(time.RFC3339)},
				http.StatusCreated, nil)
			p.open(w.URL + "/qualifications")
			p.waitHeading("Mes formations")
			p.waitText("main .wallet-qualif h2", "Découpe laser")
			p.waitText("main .wallet-qualif", "Valable jusqu’au "+frenchDate(until, paris))
			p.waitText("main .wallet-qualif li", "Laser Trotec")
			p.waitText("main .wallet-qualif", "La Fabrique")
		})
	}
}

// TestWalletPayAtTheDesk: without online payment configured, a plan says
// it is paid at the desk, and offers no online purchase.
func TestWalletPayAtTheDesk(t *testing.T) {
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	admin := srv.login(t, "admin@example.org", "la phrase de l’administratrice")
	var site struct{ ID string }
	srv.call(t, "POST", "/v1/sites", admin, map[string]any{
		"name": "Le Quai", "timezone": "Europe/Paris",
		"address": map[string]any{"line1": "2 quai Sud", "postal_code": "69007", "city": "Lyon", "country": "FR"},
		"legal": map[string]any{"company_name": "Association Le Quai", "legal_form": "Association loi 1901",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &site)
	srv.call(t, "POST", "/v1/plans", admin, map[string]any{"site_id": site.ID, "kind": "pack", "name": "Carnet laser 10 h", "price_cents": 15000,
		"includes": map[string]any{"pack_resource_kind": "machine", "pack_minutes": 600, "pack_valid_days": 365}}, http.StatusCreated, nil)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("jade.%s@example.org", vp.name)
			srv.register(t, "Jade", email, "une phrase pour Jade")
			p := newPage(t, b, vp)
			p.signIn(srv.URL, email, "une phrase pour Jade", "Jade")
			p.open(srv.URL + "/plans")
			p.waitHeading("Formules")
			p.waitText("main .wallet-includes", "10\u00a0h de machine")
			p.waitText("main .wallet-includes", "Valable 365\u00a0jours après l’achat")
			p.waitText("main .wallet-plan .alert", "Cette formule se règle à l’accueil du lieu\u00a0: le paiement en ligne n’y est pas proposé pour le moment.")
			if n := eval[int](p, `document.querySelectorAll("main .wallet-plan button").length`); n != 0 {
				t.Errorf("%d buttons to buy online", n)
			}
		})
	}
}

// TestWalletChargesCheckout: pay-per-use time beyond a membership is listed
// under "to pay" with its total, and paying it sends the member to the
// Checkout page stripe-mock opened.
func TestWalletChargesCheckout(t *testing.T) {
	w := startWallet(t)
	var nomade, room struct{ ID string }
	w.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": w.site, "kind": "membership", "name": "Nomade", "price_cents": 5000,
		"includes": map[string]any{"resource_kinds": []string{"desk"}, "pay_per_use": true}}, http.StatusCreated, &nomade)
	w.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "room", "name": "Salle Lavoisier", "capacity": 8,
		"price_per_hour_cents": 2400}, http.StatusCreated, &room)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	b := walletBrowser(t)
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("karim.%s@example.org", vp.name)
			id := w.register(t, "Karim", email, "une phrase pour Karim")
			w.call(t, "POST", "/v1/sites/"+w.site+"/payments", w.admin, map[string]any{"user_id": id, "plan_id": nomade.ID, "method": "cash",
				"amount_cents": 5000, "buyer": billingAddress}, http.StatusCreated, nil)
			date := time.Now().In(paris).AddDate(0, 0, 2+i).Format("2006-01-02")
			w.call(t, "POST", "/v1/reservations", w.login(t, email, "une phrase pour Karim"),
				map[string]any{"resource_id": room.ID, "start": date + "T10:00", "end": date + "T11:00"}, http.StatusCreated, nil)

			p := newPage(t, b, vp)
			p.signIn(w.URL, email, "une phrase pour Karim", "Karim")
			p.click("Factures")
			p.waitHeading("Factures")
			p.waitText("main .wallet-row", "24,00\u00a0€ TTC")
			p.waitText("main .wallet-row", "1\u00a0h")
			p.waitText("main .wallet-total", "Total\u00a0: 24,00\u00a0€ TTC")
			p.fill("Adresse", "3 rue des Lilas")
			p.fill("Code postal", "69002")
			p.fill("Ville", "Lyon")
			n := w.stripe.count()
			p.click("Régler en ligne")
			_, checkoutURL := w.stripe.next(t, n)
			p.waitNavigatedTo(checkoutURL)
		})
	}
}

// TestWalletUnits: the wallet's pure functions, in the browser that runs
// the app.
func TestWalletUnits(t *testing.T) {
	p := unitPage(t)
	const credits, campaign, lib = "/static/pages/credits.js", "/static/pages/campaign.js", "/static/lib/wallet.js"
	tests := []struct {
		name, module, fn string
		args             []any
		want             string // JSON
	}{
		{"whole euros", credits, "parseEuros", []any{"10"}, `1000`},
		{"euros and cents with a comma", credits, "parseEuros", []any{"10,5"}, `1050`},
		{"euros and cents with a point", credits, "parseEuros", []any{" 12.50 "}, `1250`},
		{"thousands with a space", credits, "parseEuros", []any{"1 000"}, `100000`},
		{"three decimals are refused", credits, "parseEuros", []any{"1,005"}, `null`},
		{"a negative amount is refused", credits, "parseEuros", []any{"-5"}, `null`},
		{"words are refused", credits, "parseEuros", []any{"dix"}, `null`},
		{"minutes under an hour", lib, "minutesText", []any{45}, "\"45\u00a0min\""},
		{"whole hours", lib, "minutesText", []any{600}, "\"10\u00a0h\""},
		{"hours and minutes", lib, "minutesText", []any{95}, "\"1\u00a0h\u00a035\""},
		{"a quarter of the goal", campaign, "percent", []any{25000, 100000}, `25`},
		{"past the goal", campaign, "percent", []any{150000, 100000}, `150`},
		{"no goal", campaign, "percent", []any{100, 0}, `0`},
		{"return URLs are the app's, absolute", lib, "returnURLs", []any{"plan"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(t, p, tt.module, tt.fn, tt.args...)
			if tt.fn == "returnURLs" {
				var u struct {
					Success string `json:"success_url"`
					Cancel  string `json:"cancel_url"`
				}
				if err := json.Unmarshal([]byte(got), &u); err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(u.Success, "http://127.0.0.1:") || !strings.HasSuffix(u.Success, "/payments/success?for=plan") ||
					!strings.HasSuffix(u.Cancel, "/payments/cancel?for=plan") {
					t.Errorf("returnURLs = %+v", u)
				}
				return
			}
			if got != tt.want {
				t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
			}
		})
	}
}
