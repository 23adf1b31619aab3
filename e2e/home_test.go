//go:build browser

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the site's zone, whatever the machine has

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// signIn signs in through the sign-in page and waits for the home page.
func (p *page) signIn(base, email, password, name string) {
	p.t.Helper()
	p.open(base + "/sign-in")
	p.fill("Adresse e-mail", email)
	p.fill("Mot de passe", password)
	p.click("Se connecter")
	p.waitHeading("Bonjour " + name)
}

// timezone makes the browser's own zone another than the site's.
func (p *page) timezone(zone string) {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	}))
}

var (
	frenchDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths = []string{"", "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// TestHomeShowsBookingsInTheSiteZone: the home page lists the member's
// coming bookings with the day and hours of the site (La Réunion here),
// not of the phone (New York here).
func TestHomeShowsBookingsInTheSiteZone(t *testing.T) {
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	admin := srv.login(t, "admin@example.org", "la phrase de l’administratrice")
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var site struct{ ID string }
	srv.call(t, "POST", "/v1/sites", admin, map[string]any{
		"name": "La Case", "timezone": "Indian/Reunion", "opening_hours": hours,
		"address": map[string]any{"line1": "1 rue de Paris", "postal_code": "97400", "city": "Saint-Denis", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Case", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &site)
	var zone struct{ ID string }
	srv.call(t, "POST", "/v1/sites/"+site.ID+"/resources", admin, map[string]any{"kind": "zone", "name": "Espace ouvert", "capacity": 10},
		http.StatusCreated, &zone)
	var plan struct{ ID string }
	srv.call(t, "POST", "/v1/plans", admin, map[string]any{"site_id": site.ID, "kind": "membership", "name": "Résident", "price_cents": 30000,
		"includes": map[string]any{"resource_kinds": []string{"zone"}}}, http.StatusCreated, &plan)

	reunion, err := time.LoadLocation("Indian/Reunion")
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().In(reunion).AddDate(0, 0, 2)
	date := day.Format("2006-01-02")
	wantDay := fmt.Sprintf("%s %d %s", frenchDays[day.Weekday()], day.Day(), frenchMonths[day.Month()])
	if day.Year() != time.Now().In(reunion).Year() {
		wantDay += fmt.Sprintf(" %d", day.Year())
	}

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("david.%s@example.org", vp.name)
			id := srv.register(t, "David", email, "une phrase pour David")
			// The member's membership, paid at the desk.
			srv.call(t, "POST", "/v1/sites/"+site.ID+"/payments", admin, map[string]any{"user_id": id, "plan_id": plan.ID, "method": "cash", "amount_cents": 30000,
				"buyer": map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "97400", "city": "Saint-Denis", "country": "FR"}}},
				http.StatusCreated, nil)
			token := srv.login(t, email, "une phrase pour David")
			// Local times of the site: 14:30 in La Réunion is 10:30 UTC.
			srv.call(t, "POST", "/v1/reservations", token, map[string]any{"resource_id": zone.ID, "start": date + "T14:30", "end": date + "T16:00"},
				http.StatusCreated, nil)

			p := newPage(t, browser(t), vp)
			p.timezone("America/New_York")
			p.signIn(srv.URL, email, "une phrase pour David", "David")
			p.waitText("main .booking__time", "14\u00a0h\u00a030\u00a0– 16\u00a0h\u00a000")
			p.waitText("main .booking__what", "Espace ouvert")
			p.waitText("main .booking__where", "La Case")
			heading := eval[string](p, `document.querySelector("main .day h3").textContent.trim()`)
			if heading != wantDay {
				t.Errorf("the day says %q, want %q", heading, wantDay)
			}
		})
	}
}

// TestAccount: the member edits the profile (an error tied to its field,
// then a save said in the live region), the app follows the new language,
// and signing out ends the session.
func TestAccount(t *testing.T) {
	srv := startRelais(t)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("emma.%s@example.org", vp.name)
			srv.register(t, "Emma", email, "une phrase pour Emma")
			p := newPage(t, b, vp)
			p.signIn(srv.URL, email, "une phrase pour Emma", "Emma")
			p.click("Mon compte")
			p.waitHeading("Mon compte")
			if got := eval[string](p, `document.querySelector('nav a[aria-current="page"]').textContent`); got != "Mon compte" {
				t.Errorf("the current page in the navigation is %q", got)
			}

			p.fill("Téléphone", "06 12")
			p.click("Enregistrer")
			p.waitJS(`!!document.getElementById("field-phone-error")`, "the phone's error")
			if d := eval[string](p, `document.getElementById("field-phone").getAttribute("aria-describedby")`); !strings.Contains(d, "field-phone-error") {
				t.Errorf("aria-describedby %q", d)
			}

			p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("field-phone").value = ""`))
			p.fill("Téléphone", "+33612345678")
			p.do(chromedp.Evaluate[chromedp.Void](`(() => {
				const s = document.getElementById("field-language");
				s.value = "en";
				s.dispatchEvent(new Event("change", {bubbles: true}));
			})()`))
			p.click("Enregistrer")
			// Saved: the app now speaks English, and says so.
			p.waitHeading("My account")
			p.waitText("[role=status][aria-live=polite]", "Profile saved.")
			if lang := eval[string](p, `document.documentElement.lang`); lang != "en" {
				t.Errorf("page language %q, want en", lang)
			}
			var me struct {
				Language string `json:"language"`
				Phone    string `json:"phone"`
			}
			srv.call(t, "GET", "/v1/me", srv.login(t, email, "une phrase pour Emma"), nil, http.StatusOK, &me)
			if me.Language != "en" || me.Phone != "+33612345678" {
				t.Errorf("GET /v1/me = %+v", me)
			}

			p.click("Sign out")
			p.waitHeading("Sign in")
			if c := eval[string](p, `document.cookie`); strings.Contains(c, "relais_csrf") {
				t.Errorf("after signing out, document.cookie = %q", c)
			}
			// Signed out, a member's page leads to signing in, and back.
			p.open(srv.URL + "/account")
			p.waitHeading("Sign in")
			if loc := eval[string](p, `location.pathname + location.search`); loc != "/sign-in?next=%2Faccount" {
				t.Errorf("location %q", loc)
			}
		})
	}
}
