//go:build browser

package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// --- services-app ---

// servicesWorld: a site where it is 9 a.m. now (open 8:00–20:00 every
// day), its manager (the animateur), a room for the ateliers, a
// visio-guichet booth, and the CAF receiving there every day from 10:00
// to 12:00 in 30-minute slots for the coming month.
type servicesWorld struct {
	srv           *relais
	admin, site   string
	room          string
	caf           string
	loc           *time.Location
	today         string
	managerEmail  string
	managerSecret string
}

const initiationCategory = "0193a000-0000-7000-8000-00000000ca01" // seeded

func newServicesWorld(t *testing.T) *servicesWorld {
	t.Helper()
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	w := &servicesWorld{srv: srv, admin: srv.login(t, "admin@example.org", "la phrase de l’administratrice"),
		managerEmail: "manon@example.org", managerSecret: "une phrase pour Manon"}
	zone := morningZone(time.Now())
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	w.loc, w.today = loc, time.Now().In(loc).Format("2006-01-02")
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var s, room, booth, caf struct {
		ID       string
		Purposes []struct{ ID string }
	}
	srv.call(t, "POST", "/v1/sites", w.admin, map[string]any{
		"name": "La Fabrique", "timezone": zone, "opening_hours": hours,
		"address": map[string]any{"line1": "1 place de la Mairie", "postal_code": "23000", "city": "Guéret", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &s)
	w.site = s.ID
	managerID := srv.register(t, "Manon", w.managerEmail, w.managerSecret)
	srv.call(t, "POST", "/v1/sites/"+w.site+"/managers", w.admin, map[string]string{"user_id": managerID}, http.StatusCreated, nil)
	srv.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "room", "name": "Salle des ateliers", "capacity": 12}, http.StatusCreated, &room)
	srv.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "room", "name": "Visio-guichet", "capacity": 2}, http.StatusCreated, &booth)
	w.room = room.ID
	srv.call(t, "POST", "/v1/partners", w.admin, map[string]any{"name": "CAF de la Creuse", "kind": "caf",
		"purposes": []map[string]any{{"name": "Prime d’activité", "documents": []string{"Pièce d’identité", "Dernier avis d’imposition"}}}},
		http.StatusCreated, &caf)
	w.caf = caf.ID
	// Claire receives for the CAF (an agent is a row of the partner).
	srv.register(t, "Claire Agent", "claire@caf.example.fr", "une phrase pour Claire")
	srv.call(t, "POST", "/v1/partners/"+w.caf+"/agents", w.admin, map[string]any{"email": "claire@caf.example.fr"}, http.StatusCreated, nil)
	until := time.Now().In(loc).AddDate(0, 0, 30).Format("2006-01-02")
	srv.call(t, "POST", "/v1/partners/"+w.caf+"/windows", w.admin, map[string]any{"site_id": w.site, "resource_id": booth.ID,
		"from": w.today, "until": until, "start": "10:00", "end": "12:00", "slot_minutes": 30}, http.StatusCreated, nil)
	return w
}

// servicesSignIn signs in and waits for the page it leads to.
func (p *page) servicesSignIn(base, email, secret string) {
	p.t.Helper()
	p.open(base + "/sign-in")
	p.fill("Adresse e-mail", email)
	p.fill("Mot de passe", secret)
	p.click("Se connecter")
	p.waitJS(`location.pathname !== "/sign-in" && !!document.querySelector("main h1") && !!document.querySelector("nav.nav")`, "signed in")
}

