//go:build browser

package e2e

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// inSection is the JS path of the button saying text in the section headed
// by the element headingID (the account page has several "Enregistrer").
func inSection(headingID, text string) string {
	return fmt.Sprintf(`[...document.getElementById(%q).closest("section").querySelectorAll("button")].find((b) => b.textContent.trim() === %q)`, headingID, text)
}

// TestAccountPreferences: a member keeps a billing address for their
// invoices and turns the reminders off, from the account page; the API
// says the same afterwards.
func TestAccountPreferences(t *testing.T) {
	srv := startRelais(t)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("ines.%s@example.org", vp.name)
			srv.register(t, "Inès", email, "une phrase pour Inès")
			p := newPage(t, b, vp)
			p.signIn(srv.URL, email, "une phrase pour Inès", "Inès")
			p.open(srv.URL + "/account")
			p.waitHeading("Mon compte")
			p.waitText("main", "Adresse de facturation")
			// A blank city is refused beside its field, nothing kept.
			p.fill("Adresse", "3 rue des Lilas")
			p.fill("Code postal", "23000")
			p.do(chromedp.Click(chromedp.JSPath(inSection("billing-title", "Enregistrer"))))
			p.waitText("main .field--invalid", "Ville")
			p.fill("Ville", "Guéret")
			p.do(chromedp.Click(chromedp.JSPath(inSection("billing-title", "Enregistrer"))))
			p.waitText("[role=status]", "Adresse de facturation enregistrée.")

			p.do(chromedp.Click(chromedp.JSPath(`document.getElementById("mail-reminders")`)))
			p.do(chromedp.Click(chromedp.JSPath(inSection("mail-title", "Enregistrer"))))
			p.waitText("[role=status]", "Choix des courriels enregistrés.")

			token := srv.login(t, email, "une phrase pour Inès")
			var me struct {
				BillingAddress *struct {
					Address struct {
						Line1      string `json:"line1"`
						PostalCode string `json:"postal_code"`
						City       string
					}
				} `json:"billing_address"`
				Notifications struct {
					Reminders bool
					Bookings  bool
				}
			}
			srv.call(t, "GET", "/v1/me", token, nil, http.StatusOK, &me)
			if me.BillingAddress == nil || me.BillingAddress.Address.Line1 != "3 rue des Lilas" || me.BillingAddress.Address.City != "Guéret" {
				t.Fatalf("billing address = %+v", me.BillingAddress)
			}
			if me.Notifications.Reminders || !me.Notifications.Bookings {
				t.Fatalf("notifications = %+v", me.Notifications)
			}
		})
	}
}
