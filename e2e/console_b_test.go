//go:build browser

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/relais-tierslieux/relais/devices"
	"github.com/relais-tierslieux/relais/devices/devicesim"
)

// consoleB is one relais with two sites of two legal entities, a manager
// of site A only, a member who bought a day pass at each site, and at
// site B a device and a sale that site A's manager must never see.
type consoleB struct {
	*relais
	broker       string // tcp://127.0.0.1:port of the embedded MQTT broker
	admin        string
	siteA, siteB string
	passA        string
}

const consoleBManager = "nadia.manager@example.org"
const consoleBPassword = "la phrase de Nadia la gérante"

// parisToday: the date of today at the sites, the day a day pass is for.
func parisToday() string {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return time.Now().In(paris).Format("2006-01-02")
}

// consoleBViewports: the console is for a desk or a tablet, not a phone.
var consoleBViewports = []viewport{{"tablet", 800, 1000}, {"desktop", 1280, 800}}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startConsoleB(t *testing.T) *consoleB {
	t.Helper()
	port := freePort(t)
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice",
		"--mqtt-listen", fmt.Sprintf("127.0.0.1:%d", port))
	c := &consoleB{relais: srv, broker: fmt.Sprintf("tcp://127.0.0.1:%d", port),
		admin: srv.login(t, "admin@example.org", "la phrase de l’administratrice")}
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	site := func(name, siren, siret, vat string) string {
		var s struct{ ID string }
		srv.call(t, "POST", "/v1/sites", c.admin, map[string]any{
			"name": name, "timezone": "Europe/Paris", "opening_hours": hours,
			"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
			"legal":   map[string]any{"company_name": "SCIC " + name, "legal_form": "SCIC SAS", "siren": siren, "siret": siret, "vat_number": vat},
		}, http.StatusCreated, &s)
		return s.ID
	}
	c.siteA = site("La Fabrique", "732829320", "73282932000074", "FR44732829320")
	c.siteB = site("Le Hangar secret", "552100554", "55210055400005", "FR96552100554")

	mgr := srv.register(t, "Nadia", consoleBManager, consoleBPassword)
	srv.call(t, "POST", "/v1/sites/"+c.siteA+"/managers", c.admin, map[string]any{"user_id": mgr}, http.StatusCreated, nil)

	var passA, passB struct{ ID string }
	srv.call(t, "POST", "/v1/plans", c.admin, map[string]any{"site_id": c.siteA, "kind": "day_pass", "name": "Journée", "price_cents": 2500,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &passA)
	srv.call(t, "POST", "/v1/plans", c.admin, map[string]any{"site_id": c.siteB, "kind": "day_pass", "name": "Journée Hangar", "price_cents": 4100,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &passB)
	c.passA = passA.ID
	// Site B's sale and device: what site A's manager must never see.
	berenice := srv.register(t, "Bérénice Hangar", "berenice@example.org", "la phrase de Bérénice")
	srv.call(t, "POST", "/v1/sites/"+c.siteB+"/payments", c.admin, map[string]any{"user_id": berenice, "plan_id": passB.ID, "method": "cash",
		"amount_cents": 4100, "buyer": billingAddress, "date": parisToday()}, http.StatusCreated, nil)
	srv.call(t, "POST", "/v1/sites/"+c.siteB+"/devices", c.admin, map[string]any{"kind": "lock", "name": "Porte du hangar secret",
		"protocol": "relais", "address": "hangar-secret"}, http.StatusCreated, nil)
	return c
}

// setField sets the value of the field labelled label as the app reads
// it (an input event, and change for a select).
func (p *page) setField(label, value string) {
	p.t.Helper()
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("main label")].find((l) => l.textContent.replace(/\s*\*$/, "") === %q);
		const f = l && document.getElementById(l.htmlFor);
		if (!f) { return false; }
		f.value = %q;
		f.dispatchEvent(new Event("input", { bubbles: true }));
		f.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, label, value))
	if !ok {
		p.t.Fatalf("no field labelled %q\nthe page shows:\n%s", label, p.text())
	}
}