// TestServicesAnimateurSeries: the animateur creates a weekly series of 3
// sessions from the console, registers a new guest created in place for
// all of them, and finds the attendance sheet refused in words before the
// session starts; on a session that has started, the sheet marks the
// guest present (at 1280 px), and the atelier's volunteer animateur, who
// manages no site, changes it on a phone (360 px). axe-core on each page.
func TestServicesAnimateurSeries(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	w := newServicesWorld(t)
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	p.servicesSignIn(w.srv.URL, w.managerEmail, w.managerSecret)
	p.tap("Ateliers")
	p.waitHeading("Ateliers")
	p.waitJS(`[...document.querySelectorAll("#field-atelier-category option")].length > 0`, "the categories")
	p.fill("Titre", "Initiation à la tablette")
	p.setInput("Places", "8")
	p.check("Salle des ateliers")
	p.setInput("Nombre de séances", "3")
	p.waitText("main p", "Les 3\u00a0séances, à l’heure du lieu\u00a0:")
	p.scan(axe, "/console/ateliers")
	p.tap("Créer l’atelier")
	p.waitHeading("Initiation à la tablette")
	p.waitJS(`document.querySelectorAll("main .services-session-card").length === 3`, "three sessions")
	// The three sessions are a week apart, at 14:00 in the site's zone.
	first := time.Now().In(w.loc).AddDate(0, 0, 7)
	for i := range 3 {
		day := first.AddDate(0, 0, 7*i)
		p.waitText("main .services-session-card h3", fmt.Sprintf("%d %s", day.Day(), frenchMonths[day.Month()]))
	}
	p.waitText("main .services-session-card h3", "14\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000")

	// A new guest, registered in place for every session.
	p.tap("Nouvelle personne (sans compte)")
	p.fill("Nom", "Suzanne Petit")
	p.fill("Commune", "Saint-Fiel")
	p.fill("Code postal", "23000")
	p.choose("Tranche d’âge", "70\u00a0ans et plus")
	p.scan(axe, "/console/ateliers/{id}")
	p.tap("Enregistrer et inscrire")
	p.waitText("main .alert--success", "Suzanne Petit est inscrit·e.")
	p.waitJS(`[...document.querySelectorAll("main .services-session-card li")].filter((l) => l.textContent.includes("Suzanne Petit")).length === 3`,
		"the guest in the three sessions")

	// Before the session, the sheet says why it cannot be taken.
	p.tap("Feuille de présence")
	p.waitText("main .alert--info", "La séance n’a pas commencé\u00a0: les présences se notent à partir de 14\u00a0h\u00a000.")
	if !eval[bool](p, `[...document.querySelectorAll("main .services-mark")].every((b) => b.disabled)`) {
		t.Fatal("the sheet offers toggles before the session")
	}

	// A session that has started: a café numérique begun a moment ago,
	// with the guest registered.
	var people struct{ Items []struct{ ID, Name string } }
	w.srv.call(t, "GET", "/v1/sites/"+w.site+"/people?q=Suzanne", w.admin, nil, http.StatusOK, &people)
	if len(people.Items) != 1 {
		t.Fatalf("people %+v", people)
	}
	volunteer := w.srv.register(t, "Paul Bénévole", "paul@example.org", "une phrase pour Paul")
	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	var cafe struct {
		ID       string
		Sessions []struct{ ID string }
	}
	w.srv.call(t, "POST", "/v1/sites/"+w.site+"/ateliers", w.admin, map[string]any{"title": "Café numérique", "category_id": initiationCategory, "seats": 6, "animateur_ids": []string{volunteer},
		"sessions": []map[string]string{{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}}}, http.StatusCreated, &cafe)
	var regs struct{ Items []struct{ ID string } }
	w.srv.call(t, "POST", "/v1/ateliers/"+cafe.ID+"/registrations", w.admin, map[string]any{"guest_id": people.Items[0].ID}, http.StatusCreated, &regs)
	time.Sleep(time.Until(start) + 200*time.Millisecond)
	sheet := w.srv.URL + "/console/ateliers/" + cafe.ID + "/sessions/" + cafe.Sessions[0].ID
	p.open(sheet)
	p.waitHeading("Présences\u00a0: Café numérique")
	p.waitJS(`!!document.querySelector("main .services-mark--present:not([disabled])")`, "the toggles")
	p.scan(axe, "the attendance sheet")
	p.do(chromedp.Click(chromedp.CSS("main .services-mark--present")))
	p.waitJS(`document.querySelector("main .services-mark--present").getAttribute("aria-pressed") === "true"`, "present pressed")
	p.waitText("main p", "1\u00a0présent sur 1\u00a0inscrit")
	var after struct {
		Items []struct{ Attendance *string }
	}
	w.srv.call(t, "GET", "/v1/ateliers/"+cafe.ID+"/registrations", w.admin, nil, http.StatusOK, &after)
	if len(after.Items) != 1 || after.Items[0].Attendance == nil || *after.Items[0].Attendance != "present" {
		t.Fatalf("registrations after the sheet %+v", after)
	}

	// On a phone (360 px), the same sheet for the atelier's animateur, a
	// volunteer who manages no site: big toggles, nothing wider than the
	// screen.
	m := newPage(t, b, viewport{"phone", 360, 740})
	m.servicesSignIn(w.srv.URL, "paul@example.org", "une phrase pour Paul")
	m.open(sheet)
	m.waitJS(`document.querySelector("main .services-mark--present") && document.querySelector("main .services-mark--present").getAttribute("aria-pressed") === "true"`, "the mark kept")
	m.scan(axe, "the attendance sheet at 360 px")
	if eval[bool](m, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the attendance sheet is wider than a phone")
	}
	m.do(chromedp.Click(chromedp.CSS("main .services-mark--excused")))
	m.waitJS(`document.querySelector("main .services-mark--excused").getAttribute("aria-pressed") === "true"`, "excused pressed")
	if eval[bool](m, `!!document.querySelector("main .console-nav")`) {
		t.Error("the console's navigation shows to a volunteer")
	}
}

