//go:build browser

package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The demo's people (cmd/relais/demo.go): Camille holds the laser cutter
// now, and her plan opens the entrance at any hour; the demo's devices
// are simulated in-process on the embedded broker.
const (
	demoCamille  = "camille@demo.relais.test"
	demoPassword = "demo-relais-2026"
)

// TestDoorAndMachine: on the home page, the member opens the entrance
// with its big button (the simulated lock confirms), then switches the
// laser she booked on, reads the time left before the power goes off,
// and switches it off.
func TestDoorAndMachine(t *testing.T) {
	srv := startRelais(t, "--demo")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.signIn(srv.URL, demoCamille, demoPassword, "Camille Martin")
			p.waitText("main h2", "Ouvrir une porte")
			// The whole button is its name: the verb, the door, the site.
			p.waitJS(`[...document.querySelectorAll("main .door__button")].some((b) => b.textContent.includes("Porte d'entrée"))`, "the entrance's button")
			p.do(chromedp.Click(chromedp.JSPath(`[...document.querySelectorAll("main .door__button")].find((b) => b.textContent.includes("Porte d'entrée"))`)))
			p.waitText("main .door .alert--success", "C’est ouvert\u00a0: Porte d'entrée")
			p.waitText("[role=status][aria-live=polite]", "C’est ouvert")

			p.waitText("main h2", "Mes machines")
			// The machine's state is read first; then the button shows.
			p.waitText("main .machine button", "Allumer Découpeuse laser")
			p.click("Allumer Découpeuse laser")
			p.waitText("main .machine .badge", "Allumée")
			left := eval[string](p, `document.querySelector("main .machine [role=timer]").textContent`)
			if !strings.HasPrefix(left, "Le courant sera coupé dans ") || !strings.Contains(left, "\u00a0min") {
				t.Errorf("the countdown says %q", left)
			}
			p.waitText("[role=status][aria-live=polite]", "Découpeuse laser est allumée")
			p.waitText("main .machine button", "Éteindre Découpeuse laser")
			p.click("Éteindre Découpeuse laser")
			p.waitText("main .machine", "Éteinte")
			p.waitText("[role=status][aria-live=polite]", "Découpeuse laser est éteinte")
		})
	}
}

// TestDoorShut: a member whose day pass is for tomorrow sees the
// entrance without a button, and why, in words.
func TestDoorShut(t *testing.T) {
	srv := startRelais(t, "--demo")
	admin := srv.login(t, "animatrice@demo.relais.test", demoPassword)
	var sites struct{ Items []struct{ ID string } }
	srv.call(t, "GET", "/v1/sites", admin, nil, http.StatusOK, &sites)
	var plans struct {
		Items []struct{ ID, Kind, Name string }
	}
	srv.call(t, "GET", "/v1/plans?site_id="+sites.Items[0].ID, admin, nil, http.StatusOK, &plans)
	pass := ""
	for _, pl := range plans.Items {
		if pl.Kind == "day_pass" {
			pass = pl.ID
		}
	}
	if pass == "" {
		t.Fatalf("the demo has no day pass: %+v", plans)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tomorrow := time.Now().In(paris).AddDate(0, 0, 1).Format("2006-01-02")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := "noe." + vp.name + "@example.org"
			id := srv.register(t, "Noé", email, "une phrase pour Noé")
			srv.call(t, "POST", "/v1/sites/"+sites.Items[0].ID+"/payments", admin, map[string]any{"user_id": id, "plan_id": pass, "date": tomorrow,
				"method": "cash", "amount_cents": 2500,
				"buyer": map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "23000", "city": "Guéret", "country": "FR"}}},
				http.StatusCreated, nil)
			p := newPage(t, b, vp)
			p.signIn(srv.URL, email, "une phrase pour Noé", "Noé")
			p.waitText("main .doors-shut li", "Porte d'entrée (La Fabrique (démo))\u00a0: Vous n’avez ni abonnement ni pass valable maintenant dans ce lieu.")
			if eval[bool](p, `!!document.querySelector("main .door__button")`) {
				t.Error("a button for a door the member may not open")
			}
		})
	}
}

