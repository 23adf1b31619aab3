//go:build browser

package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const consoleCManager = "odile.manager@example.org"
const consoleCPassword = "la phrase d’Odile la gérante"

// consoleC is one relais (webhooks may reach this machine) with a site,
// a resource, and a manager of the site.
type consoleC struct {
	*relais
	admin, site string
}

func startConsoleC(t *testing.T) *consoleC {
	t.Helper()
	srv := startRelais(t, "--webhook-allow-private", "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	c := &consoleC{relais: srv, admin: srv.login(t, "admin@example.org", "la phrase de l’administratrice")}
	var s struct{ ID string }
	srv.call(t, "POST", "/v1/sites", c.admin, map[string]any{
		"name": "La Fabrique", "timezone": "Europe/Paris",
		"address": map[string]any{"line1": "1 rue des Ateliers", "postal_code": "69001", "city": "Lyon", "country": "FR"},
		"legal":   map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS", "siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &s)
	c.site = s.ID
	srv.call(t, "POST", "/v1/sites/"+c.site+"/resources", c.admin, map[string]any{"kind": "room", "name": "Salle Lavoisier", "capacity": 8}, http.StatusCreated, nil)
	mgr := srv.register(t, "Odile", consoleCManager, consoleCPassword)
	srv.call(t, "POST", "/v1/sites/"+c.site+"/managers", c.admin, map[string]any{"user_id": mgr}, http.StatusCreated, nil)
	return c
}

func (c *consoleC) signIn(p *page) {
	p.t.Helper()
	p.open(c.URL + "/sign-in")
	p.fill("Adresse e-mail", consoleCManager)
	p.fill("Mot de passe", consoleCPassword)
	p.click("Se connecter")
	p.waitHeading("Aujourd’hui")
}

// setID sets the value of the field with that id, as typing would.
func (p *page) setID(id, value string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => {
		const f = document.getElementById(%q);
		if (!f) { return false; }
		f.value = %q;
		f.dispatchEvent(new Event("input", { bubbles: true }));
		f.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, id, value)) {
		p.t.Fatalf("no field #%s\nthe page shows:\n%s", id, p.text())
	}
}

// pickFile gives the file input #id a file named name holding text, as
// choosing it in the file dialog would.
func (p *page) pickFile(id, name, text string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(() => {
		const f = document.getElementById(%q);
		if (!f) { return false; }
		const dt = new DataTransfer();
		dt.items.add(new File([%q], %q, { type: "text/csv" }));
		f.files = dt.files;
		f.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, id, text, name)) {
		p.t.Fatalf("no file input #%s\nthe page shows:\n%s", id, p.text())
	}
}

// fitsWidth fails the test when the page scrolls sideways.
func (p *page) fitsWidth(width int, where string) {
	p.t.Helper()
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > width {
		wide := eval[string](p, fmt.Sprintf(`[...document.querySelectorAll("main *")].filter((e) => e.getBoundingClientRect().right > %d)
			.slice(0, 5).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ") + " | " +
			(() => { const out = []; for (let e = document.querySelector("main table"); e; e = e.parentElement) { out.push(e.tagName + "." + e.className + " cw=" + e.clientWidth + " sw=" + e.scrollWidth + " ov=" + getComputedStyle(e).overflowX + " disp=" + getComputedStyle(e).display); } return out.join(" < "); })()`, width))
		p.t.Errorf("%s is %d px wide at %d px: %s", where, w, width, wide)
	}
}

// TestConsoleCCampaign: a manager creates a campaign with two tiers,
// previews a CSV export whose third line is wrong (the report names it,
// nothing is imported), previews the fixed file, applies it, and finds the
// contributions and their CSV export; the page passes axe and fits a
// 360 px screen.
func TestConsoleCCampaign(t *testing.T) {
	axe := axeSource(t)
	c := startConsoleC(t)
	b := browser(t)
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	c.signIn(p)

	p.open(c.URL + "/console/campaigns")
	p.waitHeading("Campagnes de financement")
	p.waitText("main", "Aucune campagne pour l’instant.")
	p.click("Nouvelle campagne")
	p.setID("campaign-title", "Une découpeuse laser")
	p.setID("campaign-goal", "1500")
	p.setID("campaign-day", time.Now().AddDate(0, 1, 0).Format("2006-01-02"))
	p.setID("tier-0-name", "Soutien")
	p.setID("tier-0-min", "20")
	p.setID("tier-0-amount", "24")
	p.click("Ajouter un palier")
	p.setID("tier-1-name", "Laser")
	p.setID("tier-1-min", "100")
	p.setID("tier-1-unit", "minutes")
	p.setID("tier-1-amount", "10")
	p.scan(axe, "/console/campaigns, new campaign")
	p.click("Créer la campagne")
	p.waitHeadingText("Une découpeuse laser")
	p.waitText("main li", "Laser\u00a0: à partir de 100,00\u00a0€, 10\u00a0h de")
	p.waitText("main", "0,00\u00a0€ collectés sur 1\u202f500,00\u00a0€")

	// A file with a bad third line: the report names it, nothing is imported.
	header := "contribution_id;email;amount;date\n"
	p.pickFile("import-file", "contributions.csv", header+"G-1;anne@example.org;120,00;02/03/2026\nG-2;pas-une-adresse;40,00;02/03/2026\n")
	p.click("Vérifier le fichier")
	p.waitText("main td", "ligne 3")
	p.waitText("main td", "«\u00a0pas-une-adresse\u00a0» n’est pas une adresse e-mail.")
	p.waitText("main", "Aucune contribution pour l’instant.")
	p.scan(axe, "/console/campaigns/:id, file refused")

	// Fixed: previewed, then applied.
	p.pickFile("import-file", "contributions.csv", header+"G-1;anne@example.org;120,00;02/03/2026\nG-2;zoe@example.org;40,00;02/03/2026\n")
	p.click("Vérifier le fichier")
	p.waitText("main h3", "Ce que l’import ferait")
	p.waitText("main", "Rien n’est encore enregistré.")
	p.waitText("main", "Aucune contribution pour l’instant.")
	p.scan(axe, "/console/campaigns/:id, preview")
	p.click("Appliquer l’import")
	p.waitText("main h3", "Import appliqué")
	p.waitText("main td", "zoe@example.org")
	p.waitText("main", "160,00\u00a0€ collectés sur 1\u202f500,00\u00a0€ (10\u00a0%), 2 contributions")
	href := eval[string](p, `[...document.querySelectorAll("main a")].find((a) => a.textContent === "Télécharger les contributions (CSV)").getAttribute("href")`)
	csv := eval[string](p, fmt.Sprintf(`fetch(%q).then((r) => r.text())`, href))
	if !strings.Contains(csv, "zoe@example.org") {
		t.Fatalf("the export says:\n%s", csv)
	}
	p.scan(axe, "/console/campaigns/:id, applied")

	// Closing early asks first.
	p.click("Clôturer avant la date de fin…")
	p.click("Oui, clôturer")
	p.waitText("main dd", "Objectif non atteint") // all or nothing, 160 € of 1 500 €
	p.waitJS(`!document.querySelector("#import-file")`, "the import gone once closed")

	// A phone's width: nothing scrolls sideways but the tables' own box.
	phone := newPage(t, b, viewport{"phone", 360, 740})
	c.signIn(phone)
	campaign := eval[string](p, `location.pathname`)
	phone.open(c.URL + campaign)
	phone.waitText("main td", "zoe@example.org")
	phone.fitsWidth(360, campaign)
	phone.open(c.URL + "/console/campaigns")
	phone.waitText("main h3", "Une découpeuse laser")
	phone.fitsWidth(360, "/console/campaigns")

	// More contributions than a page: the next ones come on request.
	var big struct{ ID string }
	c.call(t, "POST", "/v1/sites/"+c.site+"/campaigns", c.admin, map[string]any{"title": "Un four", "goal_cents": 100000,
		"deadline": time.Now().AddDate(0, 1, 0).UTC().Format(time.RFC3339), "mode": "keep_it_all"}, http.StatusCreated, &big)
	var file strings.Builder
	file.WriteString(header)
	for i := range 101 {
		fmt.Fprintf(&file, "F-%d;ami%d@example.org;5;02/03/2026\n", i, i)
	}
	req, err := http.NewRequest("POST", c.URL+"/v1/campaigns/"+big.ID+"/imports", strings.NewReader(file.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+c.admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("import of 101 rows: %d", res.StatusCode)
	}
	phone.open(c.URL + "/console/campaigns/" + big.ID)
	phone.waitText("main caption", "100 contributions")
	phone.click("Afficher les suivantes")
	phone.waitText("main caption", "101 contributions")
	phone.waitJS(`![...document.querySelectorAll("main button")].some((b) => b.textContent.trim() === "Afficher les suivantes")`, "no next page left")
}

// TestConsoleCCalendarsAndWebhooks: a manager makes the site's calendar
// link (a calendar app reads it without signing in), adds a webhook to a
// receiver of the test, copies its secret, sees a delivery in the log and
// sends it again, then pauses it.
func TestConsoleCCalendarsAndWebhooks(t *testing.T) {
	axe := axeSource(t)
	c := startConsoleC(t)
	hits := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case hits <- r.Header.Get("webhook-id") + " " + string(b):
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)
	b := browser(t)
	p := newPage(t, b, viewport{"desktop", 1280, 800})
	c.signIn(p)

	p.open(c.URL + "/console/calendars")
	p.waitHeading("Agendas et webhooks")
	p.waitText("main h3", "Salle Lavoisier")
	p.scan(axe, "/console/calendars")
	p.click("Créer le lien")
	p.waitJS(`(document.getElementById("feed-site") || {}).value !== undefined`, "the site's link")
	link := eval[string](p, `document.getElementById("feed-site").value`)
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("the site's link %s answers %d %s", link, res.StatusCode, res.Header.Get("Content-Type"))
	}

	p.setID("webhook-url", receiver.URL+"/relais")
	p.setID("webhook-description", "Notre tableau de bord")
	p.check("Campagnes")
	p.click("Ajouter le webhook")
	p.waitJS(`((document.getElementById("webhook-secret") || {}).value || "").startsWith("whsec_")`, "the secret shown")
	p.waitText("main h3", "Notre tableau de bord")
	p.scan(axe, "/console/calendars, webhook added")
	p.click("J’ai copié le secret")
	p.waitJS(`!document.getElementById("webhook-secret")`, "the secret gone")

	// An event of the site: a campaign settles.
	var camp struct{ ID string }
	c.call(t, "POST", "/v1/sites/"+c.site+"/campaigns", c.admin, map[string]any{"title": "Un four", "goal_cents": 10000,
		"deadline": time.Now().AddDate(0, 1, 0).UTC().Format(time.RFC3339), "mode": "keep_it_all"}, http.StatusCreated, &camp)
	c.call(t, "POST", "/v1/campaigns/"+camp.ID+"/close", c.admin, nil, http.StatusOK, nil)
	var first string
	select {
	case first = <-hits:
	case <-time.After(15 * time.Second):
		t.Fatal("no delivery reached the receiver")
	}
	if !strings.Contains(first, "campaign.settled") {
		t.Fatalf("the receiver got %s", first)
	}
	p.click("Journal des envois")
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.bodyText(), "Reçu"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log shows no delivery received:\n%s", p.bodyText())
		}
		p.click("Actualiser le journal")
	}
	p.waitText("main td", "200")
	p.waitText("main td", "campaign.settled")
	p.scan(axe, "/console/calendars, delivery log")
	p.click("Renvoyer")
	select {
	case again := <-hits:
		if strings.Fields(again)[0] != strings.Fields(first)[0] {
			t.Fatalf("redelivered %q, first %q", again, first)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the delivery was not sent again")
	}
	p.click("Mettre en pause")
	p.waitText("main .badge", "En pause")

	phone := newPage(t, b, viewport{"phone", 360, 740})
	c.signIn(phone)
	phone.open(c.URL + "/console/calendars")
	phone.waitText("main h3", "Notre tableau de bord")
	phone.fitsWidth(360, "/console/calendars")
}