// TestServicesResidentBooksCAF: a resident chooses the CAF, a purpose
// (its documents said), the site and a free slot, confirms, and finds the
// appointment in their list with what to bring; the CAF's day at the desk
// shows it, with its printable slip; the desk books the next slot for a
// guest registered in place; the CAF's agent reads the day.
func TestServicesResidentBooksCAF(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	w := newServicesWorld(t)
	w.srv.register(t, "Rémi Durand", "remi@example.org", "une phrase pour Rémi")
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	p.servicesSignIn(w.srv.URL, "remi@example.org", "une phrase pour Rémi")
	p.tap("Ateliers et rendez-vous")
	p.waitHeading("Mes ateliers et rendez-vous")
	p.waitText("main .empty", "Aucun rendez-vous.")
	p.scan(axe, "/services")
	p.tap("Prendre rendez-vous")
	p.waitHeading("Prendre rendez-vous")
	p.check("CAF de la Creuse")
	p.check("Prime d’activité À apporter\u00a0: Pièce d’identité, Dernier avis d’imposition")
	p.waitJS(`!!document.querySelector("main input[name=slot]")`, "the slots")
	p.check("10\u00a0h\u00a030")
	p.waitText("main .services-summary", "CAF de la Creuse, Prime d’activité\u00a0: ")
	p.waitText("main .services-summary", "10\u00a0h\u00a030\u00a0– 11\u00a0h\u00a000, à La Fabrique.")
	p.scan(axe, "/appointments/new")
	p.tap("Confirmer le rendez-vous")
	p.waitHeading("Mes ateliers et rendez-vous")
	p.waitText("main .services-list h3", "CAF de la Creuse\u00a0: Prime d’activité")
	p.waitText("main .services-list", "Dernier avis d’imposition")
	p.waitText("main .services-list", "La Fabrique, 1 place de la Mairie, 23000 Guéret")

	// At the desk, the CAF's day lists it, and its slip says it in words.
	d := newPage(t, b, viewport{"desktop", 1280, 800})
	d.servicesSignIn(w.srv.URL, w.managerEmail, w.managerSecret)
	d.tap("Rendez-vous")
	d.waitHeading("Rendez-vous des services publics")
	d.waitText("main .services-list h3", "10\u00a0h\u00a030\u00a0– 11\u00a0h\u00a000 · Rémi Durand")
	d.scan(axe, "/console/appointments")
	d.tap("Fiche à imprimer")
	d.waitHeading("Fiche de rendez-vous")
	d.waitText("main .services-slip", "Rendez-vous avec CAF de la Creuse")
	d.waitText("main .services-slip__when", "à 10\u00a0h\u00a030")
	d.waitText("main .services-slip", "Pièce d’identité")
	d.scan(axe, "the slip")

	// The desk books the first free slot for a resident without email,
	// registered in place, and lands on their slip.
	d.tap("Tous les rendez-vous")
	d.waitJS(`!!document.querySelector("#desk-slot")`, "the free slots")
	d.tap("Nouvelle personne (sans compte)")
	d.fill("Nom", "Jeanne Roux")
	d.fill("Commune", "Guéret")
	d.scan(axe, "/console/appointments, a guest in place")
	d.tap("Enregistrer et choisir")
	d.waitHeading("Fiche de rendez-vous")
	d.waitText("main .services-slip", "Pour Jeanne Roux")
	d.waitText("main .services-slip__when", "à 10\u00a0h\u00a000")

	// The CAF's agent finds it in their day, with what to bring.
	a := newPage(t, b, viewport{"desktop", 1280, 800})
	a.servicesSignIn(w.srv.URL, "claire@caf.example.fr", "une phrase pour Claire")
	a.tap("Ateliers et rendez-vous")
	a.tap("Vous recevez pour CAF de la Creuse\u00a0: vos rendez-vous du jour")
	a.waitHeading("Mes rendez-vous du jour")
	a.waitText("main .services-list h3", "10\u00a0h\u00a030\u00a0– 11\u00a0h\u00a000 · Rémi Durand")
	a.waitText("main .services-list", "À apporter\u00a0: Pièce d’identité, Dernier avis d’imposition")
	a.scan(axe, "/partner")
}

