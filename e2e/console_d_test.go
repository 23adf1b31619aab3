//go:build browser

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

const (
	consoleDAdmin     = "admin@example.org"
	consoleDAdminPass = "la phrase de l’administratrice"
)

// consoleDSite opens a site through the API, open 8 h to 20 h every day.
func consoleDSite(t *testing.T, srv *relais, admin, name, zone string) string {
	t.Helper()
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var s struct{ ID string }
	srv.call(t, "POST", "/v1/sites", admin, map[string]any{
		"name": name, "timezone": zone, "opening_hours": hours,
		"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC " + name, "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &s)
	return s.ID
}

// signInConsole signs in and waits for the console's Today, where
// signing in leads a manager or an admin.
func (p *page) signInConsole(base, email, password string) {
	p.t.Helper()
	p.open(base + "/sign-in")
	p.fill("Adresse e-mail", email)
	p.fill("Mot de passe", password)
	p.click("Se connecter")
	p.waitHeading("Aujourd’hui")
}

// TestConsoleNetwork: an admin opens a fablab with its legal identity (a
// SIRET with a wrong check digit first, refused in words next to the
// field), adds a manager by email, checks the invoice chain, makes an
// account an admin and erases another on its owner's request. A manager
// who is not an admin sees no network entry and is told the page is the
// admins'. Every network page passes the accessibility scan.
func TestConsoleNetwork(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	srv := startRelais(t, "--admin-email", consoleDAdmin, "--admin-password", consoleDAdminPass)
	admin := srv.login(t, consoleDAdmin, consoleDAdminPass)
	fabrique := consoleDSite(t, srv, admin, "La Fabrique", "Europe/Paris")
	nadia := srv.register(t, "Nadia", "nadia@example.org", "la phrase de Nadia")
	srv.call(t, "POST", "/v1/sites/"+fabrique+"/managers", admin, map[string]any{"user_id": nadia}, http.StatusCreated, nil)
	hugo := srv.register(t, "Hugo Lenoir", "hugo@example.org", "la phrase de Hugo")
	erased := srv.register(t, "Edgar Départ", "edgar@example.org", "la phrase d’Edgar")
	// One invoice in the chain: a day pass sold at the desk.
	var pass struct{ ID string }
	srv.call(t, "POST", "/v1/plans", admin, map[string]any{"site_id": fabrique, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &pass)
	srv.call(t, "POST", "/v1/sites/"+fabrique+"/payments", admin, map[string]any{"user_id": hugo, "plan_id": pass.ID, "method": "cash",
		"amount_cents": 2500, "buyer": billingAddress, "date": parisToday()}, http.StatusCreated, nil)

	p := newPage(t, b, viewport{"desktop", 1280, 800})
	p.signInConsole(srv.URL, consoleDAdmin, consoleDAdminPass)
	p.waitText("main .console-nav a", "Réseau")
	p.click("Réseau")
	p.waitHeading("Réseau")
	p.waitText("main table th a", "La Fabrique")
	p.waitText("main table td", "1\u00a0gérant")
	p.scan(axe, "/console/network")

	// A SIRET with a wrong check digit: refused, in words, by the field.
	p.fill("Nom du lieu", "Le Hangar")
	p.setField("Type de lieu", "fablab")
	p.fill("Adresse", "12 quai des Chartrons")
	p.fill("Code postal", "33000")
	p.fill("Ville", "Bordeaux")
	p.fill("Raison sociale", "SCIC Le Hangar")
	p.fill("Forme juridique", "SCIC SAS")
	p.fill("SIRET", "552 100 554 00006")
	p.fill("Numéro de TVA intracommunautaire", "FR96552100554")
	p.click("Ouvrir le lieu")
	p.waitText("main #field-site-legal-siret-error", "clé de contrôle")
	if d := eval[string](p, `document.getElementById("field-site-legal-siret").getAttribute("aria-describedby")`); !strings.Contains(d, "field-site-legal-siret-error") {
		t.Fatalf("the SIRET's field is described by %q, not by its error", d)
	}
	p.scan(axe, "/console/network, a wrong SIRET")
	var sites struct{ Items []struct{ Name string } }
	srv.call(t, "GET", "/v1/sites", admin, nil, http.StatusOK, &sites)
	if len(sites.Items) != 1 {
		t.Fatalf("a refused site was created: %+v", sites.Items)
	}

	// Corrected, the site opens and its page shows.
	p.setInput("SIRET", "552 100 554 00005")
	p.click("Ouvrir le lieu")
	p.waitHeading("Lieu du réseau")
	p.waitText("main h2", "Le Hangar")
	p.waitText("main dd", "SIREN 552100554")
	p.waitText("main dd", "Fablab")
	hangar := eval[string](p, `location.pathname.split("/").pop()`)
	p.waitText("main p", "Personne ne gère ce lieu pour le moment.")

	// Hugo, named by the email of his account, manages it.
	p.fill("Adresse électronique du compte", "hugo@example.org")
	p.click("Ajouter le gérant")
	p.waitText("main .console-bookings li", "Hugo Lenoir")
	var managers struct{ Items []struct{ ID string } }
	srv.call(t, "GET", "/v1/sites/"+hangar+"/managers", admin, nil, http.StatusOK, &managers)
	if len(managers.Items) != 1 || managers.Items[0].ID != hugo {
		t.Fatalf("the Hangar's managers are %+v, want Hugo", managers.Items)
	}
	p.scan(axe, "/console/network/sites/:id")

	// Its legal identity completed: a registry without its town is
	// refused by the field; with it, the company's new name shows.
	p.setInput("Raison sociale", "SCIC Le Grand Hangar")
	p.setField("Immatriculation", "RCS")
	p.click("Enregistrer l’identité légale")
	p.waitText("main #field-edit-legal-registry-city-error", "greffe")
	p.fill("Ville du greffe", "Bordeaux")
	p.fill("Capital social en euros", "10000")
	p.click("Enregistrer l’identité légale")
	p.waitText("main dd", "SCIC Le Grand Hangar (SCIC SAS)")
	var stored struct {
		Legal struct {
			Registry          string `json:"registry"`
			RegistryCity      string `json:"registry_city"`
			ShareCapitalCents int64  `json:"share_capital_cents"`
		}
	}
	srv.call(t, "GET", "/v1/sites/"+hangar, admin, nil, http.StatusOK, &stored)
	if stored.Legal.Registry != "RCS" || stored.Legal.RegistryCity != "Bordeaux" || stored.Legal.ShareCapitalCents != 1_000_000 {
		t.Fatalf("the Hangar's legal identity: %+v", stored.Legal)
	}
	// It becomes a public digital space.
	p.setField("Type de lieu", "epn")
	p.click("Changer le type")
	p.waitText("main dd", "Espace public numérique")

	// The chain holds: one invoice of one entity.
	p.click("Retour aux lieux du réseau")
	p.waitHeading("Réseau")
	p.waitText("main .console-list", "SIREN 552100554")
	p.click("Vérifier la chaîne des factures")
	p.waitText("main .consoled-verify", "La chaîne est intacte\u00a0: 1\u00a0document vérifié pour 1\u00a0structure.")
	p.scan(axe, "/console/network, the chain checked")

	// Accounts: Hugo made an admin, Edgar erased at his request.
	p.click("Comptes")
	p.waitHeading("Comptes")
	p.fill("Début de l’adresse électronique", "hugo")
	p.click("Chercher")
	p.waitText("main .console-bookings li", "Hugo Lenoir")
	p.setField("Rôle", "admin")
	p.click("Changer le rôle")
	// The option's words are in the row from the start: wait for the
	// server to have made the change.
	p.waitJS(fmt.Sprintf(`fetch("/v1/users/%s").then((r) => r.json()).then((u) => u.role === "admin")`, hugo), "Hugo made an admin")
	var u struct{ Role string }
	srv.call(t, "GET", "/v1/users/"+hugo, admin, nil, http.StatusOK, &u)
	if u.Role != "admin" {
		t.Fatalf("Hugo is %q, want admin", u.Role)
	}
	p.scan(axe, "/console/network/users")
	p.setInput("Début de l’adresse électronique", "edgar")
	p.click("Chercher")
	p.waitText("main .console-bookings li", "Edgar Départ")
	p.click("Effacer à sa demande")
	p.waitText("main form p", "Effacer le compte de Edgar Départ (edgar@example.org)\u202f?")
	p.scan(axe, "/console/network/users, erasing")
	p.click("Effacer définitivement")
	p.waitJS(`![...document.querySelectorAll("main li")].some((e) => e.textContent.includes("Edgar"))`, "Edgar gone from the list")
	var found struct{ Items []struct{ ID string } }
	srv.call(t, "GET", "/v1/users?email=edgar", admin, nil, http.StatusOK, &found)
	if len(found.Items) != 0 {
		t.Fatalf("Edgar's account %s is still found by its email", erased)
	}

	p.click("Formules du réseau")
	p.waitHeading("Formules du réseau")
	p.waitHeadingText("Abonnements")
	if eval[bool](p, `[...document.querySelectorAll("#plan-kind option")].some((o) => o.value === "day_pass")`) {
		t.Fatalf("a network plan may be a day pass:\n%s", p.text())
	}
	p.setField("Nom", "Nomade du réseau")
	p.setField("Prix TTC (€)", "30")
	p.click("Mettre en vente")
	p.waitJS(`[...document.querySelectorAll("main .consoleb-row")].some((r) => r.textContent.includes("Nomade du réseau") && r.textContent.includes("En vente"))`, "the network plan on sale")
	var plans struct {
		Items []struct {
			Name   string  `json:"name"`
			SiteID *string `json:"site_id"`
		}
	}
	srv.call(t, "GET", "/v1/plans", admin, nil, http.StatusOK, &plans)
	network := 0
	for _, pl := range plans.Items {
		if pl.Name == "Nomade du réseau" && pl.SiteID == nil {
			network++
		}
	}
	if network != 1 {
		t.Fatalf("the network plans: %+v", plans.Items)
	}
	p.scan(axe, "/console/network/plans")

	// Nadia manages La Fabrique only: no network entry, and the page,
	// opened by its address, says it is the admins'.
	n := newPage(t, b, viewport{"desktop", 1280, 800})
	n.signInConsole(srv.URL, "nadia@example.org", "la phrase de Nadia")
	if eval[bool](n, `[...document.querySelectorAll(".console-nav a")].some((a) => a.getAttribute("href").startsWith("/console/network"))`) {
		t.Fatalf("a manager's navigation lists the network's pages:\n%s", n.text())
	}
	n.open(srv.URL + "/console/network")
	n.waitText("main .alert", "Cette page est réservée aux administrateurs du réseau.")
	if eval[bool](n, `!!document.querySelector("main form")`) {
		t.Fatalf("a manager is offered the network's forms:\n%s", n.text())
	}
	n.scan(axe, "/console/network, a manager")

	// On a phone, the admin's network pages pass the scan too.
	ph := newPage(t, b, viewport{"phone", 360, 740})
	ph.signInConsole(srv.URL, consoleDAdmin, consoleDAdminPass)
	for _, path := range []string{"/console/network", "/console/network/sites/" + hangar, "/console/network/users", "/console/network/plans"} {
		ph.open(srv.URL + path)
		ph.waitJS(`!!document.querySelector("main h2") && !document.querySelector("main [role=status]")`, path+" loaded")
		ph.scan(axe, path+" at 360 px")
		if w := eval[int](ph, `document.documentElement.scrollWidth`); w > 360 {
			t.Errorf("%s is %d px wide on a 360 px phone", path, w)
		}
	}
}

// TestConsoleDragToMove: a booking of the planning's grid carried to
// another hour with real pointer events (a mouse on a desk, a finger on a
// tablet), quoted, confirmed, and moved on the server.
func TestConsoleDragToMove(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	srv := startRelais(t, "--admin-email", consoleDAdmin, "--admin-password", consoleDAdminPass)
	admin := srv.login(t, consoleDAdmin, consoleDAdminPass)
	zone := morningZone(time.Now())
	site := consoleDSite(t, srv, admin, "La Fabrique", zone)
	var desk, desk2, pass struct{ ID string }
	srv.call(t, "POST", "/v1/sites/"+site+"/resources", admin, map[string]any{"kind": "desk", "name": "Bureau 1"}, http.StatusCreated, &desk)
	srv.call(t, "POST", "/v1/sites/"+site+"/resources", admin, map[string]any{"kind": "desk", "name": "Bureau 2"}, http.StatusCreated, &desk2)
	srv.call(t, "POST", "/v1/plans", admin, map[string]any{"site_id": site, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &pass)
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().In(loc).Format("2006-01-02")
	zoe := srv.register(t, "Zoé Bernard", "zoe@example.org", "une phrase pour Zoé")
	srv.call(t, "POST", "/v1/sites/"+site+"/payments", admin, map[string]any{"user_id": zoe, "plan_id": pass.ID, "method": "cash",
		"amount_cents": 2500, "date": today, "buyer": billingAddress}, http.StatusCreated, nil)
	zoeToken := srv.login(t, "zoe@example.org", "une phrase pour Zoé")

	for _, tc := range []struct {
		vp    viewport
		touch bool
		from  int  // the booking's hour
		to    int  // the hour it is carried to
		other bool // to Bureau 2
	}{
		{viewport{"desktop", 1280, 800}, false, 11, 15, false},
		{viewport{"tablet", 800, 1024}, true, 12, 17, false},
		{viewport{"desktop", 1280, 800}, false, 13, 18, true},
	} {
		t.Run(tc.vp.name, func(t *testing.T) {
			var booking struct{ ID string }
			srv.call(t, "POST", "/v1/reservations", zoeToken, map[string]any{"resource_id": desk.ID,
				"start": fmt.Sprintf("%sT%02d:00", today, tc.from), "end": fmt.Sprintf("%sT%02d:00", today, tc.from+1)}, http.StatusCreated, &booking)

			p := newPage(t, b, tc.vp)
			if tc.touch {
				p.do(chromedp.EmulateViewport(tc.vp.width, tc.vp.height, chromedp.EmulateTouch))
			}
			p.signInConsole(srv.URL, consoleDAdmin, consoleDAdminPass)
			p.open(srv.URL + "/console/planning")
			p.waitHeading("Planning")
			chip := fmt.Sprintf(`document.querySelector('main .consoled-chip[data-booking=%q]')`, booking.ID)
			target := desk.ID
			if tc.other {
				target = desk2.ID
			}
			cell := fmt.Sprintf(`document.querySelector('main td[data-resource=%q][data-hour="%d"]')`, target, tc.to)
			p.waitJS(`!!`+chip, "Zoé's booking in the grid")
			// Where the booking and the cell it goes to are on the screen.
			xy := eval[[]float64](p, fmt.Sprintf(`(() => {
				const c = %s, to = %s;
				c.scrollIntoView({ block: "center", inline: "center" });
				const a = c.getBoundingClientRect(), z = to.getBoundingClientRect();
				return [a.x + a.width / 2, a.y + a.height / 2, z.x + z.width / 2, z.y + z.height / 2];
			})()`, chip, cell))
			x0, y0, x1, y1 := xy[0], xy[1], xy[2], xy[3]
			if tc.touch {
				touch := func(typ input.DispatchTouchEventType, x, y float64) chromedp.Action[chromedp.Void] {
					pts := []*input.TouchPoint{{X: x, Y: y}}
					if typ == input.DispatchTouchEventTypeTouchEnd {
						pts = []*input.TouchPoint{}
					}
					return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
						_, err := cdp.Call(ctx, tg, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: pts})
						return err
					})
				}
				p.do(touch(input.DispatchTouchEventTypeTouchStart, x0, y0),
					touch(input.DispatchTouchEventTypeTouchMove, (x0+x1)/2, (y0+y1)/2),
					touch(input.DispatchTouchEventTypeTouchMove, x1, y1),
					touch(input.DispatchTouchEventTypeTouchEnd, x1, y1))
			} else {
				held := func(p *input.DispatchMouseEventParams) {
					p.Button = input.MouseButtonLeft
					p.Buttons = 1
				}
				p.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0, y0),
					chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y0, held, chromedp.ClickCount(1)),
					chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (x0+x1)/2, (y0+y1)/2, held),
					chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x1, y1, held),
					chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y1, held, chromedp.ClickCount(1)))
			}
			// The move is said and quoted before it is made.
			p.waitText("main .consoled-move h2", "Déplacer la réservation de Zoé Bernard")
			want := fmt.Sprintf("de %d\u00a0h\u00a000\u00a0– %d\u00a0h\u00a000 à %d\u00a0h\u00a000\u00a0– %d\u00a0h\u00a000", tc.from, tc.from+1, tc.to, tc.to+1)
			if tc.other {
				want = fmt.Sprintf("De Bureau 1, %d\u00a0h\u00a000\u00a0– %d\u00a0h\u00a000, à Bureau 2, %d\u00a0h\u00a000\u00a0– %d\u00a0h\u00a000.", tc.from, tc.from+1, tc.to, tc.to+1)
			}
			p.waitText("main .consoled-move p", want)
			p.waitText("main .consoled-move button", "Confirmer le déplacement")
			p.scan(axe, "/console/planning, a booking dropped")
			p.click("Confirmer le déplacement")
			p.waitJS(`!document.querySelector("main .consoled-move")`, "the move made")
			var r struct {
				Start      time.Time
				ResourceID string `json:"resource_id"`
			}
			srv.call(t, "GET", "/v1/reservations/"+booking.ID, admin, nil, http.StatusOK, &r)
			if got := r.Start.In(loc).Format("15:04"); got != fmt.Sprintf("%02d:00", tc.to) || r.ResourceID != target {
				t.Fatalf("the booking starts at %s on %s, want %02d:00 on %s", got, r.ResourceID, tc.to, target)
			}
			p.waitJS(cell+`.textContent.includes("Zoé Bernard")`, "the booking in its new hour")
		})
	}
}
