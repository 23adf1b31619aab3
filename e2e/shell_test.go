//go:build browser

package e2e

import (
	"strings"
	"testing"

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
			p.click("Allumer Découpeuse laser")
			p.waitText("main .machine .badge", "Allumée")
			left := eval[string](p, `document.querySelector("main .machine [role=timer]").textContent`)
			if !strings.HasPrefix(left, "Le courant sera coupé dans ") || !strings.Contains(left, "\u00a0min") {
				t.Errorf("the countdown says %q", left)
			}
			p.waitText("[role=status][aria-live=polite]", "Découpeuse laser est allumée")
			p.click("Éteindre Découpeuse laser")
			p.waitText("main .machine", "Éteinte")
			p.waitText("[role=status][aria-live=polite]", "Découpeuse laser est éteinte")
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