// TestServicesPublicAgenda: signed out, at 360 and 1280 px, the agenda a
// town's website links to lists the ateliers with the seats left and the
// iCal feed, and asks to sign in to register; a member then registers
// from it and sees it said.
func TestServicesPublicAgenda(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	w := newServicesWorld(t)
	day := time.Now().In(w.loc).AddDate(0, 0, 2).Format("2006-01-02")
	w.srv.call(t, "POST", "/v1/sites/"+w.site+"/ateliers", w.admin, map[string]any{"title": "Démarches en ligne", "category_id": initiationCategory,
		"seats": 2, "resource_ids": []string{w.room}, "sessions": []map[string]string{{"start": day + "T14:00", "end": day + "T16:00"}}}, http.StatusCreated, nil)
	agenda := w.srv.URL + "/ateliers/" + w.site
	// A series' dates are the site's wall-clock dates: across the end of
	// summer time (25 October 2026 in Europe) every session stays at 14:00.
	{
		p := newPage(t, b, viewport{"desktop", 1280, 800})
		p.open(agenda)
		got := eval[string](p, `import("/static/lib/services.js").then((m) => JSON.stringify(m.seriesSessions("2026-10-20", "14:00", "16:00", 3, 1)))`)
		want := `[{"start":"2026-10-20T14:00","end":"2026-10-20T16:00"},{"start":"2026-10-27T14:00","end":"2026-10-27T16:00"},{"start":"2026-11-03T14:00","end":"2026-11-03T16:00"}]`
		if got != want {
			t.Errorf("seriesSessions across the change of time:\n got %s\nwant %s", got, want)
		}
	}
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.open(agenda)
			p.waitHeading("Ateliers de La Fabrique")
			p.waitText("main .services-atelier h2", "Démarches en ligne")
			p.waitText("main .services-session", "2\u00a0places restantes")
			p.waitText("main .services-session", "14\u00a0h\u00a000\u00a0– 16\u00a0h\u00a000")
			p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main a")].some((a) => a.href === %q)`, w.srv.URL+"/v1/sites/"+w.site+"/ateliers.ics"), "the iCal link")
			p.waitText("main a", "Connectez-vous pour vous inscrire")
			p.scan(axe, "the public agenda")
			if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
				t.Error("the agenda is wider than the screen")
			}
		})
	}
	w.srv.register(t, "Rémi Durand", "remi@example.org", "une phrase pour Rémi")
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	p.servicesSignIn(w.srv.URL, "remi@example.org", "une phrase pour Rémi")
	p.open(agenda)
	p.tap("S’inscrire")
	p.waitText("main .badge", "Inscrit·e")
	p.waitText("main .services-session", "1\u00a0place restante")
	p.scan(axe, "the agenda signed in")
}