// waitHeadingText waits for a heading of the page that says want.
func (p *page) waitHeadingText(want string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main h2")].some((h) => h.textContent === %q)`, want), "the heading "+want)
}

func (p *page) bodyText() string {
	return eval[string](p, `document.querySelector("main").innerText`)
}

// TestConsoleB: a manager registers a Tasmota lock, reads its credentials
// and its Tasmota commands once, and test-opens it through a simulated
// Tasmota; sets the opening hours and creates a room with its rules that
// members can then book; finds a sale in the day's till, closes a day and
// a month, downloads the month's signed archive and the FEC; puts a plan
// on sale and withdraws it; and never sees anything of another site.
// Every page passes the accessibility scan.
func TestConsoleB(t *testing.T) {
	axe := axeSource(t)
	c := startConsoleB(t)
	b := browser(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, vp := range consoleBViewports {
		t.Run(vp.name, func(t *testing.T) {
			// A sale at site A, made through the API as the front desk would.
			buyer := "Gaspard " + strings.ToUpper(vp.name[:1]) + vp.name[1:]
			buyerID := c.register(t, buyer, fmt.Sprintf("gaspard.%s@example.org", vp.name), "la phrase de Gaspard")
			c.call(t, "POST", "/v1/sites/"+c.siteA+"/payments", c.admin, map[string]any{"user_id": buyerID, "plan_id": c.passA, "method": "cash",
				"amount_cents": 2500, "buyer": billingAddress, "date": parisToday()}, http.StatusCreated, nil)

			p := newPage(t, b, vp)
			// A manager lands on the console's Today.
			p.open(c.URL + "/sign-in")
			p.fill("Adresse e-mail", consoleBManager)
			p.fill("Mot de passe", consoleBPassword)
			p.click("Se connecter")
			p.waitHeading("Aujourd’hui")

			// --- Devices: register a Tasmota lock.
			lockName := "Porte atelier " + vp.name
			topic := "tasmota_" + strings.ToUpper(vp.name)
			p.open(c.URL + "/console/devices")
			p.waitHeading("Serrures et prises")
			p.waitText("main", "Enregistrer un équipement")
			p.scan(axe, "/console/devices")
			p.setField("Nom", lockName)
			p.setField("Protocole", "tasmota")
			p.setField("Adresse MQTT", topic)
			p.click("Enregistrer")
			p.waitJS(`!!document.querySelector("main .consoleb-secret")`, "the credentials")
			p.waitJS(`document.activeElement && document.activeElement.classList.contains("consoleb-credentials")`, "the focus on the credentials")
			secret := eval[string](p, `document.querySelector("main .consoleb-secret").textContent`)
			username := eval[string](p, `document.querySelector("main .consoleb-username").textContent`)
			if !strings.HasPrefix(secret, "rds_") || !strings.HasPrefix(username, "dev-") {
				t.Fatalf("credentials shown: %q %q", username, secret)
			}
			snippet := eval[string](p, `document.querySelector("main .consoleb-snippet").textContent`)
			for _, want := range []string{"MqttUser " + username, "MqttPassword " + secret, "Topic " + topic, "FullTopic %prefix%/%topic%/", "MqttPort 1883"} {
				if !strings.Contains(snippet, want) {
					t.Errorf("the Tasmota snippet lacks %q:\n%s", want, snippet)
				}
			}
			p.scan(axe, "/console/devices, credentials shown")
			p.click("J’ai noté les identifiants")
			p.waitJS(`!document.querySelector("main .consoleb-secret")`, "the credentials gone")
			// Once: a new visit shows the username, never the secret.
			p.open(c.URL + "/console/devices")
			p.waitText("main .consoleb-device__name", lockName)
			if strings.Contains(p.bodyText(), secret) {
				t.Fatal("the secret is shown again")
			}

			// A simulated Tasmota logs in with those credentials.
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			sim, err := devicesim.Start(ctx, devicesim.Config{BrokerURL: c.broker, Username: username, Password: secret,
				Protocol: devices.ProtocolTasmota, Address: topic})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sim.Close)
			// Online once relais heard its Last Will topic.
			p.waitJS(fmt.Sprintf(`fetch("/v1/sites/%s/devices").then((r) => r.json()).then((l) => l.items.some((d) => d.name === %q && d.online))`,
				c.siteA, lockName), "the lock online")
			p.open(c.URL + "/console/devices")
			p.waitText("main .consoleb-device__name", lockName)
			p.clickButton("Tester l’ouverture de " + lockName)
			p.setField("Motif (gardé dans le journal)", "Essai après la pose")
			p.click("Ouvrir")
			p.waitText("main .consoleb-answer", "La serrure a confirmé l’ouverture")
			p.scan(axe, "/console/devices, a door opened")
			// The access log lists it with the manager's reason.
			p.click("Actualiser")
			p.waitText("main .consoleb-log", "Essai après la pose")
			logCSV := eval[string](p, `(() => { const a = [...document.querySelectorAll("main a")].find((a) => a.textContent === "Télécharger ce journal (CSV)"); return fetch(a.href).then(async (r) => r.status + "\n" + await r.text()); })()`)
			if !strings.HasPrefix(logCSV, "200\n") || !strings.Contains(logCSV, "Essai après la pose") {
				t.Errorf("the access log's CSV:\n%s", logCSV)
			}

			// A new secret: shown once, and the old one no longer logs in.
			p.clickButton("Nouveau secret pour " + lockName)
			p.waitJS(fmt.Sprintf(`(document.querySelector("main .consoleb-secret") || {}).textContent?.startsWith("rds_") && document.querySelector("main .consoleb-secret").textContent !== %q`, secret), "the new secret")
			newSecret := eval[string](p, `document.querySelector("main .consoleb-secret").textContent`)
			if !strings.Contains(eval[string](p, `document.querySelector("main .consoleb-snippet").textContent`), "MqttPassword "+newSecret) {
				t.Error("the snippet does not carry the new secret")
			}
			p.click("J’ai noté les identifiants")
			p.waitJS(fmt.Sprintf(`fetch("/v1/sites/%s/devices").then((r) => r.json()).then((l) => l.items.some((d) => d.name === %q && !d.online))`,
				c.siteA, lockName), "the lock cut off with its old secret")
			// Retired: gone from the list.
			p.clickButton("Retirer " + lockName)
			p.click("Retirer définitivement")
			p.waitJS(fmt.Sprintf(`![...document.querySelectorAll("main .consoleb-device__name")].some((e) => e.textContent === %q)`, lockName), "the lock retired")

			// A Zigbee2MQTT bridge: its part of configuration.yaml, then a
			// lock behind it, known by its friendly name.
			base := "zigbee2mqtt/" + vp.name
			p.setField("Nom de la passerelle", "Coordinateur "+vp.name)
			p.setField("Logiciel de la passerelle", "zigbee2mqtt")
			p.setField("Topic de base (Zigbee2MQTT), topic Tasmota ou préfixe Shelly", base)
			p.click("Enregistrer une passerelle")
			p.waitJS(`!!document.querySelector("main .consoleb-snippet")`, "the bridge's settings")
			yaml := eval[string](p, `document.querySelector("main .consoleb-snippet").textContent`)
			bridgeSecret := eval[string](p, `document.querySelector("main .consoleb-secret").textContent`)
			if !strings.HasPrefix(yaml, "mqtt:\n  base_topic: "+base+"\n  server: mqtt://") || !strings.Contains(yaml, "\n  user: brg-") ||
				!strings.Contains(yaml, "\n  password: "+bridgeSecret) || !strings.HasPrefix(bridgeSecret, "rds_") {
				t.Errorf("the Zigbee2MQTT settings:\n%s", yaml)
			}
			p.click("J’ai noté les identifiants")
			zlock := "Serrure Zigbee " + vp.name
			p.setField("Nom", zlock)
			// The bridges' list is read again after the registration: wait
			// for the new one among the options.
			p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main option")].some((o) => o.textContent === %q)`, "Coordinateur "+vp.name), "the bridge among the options")
			p.setField("Passerelle", eval[string](p, fmt.Sprintf(`[...document.querySelectorAll("main option")].find((o) => o.textContent === %q).value`, "Coordinateur "+vp.name)))
			p.setField("Adresse MQTT", "porte arrière")
			p.click("Enregistrer")
			p.waitText("main .consoleb-device__name", zlock)
			p.waitText("main .consoleb-device", "zigbee2mqtt porte arrière")
			if eval[bool](p, `!!document.querySelector("main .consoleb-secret")`) {
				t.Error("a device behind a bridge is shown a secret of its own")
			}

			// --- Resources: Saturday's hours, and a room with its rules.
			p.open(c.URL + "/console/resources")
			p.waitHeading("Ressources et règles")
			p.waitText("main", "Nouvelle ressource")
			p.scan(axe, "/console/resources")
			p.setField("Samedi", "10:00-13:00, 14:00-18:00")
			p.click("Enregistrer les horaires")
			p.waitJS(fmt.Sprintf(`fetch("/v1/sites/%s").then((r) => r.json()).then((s) => JSON.stringify(s.opening_hours.sat) === '[["10:00","13:00"],["14:00","18:00"]]')`, c.siteA),
				"Saturday's hours saved")
			room := "Salle Curie " + vp.name
			p.setField("Type", "room")
			p.setField("Nom", room)
			p.setField("Capacité (personnes)", "8")
			p.setField("Pas des créneaux", "60")
			p.setField("Durée minimale", "60")
			p.setField("Durée maximale (0\u00a0: par défaut)", "240")
			p.setField("Réservable jusqu’à (jours à l’avance)", "30")
			p.setField("Battement après chaque réservation", "0")
			p.setField("Prix par heure TTC (€)", "20,00")
			p.click("Créer la ressource")
			p.waitText("main .consoleb-row h3", room)
			p.waitText("main .consoleb-row", "Créneaux de 60\u00a0min, de 60 à 240\u00a0min, jusqu’à 30\u00a0jours à l’avance")
			// Bookable: a member sees it free next Saturday, within the new hours.
			var rooms struct {
				Items []struct {
					ID, Name string
				}
			}
			c.call(t, "GET", "/v1/sites/"+c.siteA+"/resources", c.admin, nil, http.StatusOK, &rooms)
			roomID := ""
			for _, r := range rooms.Items {
				if r.Name == room {
					roomID = r.ID
				}
			}
			if roomID == "" {
				t.Fatalf("room %s not created", room)
			}
			sat := time.Now().In(paris).AddDate(0, 0, 1)
			for sat.Weekday() != time.Saturday {
				sat = sat.AddDate(0, 0, 1)
			}
			member := c.login(t, fmt.Sprintf("gaspard.%s@example.org", vp.name), "la phrase de Gaspard")
			var avail struct {
				Free []struct{ Start, End time.Time }
			}
			c.call(t, "GET", "/v1/resources/"+roomID+"/availability?period="+sat.Format("2006-01-02"), member, nil, http.StatusOK, &avail)
			if len(avail.Free) != 2 || avail.Free[0].Start.In(paris).Hour() != 10 || avail.Free[1].End.In(paris).Hour() != 18 {
				t.Fatalf("the room's free time on %s: %+v", sat.Format("2006-01-02"), avail.Free)
			}
			// Its price changed, then closed that Saturday: no longer free.
			p.clickButton("Modifier " + room)
			p.setField("Prix par heure TTC (€)", "25,50")
			p.click("Enregistrer")
			p.waitText("main .consoleb-row", "25,50\u00a0€ de l’heure")
			p.clickButton("Fermetures de " + room)
			p.setField("Du", sat.Format("2006-01-02"))
			p.setField("Au (inclus)", sat.Format("2006-01-02"))
			p.setField("Motif", "Peinture")
			p.click("Fermer")
			p.waitText("main .consoleb-closures li", "Peinture")
			p.scan(axe, "/console/resources, a closure")
			c.call(t, "GET", "/v1/resources/"+roomID+"/availability?period="+sat.Format("2006-01-02"), member, nil, http.StatusOK, &avail)
			if len(avail.Free) != 0 {
				t.Fatalf("the room is free on %s although closed: %+v", sat.Format("2006-01-02"), avail.Free)
			}

			// --- Money: the sale in today's till.
			p.open(c.URL + "/console/money")
			p.waitHeading("Caisse et factures")
			p.waitText("main .consoleb-rows", buyer)
			p.waitText("main .consoleb-totals", "Espèces")
			p.scan(axe, "/console/money")
			// Close yesterday, then last month, and download that month's archive.
			now := time.Now().In(paris)
			yesterday := now.AddDate(0, 0, -1).Format("2006-01-02")
			lastMonth := time.Date(now.Year(), now.Month()-1, 1, 12, 0, 0, 0, paris).Format("2006-01")
			// (The earlier viewport may have closed them already: closing
			// again answers the same closing, and says so all the same.)
			for _, period := range []string{yesterday, lastMonth} {
				p.setField("Période à clôturer", period)
				p.click("Clôturer")
				p.waitText(`[role=status][aria-live]`, "Période "+period+" clôturée.")
				p.waitText("main .consoleb-closings", period)
			}
			// Today is not over: said in words.
			p.setField("Période à clôturer", now.Format("2006-01-02"))
			p.click("Clôturer")
			p.waitText("main .alert--error", "Cette période n’est pas terminée")
			p.setField("Mois de l’archive", lastMonth)
			zip := eval[string](p, `fetch(document.querySelector("main a.consoleb-archive").href).then(async (r) => r.status + " " + r.headers.get("Content-Type") + " " + String.fromCharCode(...new Uint8Array(await r.arrayBuffer()).slice(0, 2)))`)
			if !strings.HasPrefix(zip, "200 ") || !strings.HasSuffix(zip, " PK") {
				t.Fatalf("the archive of %s: %s", lastMonth, zip)
			}
			// The month's FEC and CSV.
			fec := eval[string](p, `(() => { const a = [...document.querySelectorAll("main a")].find((a) => a.textContent.startsWith("FEC ")); return fetch(a.href).then(async (r) => r.status + "\n" + await r.text()); })()`)
			if !strings.HasPrefix(fec, "200\nJournalCode\tJournalLib\t") || strings.Count(fec, "\n") < 3 {
				t.Fatalf("the FEC:\n%s", fec)
			}
			csv := eval[string](p, `(() => { const a = [...document.querySelectorAll("main a")].find((a) => a.textContent.includes("(CSV)")); return fetch(a.href).then(async (r) => r.status + "\n" + await r.text()); })()`)
			if !strings.HasPrefix(csv, "200\n") || !strings.Contains(csv, buyer) {
				t.Fatalf("the invoices' CSV:\n%s", csv)
			}
			// Refund the sale with a reason: the credit note is issued.
			p.clickButton("Rembourser le paiement de " + buyer + ", 25,00\u00a0€")
			p.setField("Motif (imprimé sur l’avoir)", "Geste commercial")
			p.click("Confirmer le remboursement")
			p.waitText("main .alert--success", "Remboursé. Avoir ")
			p.scan(axe, "/console/money, refunded")

			// --- Plans: put a pack on sale, then withdraw it.
			pack := "Carnet " + vp.name
			p.open(c.URL + "/console/plans")
			p.waitHeading("Formules")
			p.waitText("main", "Journée")
			p.scan(axe, "/console/plans")
			p.setField("Type", "pack")
			p.setField("Nom", pack)
			p.setField("Prix TTC (€)", "90")
			p.setField("Heures du carnet", "10")
			p.setField("Valable (jours)", "180")
			p.click("Mettre en vente")
			p.waitText("main .consoleb-row h3", pack)
			p.waitText("main .consoleb-row", "10\u00a0h valables 180\u00a0jours")
			p.clickButton("Retirer de la vente\u00a0: " + pack)
			p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main .consoleb-row")].some((r) => r.textContent.includes(%q) && r.textContent.includes("Retirée de la vente"))`, pack), "the pack withdrawn")
			// A new version of it: the form comes filled with what it includes.
			p.clickButton("Nouvelle version\u00a0: " + pack)
			p.waitHeadingText("Nouvelle version de " + pack)
			p.setField("Nom", pack+" bis")
			p.setField("Heures du carnet", "12")
			p.click("Mettre en vente")
			p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main .consoleb-row")].some((r) => r.textContent.includes(%q) && r.textContent.includes("90,00\u00a0€") && r.textContent.includes("12\u00a0h valables 180\u00a0jours") && r.textContent.includes("En vente"))`, pack+" bis"), "the new version on sale")

			// --- Site B stays out of sight, even asked for by its id.
			p.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`sessionStorage.setItem("relais.console.site", %q)`, c.siteB)))
			for _, path := range []string{"/console/money", "/console/devices"} {
				p.open(c.URL + path)
				p.waitText("main .console-sitename", "La Fabrique")
				p.waitJS(`!document.querySelector("main [role=status]")`, "the page loaded")
				text := strings.ToLower(p.bodyText())
				for _, secretWord := range []string{"hangar", "41,00"} {
					if strings.Contains(text, secretWord) {
						t.Errorf("%s shows %q of site B:\n%s", path, secretWord, text)
					}
				}
			}
			if n := eval[int](p, `document.querySelectorAll("main select#console-site").length`); n != 0 {
				t.Errorf("a manager of one site is offered a choice of sites (%d)", n)
			}
		})
	}
}

