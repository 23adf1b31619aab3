//go:build browser

package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleAViewports: the console is used on a desk's computer and on a
// tablet.
var consoleAViewports = []viewport{{"desktop", 1280, 800}, {"tablet", 800, 1024}}

// morningZone is a fixed-offset zone where it is 9 a.m. now, so that the
// morning's bookings later today are in the future and within the day
// pass sold this morning, whatever the hour the test runs. (Etc/GMT-3 is
// UTC+3: the sign is reversed in these names.)
func morningZone(now time.Time) string {
	off := 9 - now.UTC().Hour()
	if off > 14 {
		off -= 24
	}
	if off < -12 {
		off += 24
	}
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off)
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "Etc/UTC"
}

// setInput replaces what a field labelled label holds, as a person
// selecting its text and typing would (an input event).
func (p *page) setInput(label, value string) {
	p.t.Helper()
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("label")].find((l) => l.textContent.replace(/\s*\*$/, "") === %q);
		const el = l && document.getElementById(l.htmlFor);
		if (!el) return false;
		el.value = %q;
		el.dispatchEvent(new Event("input", { bubbles: true }));
		return true;
	})()`, label, value))
	if !ok {
		p.t.Fatalf("no field labelled %q\nthe page shows:\n%s", label, p.text())
	}
}

// chooseValue picks the option value of the select sel, as a person would
// (a change event).
func (p *page) chooseValue(sel, value string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return false;
		el.value = %q;
		el.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, sel, value)) {
		p.t.Fatalf("no %s\nthe page shows:\n%s", sel, p.text())
	}
}

// clickButton clicks the button whose accessible name (aria-label) is name.
func (p *page) clickButton(name string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("main button")].find((e) => e.getAttribute("aria-label") === %q)`, name)
	if !eval[bool](p, sel+` !== undefined`) {
		p.t.Fatalf("no button named %q\nthe page shows:\n%s", name, p.text())
	}
	p.do(chromedp.Click(chromedp.JSPath(sel)))
}