// TestServicesHostPlaceKitAndCredit: the admin opens a host place (a
// residence: no legal identity, a person to call), refused in words by the
// field while that person is missing; Manon makes a kit of tablettes at La
// Fabrique, then, at the residence, an atelier that brings the kit and is
// paid with the member's credit (no price at a host place, which issues no
// invoices). On a phone, a member whose credit falls short is told so in
// their words, with the way to their credit, and nothing is registered;
// given credit, the same tap registers them and spends it. axe-core on
// each page.
func TestServicesHostPlaceKitAndCredit(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	w := newServicesWorld(t)

	// The host place, from the network page (1280 px).
	a := newPage(t, b, viewport{"desktop", 1280, 800})
	a.servicesSignIn(w.srv.URL, "admin@example.org", "la phrase de l’administratrice")
	a.open(w.srv.URL + "/console/network")
	a.waitHeading("Réseau")
	a.waitText("main table th a", "La Fabrique")
	a.fill("Nom du lieu", "Résidence Les Tilleuls")
	a.setField("Type de lieu", "host")
	a.waitJS(`[...document.querySelectorAll("main label")].some((l) => l.textContent.startsWith("Personne à appeler"))`, "the person to call")
	if eval[bool](a, `[...document.querySelectorAll("main label")].some((l) => l.textContent.startsWith("Raison sociale"))`) {
		t.Fatal("the host place's form asks for a legal identity")
	}
	a.fill("Adresse", "4 allée des Tilleuls")
	a.fill("Code postal", "23000")
	a.fill("Ville", "Guéret")
	a.click("Ouvrir le lieu")
	a.waitText("main #field-site-contact-name-error", "un lieu d’accueil indique la personne à appeler")
	a.scan(axe, "/console/network, a host place without its contact")
	var sites struct {
		Items []struct{ ID, Name, Kind string }
	}
	w.srv.call(t, "GET", "/v1/sites", w.admin, nil, http.StatusOK, &sites)
	if len(sites.Items) != 1 {
		t.Fatalf("a refused host place was created: %+v", sites.Items)
	}
	a.fill("Personne à appeler", "Mme Roux, animatrice de la résidence")
	a.fill("Son téléphone", "05 55 00 00 00")
	a.click("Ouvrir le lieu")
	a.waitHeading("Lieu du réseau")
	a.waitText("main h2", "Résidence Les Tilleuls")
	a.waitText("main dd", "Lieu d’accueil (EHPAD, résidence, mairie…)")
	host := eval[string](a, `location.pathname.split("/").pop()`)
	a.fill("Adresse électronique du compte", w.managerEmail)
	a.click("Ajouter le gérant")
	a.waitText("main .console-bookings li", "Manon")

	// Manon's kit at La Fabrique (its home site).
	m := newPage(t, b, viewport{"desktop", 1280, 800})
	m.servicesSignIn(w.srv.URL, w.managerEmail, w.managerSecret)
	m.open(w.srv.URL + "/console/resources")
	m.waitJS(`!!document.querySelector("#console-site")`, "the site picker")
	m.chooseValue("#console-site", w.site)
	m.waitText("main", "Nouvelle ressource")
	m.setField("Type", "kit")
	m.fill("Nom", "Valise de tablettes")
	m.click("Créer la ressource")
	m.waitText("main", "Kit itinérant (tablettes, visio…)")
	m.scan(axe, "/console/resources with a kit")

	// At the residence: no price offered, credit instead, and the kit.
	m.chooseValue("#console-site", host)
	m.open(w.srv.URL + "/console/ateliers")
	m.waitHeading("Ateliers")
	m.waitJS(`[...document.querySelectorAll("#field-atelier-pricing option")].length === 2`, "the pricings of a host place")
	if eval[bool](m, `[...document.querySelectorAll("#field-atelier-pricing option")].some((o) => o.value === "price")`) {
		t.Fatal("a host place's atelier offers a price")
	}
	m.fill("Titre", "La tablette à la résidence")
	m.choose("Tarif", "Payé avec le crédit du membre")
	m.fill("Crédit par place (€)", "4")
	m.check("Valise de tablettes (kit de La Fabrique)")
	m.scan(axe, "/console/ateliers at a host place")
	m.tap("Créer l’atelier")
	m.waitHeading("La tablette à la résidence")
	m.waitText("main p", "4,00\u00a0€ de crédit par séance")
	var ateliers struct {
		Items []struct {
			ID          string
			Pricing     string
			CreditCents int64    `json:"credit_cents"`
			ResourceIDs []string `json:"resource_ids"`
			Sessions    []struct{ ID string }
		}
	}
	w.srv.call(t, "GET", "/v1/sites/"+host+"/ateliers", w.admin, nil, http.StatusOK, &ateliers)
	if len(ateliers.Items) != 1 || ateliers.Items[0].Pricing != "credits" || ateliers.Items[0].CreditCents != 400 || len(ateliers.Items[0].ResourceIDs) != 1 {
		t.Fatalf("the residence's ateliers %+v", ateliers.Items)
	}
	atelier := ateliers.Items[0]

	// A member with no credit, on a phone.
	remi := w.srv.register(t, "Rémi Durand", "remi@example.org", "une phrase pour Rémi")
	p := newPage(t, b, viewport{"phone", 360, 740})
	p.servicesSignIn(w.srv.URL, "remi@example.org", "une phrase pour Rémi")
	p.open(w.srv.URL + "/ateliers/" + host)
	p.waitText("main .services-atelier h2", "La tablette à la résidence")
	p.waitText("main .services-meta", "4,00\u00a0€ de crédit par séance")
	p.tap("S’inscrire")
	p.waitText("main .alert--error", "Votre crédit utilisable ici ne suffit pas\u00a0: chaque séance de cet atelier en prend 4,00\u00a0€.")
	p.waitJS(`[...document.querySelectorAll("main .alert--error a")].some((a) => a.getAttribute("href") === "/credits" && a.textContent === "Voir mon crédit")`, "the way to the credit")
	p.scan(axe, "the agenda, not enough credit, at 360 px")
	if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the agenda is wider than a phone")
	}
	var regs struct{ Items []struct{ Status string } }
	w.srv.call(t, "GET", "/v1/ateliers/"+atelier.ID+"/registrations", w.admin, nil, http.StatusOK, &regs)
	if len(regs.Items) != 0 {
		t.Fatalf("a refused registration was recorded: %+v", regs.Items)
	}

	// Given 10 € usable at the residence, the same tap registers him.
	w.srv.call(t, "POST", "/v1/users/"+remi+"/credits", w.admin, map[string]any{"site_id": host, "action": "grant", "unit": "cents",
		"amount": 1000, "reason": "Accueil à la résidence"}, http.StatusCreated, nil)
	p.tap("S’inscrire")
	p.waitText("main .badge", "Inscrit·e")
	var credits struct {
		Totals []struct {
			Unit      string
			Available int64
		}
	}
	remiToken := w.srv.login(t, "remi@example.org", "une phrase pour Rémi")
	w.srv.call(t, "GET", "/v1/me/credits", remiToken, nil, http.StatusOK, &credits)
	if len(credits.Totals) != 1 || credits.Totals[0].Available != 600 {
		t.Fatalf("Rémi's credit after registering %+v, want 6,00 € left", credits.Totals)
	}
}