// TestAccessWords: a refusal's code becomes the catalogue's sentence, an
// unknown one the API's detail; the countdown's words.
func TestAccessWords(t *testing.T) {
	p := unitPage(t)
	got := eval[[]string](p, `Promise.all([import("/static/pages/access.js"), import("/static/lib/api.js"), import("/static/lib/i18n.js")]).then(([a, api, i18n]) => {
		const fr = i18n.translator("fr"), en = i18n.translator("en");
		return [
			a.problemText(new api.ApiError(403, { code: "no_membership", detail: "no membership or day pass is valid now at this site" }), fr),
			a.problemText(new api.ApiError(503, { code: "device_offline", detail: "x" }), en),
			a.problemText(new api.ApiError(409, { code: "something_new", detail: "Le détail de l’API." }), fr),
			a.problemText(new api.ApiError(0), fr),
			a.durationText(a.minutesLeft("2026-12-06T11:05:30Z", "2026-12-06T10:00:00Z"), fr),
			a.durationText(a.minutesLeft("2026-12-06T10:12:59Z", "2026-12-06T10:00:00Z"), fr),
			a.durationText(a.minutesLeft("2026-12-06T09:00:00Z", "2026-12-06T10:00:00Z"), fr),
		];
	})`)
	want := []string{
		"Vous n’avez ni abonnement ni pass valable maintenant dans ce lieu.",
		"The device is offline; nothing was sent to it. Tell the team.",
		"Le détail de l’API.",
		"Le serveur ne répond pas. Vérifiez votre connexion et réessayez.",
		"1\u00a0h\u00a005\u00a0min",
		"12\u00a0min",
		"moins d’une minute",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestAccountExtras: on the account page the member signs another device
// out, makes the calendar link (shown with its QR code, and working),
// asks for a copy of their data, and deletes the account, the wrong
// password first.
func TestAccountExtras(t *testing.T) {
	srv := startRelais(t)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := "lea." + vp.name + "@example.org"
			srv.register(t, "Léa", email, "une phrase pour Léa")
			p := newPage(t, b, vp)
			p.signIn(srv.URL, email, "une phrase pour Léa", "Léa")
			// Another device: a client of the API.
			other := srv.login(t, email, "une phrase pour Léa")
			p.click("Mon compte")
			p.waitHeading("Mon compte")

			p.waitText("main .session .badge", "Cet appareil")
			p.waitText("main .session__device", "Appareil inconnu")
			p.click("Déconnecter")
			p.waitText("[role=status][aria-live=polite]", "L’appareil est déconnecté.")
			p.waitJS(`document.querySelectorAll("main .session").length === 1`, "one session left")
			srv.call(t, "GET", "/v1/me", other, nil, http.StatusUnauthorized, nil)

			p.click("Créer mon lien d’agenda")
			p.waitJS(`(document.getElementById("feed-url") || {}).value !== undefined`, "the feed's link")
			url := eval[string](p, `document.getElementById("feed-url").value`)
			if !strings.HasPrefix(url, srv.URL+"/v1/calendar/") {
				t.Fatalf("the feed link is %q", url)
			}
			p.waitJS(`(() => { const i = document.querySelector("main img.feed__qr"); return i && i.complete && i.naturalWidth > 0; })()`, "the QR code drawn")
			if alt := eval[string](p, `document.querySelector("main img.feed__qr").alt`); alt == "" {
				t.Error("the QR code has no text alternative")
			}
			res, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Errorf("GET the feed link: %d", res.StatusCode)
			}

			p.waitText("main button", "Demander une copie de mes données")
			p.click("Demander une copie de mes données")
			p.waitText("[role=status][aria-live=polite]", "Votre copie est en préparation")
			p.waitJS(`!!document.querySelector("main .export__status")`, "the export's status")
			// The job prepares it; once ready, the page offers the ZIP.
			token := srv.login(t, email, "une phrase pour Léa")
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				var exp struct{ Status string }
				srv.call(t, "GET", "/v1/me/export", token, nil, http.StatusOK, &exp)
				if exp.Status == "ready" {
					break
				}
				if exp.Status == "failed" || time.Now().After(deadline) {
					t.Fatalf("the export is %q", exp.Status)
				}
			}
			if eval[bool](p, `!!document.querySelector("main .export__status + button")`) {
				p.click("Vérifier si elle est prête")
			}
			p.waitText("main a", "Télécharger mes données (ZIP)")
			got := eval[string](p, `fetch([...document.querySelectorAll("main a")].find((a) => a.textContent.includes("Télécharger")).href)
				.then((r) => r.status + " " + r.headers.get("Content-Type"))`)
			if got != "200 application/zip" {
				t.Errorf("the download answers %s", got)
			}

			p.fill("Mot de passe", "pas la bonne phrase")
			p.click("Supprimer définitivement mon compte")
			p.waitJS(`!!document.getElementById("field-delete-password-error")`, "the password's error")
			p.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("field-delete-password").value = ""`))
			p.fill("Mot de passe", "une phrase pour Léa")
			p.click("Supprimer définitivement mon compte")
			p.waitHeading("Se connecter")
			srv.call(t, "POST", "/v1/auth/login", "", map[string]string{"email": email, "password": "une phrase pour Léa"}, http.StatusUnauthorized, nil)
		})
	}
}

// cuttable is a way to the server that can be cut, as a phone's network
// in a lift: Chromium's offline emulation does not reach what the
// service worker fetches, and the worker is what is tested.
type cuttable struct {
	URL  string
	down atomic.Bool
}

func newCuttable(t *testing.T, target string) *cuttable {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.down.Load() {
			// No answer at all: the connection drops, as with no network.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	c.URL = ts.URL
	return c
}

// TestOfflineHome: after a visit, the home opens offline with the
// bookings read then, and says so with their date; signing out leaves
// nothing of the member in the browser's caches.
func TestOfflineHome(t *testing.T) {
	srv := startRelais(t, "--demo")
	net := newCuttable(t, srv.URL)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			net.down.Store(false)
			p := newPage(t, b, vp)
			p.signIn(net.URL, demoCamille, demoPassword, "Camille Martin")
			// The worker, registered once signed in, takes the page.
			p.waitJS(`!!navigator.serviceWorker.controller`, "the service worker")
			if n := eval[int](p, `caches.keys().then((ks) => ks.filter((k) => k.startsWith("relais-shell-")).length)`); n != 1 {
				t.Errorf("%d shell caches", n)
			}
			p.open(net.URL + "/")
			p.waitText("main .booking__what", "Découpeuse laser")
			p.waitJS(`caches.open("relais-data").then((c) => c.keys()).then((ks) => ks.length >= 3)`, "the home's reads kept")
			kept := eval[[]string](p, `caches.open("relais-data").then((c) => c.keys()).then((ks) => ks.map((r) => new URL(r.url).pathname))`)
			for _, k := range kept {
				if k != "/v1/me" && k != "/v1/reservations" && k != "/v1/sites" && !strings.HasSuffix(k, "/resources") {
					t.Errorf("the worker kept %s", k)
				}
			}

			net.down.Store(true)
			p.open(net.URL + "/")
			p.waitText("main .booking__what", "Découpeuse laser")
			p.waitText("main .alert--info", "Hors ligne — données du ")
			if eval[bool](p, `!!document.querySelector("main .door__button, main .machine")`) {
				t.Error("offline, the home offers to open a door or switch a machine")
			}
		})
	}
	// Signing out empties what was kept of the member.
	t.Run("sign out", func(t *testing.T) {
		net.down.Store(false)
		p := newPage(t, b, viewports[0])
		p.signIn(net.URL, demoCamille, demoPassword, "Camille Martin")
		p.waitJS(`!!navigator.serviceWorker.controller`, "the service worker")
		p.open(net.URL + "/account")
		p.waitJS(`caches.open("relais-data").then((c) => c.keys()).then((ks) => ks.length >= 1)`, "the home's reads kept")
		p.click("Se déconnecter")
		p.waitHeading("Se connecter")
		p.waitJS(`caches.keys().then((ks) => !ks.includes("relais-data"))`, "the member's data gone")
	})
}