// TestConsoleManagersMorning: a manager's morning at the desk, through the
// console only. They land on Today and read its figures; find nobody,
// register a walk-in without email, sell them a day pass in cash with a
// 5 € discount and its reason, open the invoice (a PDF); grant the laser
// qualification and add a note; from the Planning book a desk on the
// walk-in's behalf, move it, and cancel another member's booking with a
// reason. They see only the sites they manage: another site is in no
// picker, and its person's page says not found. Every page passes axe.
func TestConsoleManagersMorning(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	for _, vp := range consoleAViewports {
		t.Run(vp.name, func(t *testing.T) {
			srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
			admin := srv.login(t, "admin@example.org", "la phrase de l’administratrice")
			zone := morningZone(time.Now())
			hours := map[string]any{}
			for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
				hours[d] = [][]string{{"08:00", "20:00"}}
			}
			site := func(name string) string {
				var s struct{ ID string }
				srv.call(t, "POST", "/v1/sites", admin, map[string]any{
					"name": name, "timezone": zone, "opening_hours": hours,
					"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
					"legal": map[string]any{"company_name": "SCIC " + name, "legal_form": "SCIC SAS",
						"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
				}, http.StatusCreated, &s)
				return s.ID
			}
			siteA, siteB, siteC := site("La Fabrique"), site("Le Quai"), site("L’Annexe")
			managerID := srv.register(t, "Manon", "manon@example.org", "une phrase pour Manon")
			for _, s := range []string{siteA, siteC} {
				srv.call(t, "POST", "/v1/sites/"+s+"/managers", admin, map[string]string{"user_id": managerID}, http.StatusCreated, nil)
			}
			var desk, laser, qual, pass struct{ ID string }
			srv.call(t, "POST", "/v1/sites/"+siteA+"/qualifications", admin, map[string]string{"name": "Découpe laser"}, http.StatusCreated, &qual)
			srv.call(t, "POST", "/v1/sites/"+siteA+"/resources", admin, map[string]any{"kind": "desk", "name": "Bureau 1"}, http.StatusCreated, &desk)
			srv.call(t, "POST", "/v1/sites/"+siteA+"/resources", admin, map[string]any{"kind": "machine", "name": "Laser", "qualification_id": qual.ID}, http.StatusCreated, &laser)
			srv.call(t, "POST", "/v1/plans", admin, map[string]any{"site_id": siteA, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
				"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &pass)
			// Zoé has a day pass and a desk at noon, which the manager cancels.
			zoe := srv.register(t, "Zoé Bernard", "zoe@example.org", "une phrase pour Zoé")
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			today := time.Now().In(loc).Format("2006-01-02")
			address := map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "69002", "city": "Lyon", "country": "FR"}}
			srv.call(t, "POST", "/v1/sites/"+siteA+"/payments", admin, map[string]any{"user_id": zoe, "plan_id": pass.ID, "method": "cash",
				"amount_cents": 2500, "date": today, "buyer": address}, http.StatusCreated, nil)
			var zoeBooking struct{ ID string }
			srv.call(t, "POST", "/v1/reservations", srv.login(t, "zoe@example.org", "une phrase pour Zoé"),
				map[string]any{"resource_id": desk.ID, "start": today + "T12:00", "end": today + "T13:00"}, http.StatusCreated, &zoeBooking)
			// Zoé has arrived too, for a desk of 5-minute slots booked just
			// now (a check-in opens 15 minutes before the start).
			var desk2, early struct{ ID string }
			srv.call(t, "POST", "/v1/sites/"+siteA+"/resources", admin, map[string]any{"kind": "desk", "name": "Bureau 2",
				"rules": map[string]int{"slot_minutes": 5}}, http.StatusCreated, &desk2)
			soon := time.Now().Truncate(5 * time.Minute).Add(10 * time.Minute)
			zoeToken := srv.login(t, "zoe@example.org", "une phrase pour Zoé")
			srv.call(t, "POST", "/v1/reservations", zoeToken, map[string]any{"resource_id": desk2.ID,
				"start": soon.Format(time.RFC3339), "end": soon.Add(time.Hour).Format(time.RFC3339)}, http.StatusCreated, &early)
			srv.call(t, "POST", "/v1/reservations/"+early.ID+"/check-in", zoeToken, nil, http.StatusOK, nil)
			// A person of the site the manager does not manage.
			var other struct{ ID string }
			srv.call(t, "POST", "/v1/sites/"+siteB+"/people", admin, map[string]any{"name": "Octave Quai"}, http.StatusCreated, &other)

			p := newPage(t, b, vp)
			// Signing in leads a manager to the console.
			p.open(srv.URL + "/sign-in")
			p.fill("Adresse e-mail", "manon@example.org")
			p.fill("Mot de passe", "une phrase pour Manon")
			p.click("Se connecter")
			p.waitHeading("Aujourd’hui")
			p.waitNavigatedTo(srv.URL + "/console")

			// The picker holds the two managed sites, never the other; the
			// choice is remembered.
			p.waitJS(`!!document.querySelector("#console-site")`, "the site picker")
			options := eval[string](p, `[...document.querySelectorAll("#console-site option")].map((o) => o.textContent).join("|")`)
			if options != "La Fabrique|L’Annexe" && options != "L’Annexe|La Fabrique" {
				t.Fatalf("the site picker offers %q", options)
			}
			p.chooseValue("#console-site", siteC)
			p.open(srv.URL + "/console")
			p.waitJS(fmt.Sprintf(`(document.querySelector("#console-site") || {}).value === %q`, siteC), "the remembered site")
			p.chooseValue("#console-site", siteA)

			// Today's figures, in words and French numbers.
			p.waitText("main .console-figures", "2 réservations aujourd’hui")
			p.waitText("main .console-figures", "1 personne arrivée ces 4 dernières heures")
			p.waitText("main .console-list a", "Zoé Bernard")
			p.waitText("main p", "Aucune machine en marche.")
			p.waitText("main .console-figures", "25,00\u00a0€ encaissés ce mois-ci (TTC)")
			p.waitText("main .console-list", "12\u00a0h\u00a000\u00a0– 13\u00a0h\u00a000 · Bureau 1 · Zoé Bernard")
			p.scan(axe, "/console")

			// People: nobody found, then a walk-in without email.
			p.click("Personnes")
			p.waitHeading("Personnes")
			p.waitJS(`!!document.querySelector("main #field-q")`, "the search")
			p.fill("Nom, e-mail ou téléphone", "Léon")
			p.click("Chercher")
			p.waitText("main .empty", "Personne ne correspond.")
			p.scan(axe, "/console/people")
			p.fill("Nom", "Léon Martin")
			p.click("Inscrire")
			p.waitText("main h2.console-person", "Léon Martin")
			p.waitText("main .console-facts", "Sans adresse e-mail")

			// A day pass sold in cash, with a discount and its reason.
			p.fill("Remise en euros", "5")
			p.fill("Motif de la remise", "Bénévole de l’association")
			p.fill("Adresse", "12 rue du Port")
			p.fill("Code postal", "69003")
			p.fill("Ville", "Lyon")
			p.waitText("main .console-total", "À encaisser\u00a0: 20,00\u00a0€")
			p.click("Enregistrer la vente")
			p.waitText("main .alert--success", "Vente enregistrée\u00a0: 20,00\u00a0€.")
			p.waitText("main .console-list", "remise de 5,00\u00a0€ (Bénévole de l’association)")
			head := eval[string](p, `fetch(document.querySelector("main a.console-invoice").href, { credentials: "same-origin" })
				.then((r) => r.arrayBuffer()).then((b) => String.fromCharCode(...new Uint8Array(b).slice(0, 4)))`)
			if head != "%PDF" {
				t.Fatalf("the invoice link gives %q, not a PDF", head)
			}

			// The laser qualification, and a note.
			p.click("Accorder")
			p.waitText("main section[aria-labelledby=person-quals] li", "Découpe laser")
			p.fill("Nouvelle note", "Vient pour la découpe laser.")
			p.click("Ajouter la note")
			p.waitText("main .console-note", "Vient pour la découpe laser.")
			p.scan(axe, "/console/people/:id")

			// The Planning: Zoé's booking with her name; a desk for Léon.
			p.click("Planning")
			p.waitHeading("Planning")
			p.waitText("main .console-grid td", "Zoé Bernard")
			p.fill("Chercher la personne", "Léon")
			p.click("Chercher")
			p.waitJS(`!!document.querySelector("main input[name=book-person]:checked")`, "Léon chosen")
			p.fill("Début", "13:00")
			p.fill("Fin", "14:00")
			p.click("Réserver")
			p.waitText("main .console-bookings li", "13\u00a0h\u00a000\u00a0– 14\u00a0h\u00a000 · Bureau 1 · Léon Martin")
			p.scan(axe, "/console/planning")

			// Moved to the afternoon.
			p.clickButton("Déplacer la réservation de Léon Martin, 13\u00a0h\u00a000\u00a0– 14\u00a0h\u00a000")
			p.setInput("Nouveau début", "15:00")
			p.setInput("Nouvelle fin", "16:00")
			p.click("Enregistrer le nouvel horaire")
			// Quoted first, moved once confirmed (the same path as a drag).
			p.waitText("main .consoled-confirm p", "de 13\u00a0h\u00a000\u00a0– 14\u00a0h\u00a000 à 15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000")
			p.waitText("main .consoled-confirm button", "Confirmer le déplacement")
			p.click("Confirmer le déplacement")
			p.waitText("main .console-bookings li", "15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000 · Bureau 1 · Léon Martin")
			p.waitText("main .console-grid td", "Léon Martin")

			// And to Bureau 2, by the same form: the keyboard's way of a drop
			// on another row.
			p.clickButton("Déplacer la réservation de Léon Martin, 15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000")
			p.chooseValue(`main form.console-inline select[id^="field-move-resource-"]`, desk2.ID)
			p.click("Enregistrer le nouvel horaire")
			p.waitText("main .consoled-confirm p", "De Bureau 1, 15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000, à Bureau 2, 15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000.")
			p.tap("Confirmer le déplacement")
			p.waitText("main .console-bookings li", "15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000 · Bureau 2 · Léon Martin")

			// The week, from today: Léon's desk is in today's column.
			p.click("La semaine")
			p.waitText("main .console-week td", "15\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000 Léon Martin")
			p.scan(axe, "/console/planning, the week")
			p.click("La semaine")
			p.waitJS(`!document.querySelector("main .console-week")`, "the week closed")

			// Zoé's cancelled, with a reason she will read.
			p.clickButton("Annuler la réservation de Zoé Bernard, 12\u00a0h\u00a000\u00a0– 13\u00a0h\u00a000")
			p.fill("Motif", "Fuite d’eau")
			p.scan(axe, "/console/planning, cancelling")
			p.click("Confirmer l’annulation")
			p.waitJS(`![...document.querySelectorAll("main .console-bookings li")].some((e) => e.textContent.includes("12\u00a0h\u00a000\u00a0– 13\u00a0h\u00a000 · Bureau 1 · Zoé Bernard"))`, "Zoé's booking gone")
			var c struct {
				Status       string
				CancelReason string `json:"cancel_reason"`
			}
			srv.call(t, "GET", "/v1/reservations/"+zoeBooking.ID, admin, nil, http.StatusOK, &c)
			if c.Status != "cancelled" || c.CancelReason != "Fuite d’eau" {
				t.Fatalf("Zoé's booking: %+v", c)
			}

			// The laser blocked for its cleaning, and the site closed at the
			// end of the day.
			p.chooseValue("#field-block-resource", laser.ID)
			p.fill("Note", "Nettoyage de la lentille")
			// Its times, typed as people write them ("Début" and "Fin" also
			// name the booking form's fields, first on the page).
			eval[bool](p, `(() => { for (const [id, v] of [["field-block-start", "17 h"], ["field-block-end", "18h00"]]) {
				const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event("input", { bubbles: true })); } return true; })()`)
			p.click("Bloquer")
			p.waitText("main .console-bookings li", "17\u00a0h\u00a000\u00a0– 18\u00a0h\u00a000 · Laser · Bloqué (maintenance)")
			p.fill("Fermé à partir de", "19:00")
			p.fill("Jusqu’à", "20:00")
			p.fill("Raison de la fermeture", "Inventaire")
			p.click("Fermer le lieu")
			p.waitText("main section[aria-labelledby=planning-closures] li", "19\u00a0h\u00a000\u00a0– 20\u00a0h\u00a000 · Inventaire")

			// Another site's person is not found, and named nowhere.
			p.open(srv.URL + "/console/people/" + other.ID)
			p.waitText("main h2", "Personne introuvable")
			if strings.Contains(p.text(), "Octave") || strings.Contains(p.text(), "Le Quai") {
				t.Fatalf("the other site shows through:\n%s", p.text())
			}
			p.scan(axe, "/console/people/:id, not found")
		})
	}
}