// inputValue sets the input sel (a CSS selector) to value, as typing does.
func (p *page) inputValue(sel, value string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return false;
		el.value = %q;
		el.dispatchEvent(new Event("input", { bubbles: true }));
		return true;
	})()`, sel, value)) {
		p.t.Fatalf("no %s\nthe page shows:\n%s", sel, p.text())
	}
}

// TestServicesPartnersAndWindows: Manon, from the console (1280 px), finds
// the CAF received at La Fabrique with its permanence; adds France Travail
// with its motif and the documents to bring (refused by the field while
// the motif has no name); names its agent by email (an unknown address is
// refused in words); opens its Tuesday permanence (refused by the field
// while it ends before it starts), which residents then see as slots; and
// closes it. The page at 360 px fits a phone. axe-core on each state.
func TestServicesPartnersAndWindows(t *testing.T) {
	axe := axeSource(t)
	b := browser(t)
	w := newServicesWorld(t)
	w.srv.register(t, "Rémi Durand", "remi@example.org", "une phrase pour Rémi")
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	p.servicesSignIn(w.srv.URL, w.managerEmail, w.managerSecret)
	p.open(w.srv.URL + "/console")
	p.tap("Partenaires")
	p.waitHeading("Partenaires et permanences")
	p.waitText("main .partners-partner h3", "CAF de la Creuse")
	p.waitText("main .partners-partner", "Prime d’activité\u00a0— à apporter\u00a0: Pièce d’identité, Dernier avis d’imposition")
	p.waitText("main .partners-partner li p", "Tous les jours, de 10\u00a0h\u00a000 à 12\u00a0h\u00a000, créneaux de 30\u00a0min")
	p.scan(axe, "/console/partners")

	// A new partner of the site: its motif's name is required.
	p.fill("Nom du partenaire", "France Travail Guéret")
	p.fill("Type", "france_travail")
	p.inputValue("#purpose-0-documents", "Pièce d’identité\nCurriculum vitæ")
	p.click("Ajouter le partenaire")
	p.waitText("main #field-purpose-0-name-error", "est requis, 200 caractères au plus")
	p.scan(axe, "/console/partners, a motif without its name")
	var partners struct{ Items []struct{ ID, Name string } }
	w.srv.call(t, "GET", "/v1/partners?site_id="+w.site, w.admin, nil, http.StatusOK, &partners)
	if len(partners.Items) != 1 {
		t.Fatalf("a refused partner was added: %+v", partners.Items)
	}
	p.fill("Motif 1", "Inscription comme demandeur d’emploi")
	p.click("Ajouter le partenaire")
	p.waitText("main .partners-partner h3", "France Travail Guéret")
	p.waitText("main .partners-partner", "Inscription comme demandeur d’emploi\u00a0— à apporter\u00a0: Pièce d’identité, Curriculum vitæ")
	w.srv.call(t, "GET", "/v1/partners?site_id="+w.site, w.admin, nil, http.StatusOK, &partners)
	var ft string
	for _, x := range partners.Items {
		if x.Name == "France Travail Guéret" {
			ft = x.ID
		}
	}
	if ft == "" {
		t.Fatalf("France Travail is not among the partners %+v", partners.Items)
	}

	// Its agent, named by the email of an account.
	p.inputValue("#field-agent-email-"+ft, "personne@example.org")
	p.do(chromedp.Click(chromedp.CSS(`form[aria-label="Ajouter un agent à France Travail Guéret"] button[type=submit]`)))
	p.waitText("main #field-agent-email-"+ft+"-error", "aucun compte n’a cette adresse")
	w.srv.register(t, "Jean Conseiller", "jean@francetravail.example.fr", "une phrase pour Jean")
	p.inputValue("#field-agent-email-"+ft, "jean@francetravail.example.fr")
	p.do(chromedp.Click(chromedp.CSS(`form[aria-label="Ajouter un agent à France Travail Guéret"] button[type=submit]`)))
	p.waitJS(`[...document.querySelectorAll("main .partners-partner")].some((c) => c.textContent.includes("France Travail Guéret") && [...c.querySelectorAll("li p")].some((l) => l.textContent === "Jean Conseiller"))`, "the agent listed")

	// Its Tuesday permanence in the booth: ending before it starts is
	// refused by the field; corrected, it is listed and offers slots.
	p.do(chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("main summary")].find((s) => s.textContent === "Ouvrir une permanence de France Travail Guéret")`)))
	p.chooseValue("#field-window-weekday-"+ft, "tue")
	p.inputValue("#field-window-start-"+ft, "14:00")
	p.inputValue("#field-window-end-"+ft, "13:00")
	p.do(chromedp.Click(chromedp.CSS(`form[aria-label="Nouvelle permanence de France Travail Guéret"] button[type=submit]`)))
	p.waitText("main #field-window-end-"+ft+"-error", "doit être après le début")
	p.scan(axe, "/console/partners, a permanence ending before it starts")
	p.inputValue("#field-window-end-"+ft, "16:00")
	p.do(chromedp.Click(chromedp.CSS(`form[aria-label="Nouvelle permanence de France Travail Guéret"] button[type=submit]`)))
	p.waitText("main .partners-partner li p", "Chaque mardi, de 14\u00a0h\u00a000 à 16\u00a0h\u00a000, créneaux de 30\u00a0min, à partir du")
	var slots struct{ Items []struct{ Start time.Time } }
	slotsPath := "/v1/partners/" + ft + "/slots?site_id=" + w.site + "&from=" + w.today + "&to=" + time.Now().In(w.loc).AddDate(0, 0, 15).Format("2006-01-02")
	w.srv.call(t, "GET", slotsPath, w.admin, nil, http.StatusOK, &slots)
	if len(slots.Items) == 0 {
		t.Fatal("the permanence offers no slot")
	}
	for _, s := range slots.Items {
		if local := s.Start.In(w.loc); local.Weekday() != time.Tuesday || local.Hour() < 14 || local.Hour() >= 16 {
			t.Fatalf("slot at %s, not a Tuesday afternoon", local)
		}
	}

	// On a phone, the page fits.
	m := newPage(t, b, viewport{"phone", 360, 740})
	m.servicesSignIn(w.srv.URL, w.managerEmail, w.managerSecret)
	m.open(w.srv.URL + "/console/partners")
	m.waitText("main .partners-partner h3", "France Travail Guéret")
	m.scan(axe, "/console/partners at 360 px")
	if eval[bool](m, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the partners' page is wider than a phone")
	}

	// Closed, it offers no more slots.
	p.clickButton(eval[string](p, `[...document.querySelectorAll("main button")].map((b) => b.getAttribute("aria-label") || "").find((l) => l.startsWith("Fermer la permanence\u00a0: Chaque mardi"))`))
	p.waitJS(`[...document.querySelectorAll("main .partners-partner")].some((c) => c.textContent.includes("France Travail Guéret") && c.textContent.includes("Aucune permanence ouverte ici."))`, "the permanence closed")
	slots.Items = nil
	w.srv.call(t, "GET", slotsPath, w.admin, nil, http.StatusOK, &slots)
	if len(slots.Items) != 0 {
		t.Fatalf("a closed permanence still offers %d slots", len(slots.Items))
	}

	// A second motif, added by editing the partner; the first keeps its id.
	var before struct{ Purposes []struct{ ID string } }
	w.srv.call(t, "GET", "/v1/partners/"+ft, w.admin, nil, http.StatusOK, &before)
	p.clickButton("Modifier France Travail Guéret")
	p.waitJS(`!!document.querySelector('form[aria-label="Modifier France Travail Guéret"]')`, "the edit form")
	p.do(chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll('form[aria-label="Modifier France Travail Guéret"] button')].find((b) => b.textContent === "Ajouter un motif")`)))
	p.inputValue("#field-edit-"+ft+"-purpose-1-name", "Actualisation mensuelle")
	p.inputValue("#edit-"+ft+"-purpose-1-documents", "Identifiant France Travail")
	p.scan(axe, "/console/partners, editing a partner")
	p.do(chromedp.Click(chromedp.CSS(`form[aria-label="Modifier France Travail Guéret"] button[type=submit]`)))
	p.waitText("main .partners-partner", "Actualisation mensuelle\u00a0— à apporter\u00a0: Identifiant France Travail")
	var after struct{ Purposes []struct{ ID, Name string } }
	w.srv.call(t, "GET", "/v1/partners/"+ft, w.admin, nil, http.StatusOK, &after)
	if len(after.Purposes) != 2 || after.Purposes[0].ID != before.Purposes[0].ID {
		t.Fatalf("the motifs after editing %+v, before %+v", after.Purposes, before.Purposes)
	}

	// Jean leaves France Travail: removed, he reads none of its days.
	p.clickButton("Retirer Jean Conseiller des agents")
	p.waitText("main .alert--success, main [role=status], main .partners-partner", "Aucun agent pour le moment.")
	jean := w.srv.login(t, "jean@francetravail.example.fr", "une phrase pour Jean")
	w.srv.call(t, "GET", "/v1/partners/"+ft+"/appointments?date="+w.today, jean, nil, http.StatusNotFound, nil)

	// Paused, residents no longer find it.
	p.clickButton("Mettre en pause France Travail Guéret")
	p.waitJS(`[...document.querySelectorAll("main .partners-partner")].some((c) => c.textContent.includes("France Travail Guéret") && c.querySelector(".services-meta").textContent.includes("en pause"))`, "France Travail paused")
	resident := w.srv.login(t, "remi@example.org", "une phrase pour Rémi")
	var seen struct{ Items []struct{ ID string } }
	w.srv.call(t, "GET", "/v1/partners", resident, nil, http.StatusOK, &seen)
	for _, x := range seen.Items {
		if x.ID == ft {
			t.Fatal("a resident still finds the paused partner")
		}
	}
}