// TestConsoleBUnits: the console's dates in the site's zone (the bounds
// the till and the access log ask the API for, across the change of
// time) and the settings each firmware is given.
func TestConsoleBUnits(t *testing.T) {
	p := unitPage(t)
	const lib = "/static/lib/console-b.js"
	const devicesPage = "/static/pages/console-devices.js"
	tests := []struct {
		module, fn string
		args       []any
		want       string
	}{
		{lib, "midnight", []any{"2026-12-06", "Europe/Paris"}, `"2026-12-05T23:00:00.000Z"`},
		{lib, "midnight", []any{"2026-07-14", "Europe/Paris"}, `"2026-07-13T22:00:00.000Z"`},
		// The day the clocks go back is 25 hours long.
		{lib, "midnight", []any{"2026-10-25", "Europe/Paris"}, `"2026-10-24T22:00:00.000Z"`},
		{lib, "midnight", []any{"2026-10-26", "Europe/Paris"}, `"2026-10-25T23:00:00.000Z"`},
		{lib, "midnight", []any{"2026-12-06", "Indian/Reunion"}, `"2026-12-05T20:00:00.000Z"`},
		{lib, "localDay", []any{"2026-12-05T23:30:00Z", "Europe/Paris"}, `"2026-12-06"`},
		{lib, "nextDay", []any{"2026-12-31"}, `"2027-01-01"`},
		{lib, "previousMonth", []any{"2026-01"}, `"2025-12"`},
		{devicesPage, "firmwareLines", []any{map[string]any{"protocol": "tasmota", "username": "dev-1", "address": "tasmota_A1"}, "rds_x", "mqtt.example.org:1883"},
			`["Backlog MqttHost mqtt.example.org; MqttPort 1883; MqttUser dev-1; MqttPassword rds_x; Topic tasmota_A1; FullTopic %prefix%/%topic%/"]`},
		{devicesPage, "firmwareLines", []any{map[string]any{"protocol": "zigbee2mqtt", "username": "brg-1", "address": "zigbee2mqtt/site-b"}, "rds_y", "mqtt.example.org:8883"},
			`["mqtt:","  base_topic: zigbee2mqtt/site-b","  server: mqtt://mqtt.example.org:8883","  user: brg-1","  password: rds_y"]`},
	}
	for _, tt := range tests {
		if got := call(t, p, tt.module, tt.fn, tt.args...); got != tt.want {
			t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
		}
	}
	shelly := call(t, p, devicesPage, "firmwareLines", map[string]any{"protocol": "shelly", "username": "dev-2", "address": "shellies-b/office"}, "rds_z", "relais.example.org")
	for _, want := range []string{`\"method\": \"MQTT.SetConfig\"`, `\"server\": \"relais.example.org:1883\"`, `\"topic_prefix\": \"shellies-b/office\"`, `\"pass\": \"rds_z\"`} {
		if !strings.Contains(shelly, want) {
			t.Errorf("the Shelly settings lack %s: %s", want, shelly)
		}
	}
}