// TestConsoleMembersOnly: a member lands on their home, the console's
// pages lead them there, and no console entry is in their navigation.
func TestConsoleMembersOnly(t *testing.T) {
	srv := startRelais(t)
	srv.register(t, "Jade", "jade@example.org", "une phrase pour Jade")
	p := newPage(t, browser(t), consoleAViewports[0])
	p.signIn(srv.URL, "jade@example.org", "une phrase pour Jade", "Jade")
	if eval[bool](p, `[...document.querySelectorAll("nav a")].some((a) => a.getAttribute("href").startsWith("/console"))`) {
		t.Error("a member's navigation links to the console")
	}
	p.open(srv.URL + "/console/people")
	p.waitHeading("Bonjour Jade")
}

// TestConsoleScan: every console page of routes.js (those without a
// parameter, the other console pages included once merged), as the demo's
// manager, at a phone's and a desktop's width, has no serious or critical
// violation axe-core finds; the demo's data fills them.
func TestConsoleScan(t *testing.T) {
	axe := axeSource(t)
	srv := startRelais(t, "--demo")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.open(srv.URL + "/sign-in")
			p.fill("Adresse e-mail", "animatrice@demo.relais.test")
			p.fill("Mot de passe", demoPassword)
			p.click("Se connecter")
			p.waitHeading("Aujourd’hui")
			p.waitJS(`!!document.querySelector("main .console-figures")`, "the figures")
			n := 0
			for _, r := range appRoutes(p) {
				if r.Access != "manager" || strings.Contains(r.Path, ":") {
					continue
				}
				n++
				p.open(srv.URL + r.Path)
				p.waitJS(`!!document.querySelector("main .console-nav")`, "the console's navigation")
				p.scan(axe, r.Path)
			}
			if n < 3 {
				t.Fatalf("%d console pages scanned", n)
			}
		})
	}
}
