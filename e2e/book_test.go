//go:build browser

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// bookWorld is a site in Paris open 08:00–20:00 every day, with one desk,
// and two plans at 90 €: one with 600 included minutes of desk a month, one with
// desks included without limit.
type bookWorld struct {
	srv                 *relais
	admin               string
	site, desk          string
	allowance, unlimite string
	tomorrow            time.Time // in Paris
}

func newBookWorld(t *testing.T) *bookWorld {
	t.Helper()
	srv := startRelais(t, "--admin-email", "admin@example.org", "--admin-password", "la phrase de l’administratrice")
	w := &bookWorld{srv: srv, admin: srv.login(t, "admin@example.org", "la phrase de l’administratrice")}
	hours := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = [][]string{{"08:00", "20:00"}}
	}
	var site struct{ ID string }
	srv.call(t, "POST", "/v1/sites", w.admin, map[string]any{
		"name": "La Fabrique", "timezone": "Europe/Paris", "opening_hours": hours,
		"address": map[string]any{"line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR"},
		"legal": map[string]any{"company_name": "SCIC La Fabrique", "legal_form": "SCIC SAS",
			"siren": "732829320", "siret": "73282932000074", "vat_number": "FR44732829320"},
	}, http.StatusCreated, &site)
	w.site = site.ID
	var desk struct{ ID string }
	srv.call(t, "POST", "/v1/sites/"+site.ID+"/resources", w.admin, map[string]any{"kind": "desk", "name": "Bureau 3"}, http.StatusCreated, &desk)
	w.desk = desk.ID
	var plan struct{ ID string }
	srv.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": site.ID, "kind": "membership", "name": "Nomade", "price_cents": 9000,
		"includes": map[string]any{"allowances": []map[string]any{{"resource_kind": "desk", "minutes_per_period": 600}}}}, http.StatusCreated, &plan)
	w.allowance = plan.ID
	srv.call(t, "POST", "/v1/plans", w.admin, map[string]any{"site_id": site.ID, "kind": "membership", "name": "Résident", "price_cents": 9000,
		"includes": map[string]any{"resource_kinds": []string{"desk"}}}, http.StatusCreated, &plan)
	w.unlimite = plan.ID
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	w.tomorrow = time.Now().In(paris).AddDate(0, 0, 1)
	return w
}

// member makes an account with the plan (none when empty), and returns
// its id and an access token.
func (w *bookWorld) member(t *testing.T, name, email, plan string) (string, string) {
	t.Helper()
	id := w.srv.register(t, name, email, "une phrase pour "+name)
	if plan != "" {
		w.srv.call(t, "POST", "/v1/sites/"+w.site+"/payments", w.admin, map[string]any{"user_id": id, "plan_id": plan, "method": "cash", "amount_cents": 9000,
			"buyer": map[string]any{"address": map[string]string{"line1": "3 rue des Lilas", "postal_code": "75011", "city": "Paris", "country": "FR"}}},
			http.StatusCreated, nil)
	}
	return id, w.srv.login(t, email, "une phrase pour "+name)
}

// at is a local time of the site, days after tomorrow.
func (w *bookWorld) at(days, hour int) string {
	return fmt.Sprintf("%sT%02d:00", w.tomorrow.AddDate(0, 0, days).Format("2006-01-02"), hour)
}

// slotName is what a screen reader says of a slot of the desk.
func slotName(from, to int, state string) string {
	return slotNameOf("Bureau 3", from, to, state)
}

func slotNameOf(resource string, from, to int, state string) string {
	return fmt.Sprintf("%s, de %d\u00a0h à %d\u00a0h, %s", resource, from, to, state)
}

// clickNamed clicks the element whose accessible name (aria-label) is name.
func (p *page) clickNamed(name string) {
	p.t.Helper()
	sel := fmt.Sprintf(`document.querySelector('[aria-label=' + JSON.stringify(%q) + ']')`, name)
	p.waitJS(sel+` !== null`, "a control named "+name)
	p.do(chromedp.Click(chromedp.JSPath(sel)))
}

// choose picks the option showing text in the select labelled label.
func (p *page) choose(label, text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("label")].some((l) => l.textContent === %q)`, label), "a field labelled "+label)
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("label")].find((l) => l.textContent === %q);
		const s = l && document.getElementById(l.htmlFor);
		const o = s && [...s.options].find((o) => o.textContent === %q);
		if (!o) return false;
		s.value = o.value;
		s.dispatchEvent(new Event("change", {bubbles: true}));
		return true;
	})()`, label, text))
	if !ok {
		p.t.Fatalf("no option %q in the field %q\nthe page shows:\n%s", text, label, p.text())
	}
}

// setValue replaces the value of the input labelled label.
func (p *page) setValue(label, value string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("label")].some((l) => l.textContent === %q)`, label), "a field labelled "+label)
	ok := eval[bool](p, fmt.Sprintf(`(() => {
		const l = [...document.querySelectorAll("label")].find((l) => l.textContent === %q);
		const i = l && document.getElementById(l.htmlFor);
		if (!i) return false;
		i.value = %q;
		i.dispatchEvent(new Event("input", {bubbles: true}));
		return true;
	})()`, label, value))
	if !ok {
		p.t.Fatalf("no field %q\nthe page shows:\n%s", label, p.text())
	}
}

// tap waits for an enabled button or link whose text is text, and
// clicks it.
func (p *page) tap(text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`[...document.querySelectorAll("main button, main a, header button, nav a")].some((e) => e.textContent.trim() === %q && !e.disabled)`, text),
		fmt.Sprintf("something to click saying %q", text))
	p.click(text)
}

// check clicks the label of the checkbox labelled label.
func (p *page) check(label string) {
	p.t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll("main label")].find((l) => l.textContent === %q)`, label)
	p.waitJS(sel+` !== undefined`, "a box labelled "+label)
	p.do(chromedp.Click(chromedp.JSPath(sel)))
}

// openBook opens the booking page on tomorrow.
func (p *page) openBook() {
	p.t.Helper()
	p.tap("Réserver")
	p.waitHeading("Réserver")
	p.tap("Jour suivant")
}

// TestBookMoveCancel: a member books a desk seeing first what it takes of
// the month's included time, finds it in My bookings, moves it (quoted
// again: the old hour given back) and cancels it, told first that the
// minutes come back. Hours are the site's (Paris), the phone in New York.
func TestBookMoveCancel(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	// Someone else holds 12 h – 13 h: a move there is refused in words.
	_, other := w.member(t, "Olga", "olga@example.org", w.unlimite)
	w.srv.call(t, "POST", "/v1/reservations", other, map[string]any{"resource_id": w.desk, "start": w.at(0, 12), "end": w.at(0, 13)}, http.StatusCreated, nil)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("alice.%s@example.org", vp.name)
			_, token := w.member(t, "Alice", email, w.allowance)
			p := newPage(t, b, vp)
			p.timezone("America/New_York")
			p.signIn(w.srv.URL, email, "une phrase pour Alice", "Alice")
			p.openBook()
			p.clickNamed(slotName(10, 11, "libre"))
			p.waitText("main .panel h2", "Réserver Bureau 3")
			p.waitText("main .quote__price", "Utilise 60\u00a0minutes de votre temps inclus (il vous en restera 540).")
			p.waitText("main .quote", "Annulation sans frais jusqu’au")
			p.tap("Confirmer la réservation")
			p.waitText("main .alert--success", "C’est réservé\u00a0: Bureau 3")
			p.waitText("main .alert--success", "10\u00a0h\u00a000\u00a0– 11\u00a0h\u00a000")
			// The slot is busy now.
			p.waitJS(fmt.Sprintf(`document.querySelector('[aria-label=' + JSON.stringify(%q) + ']') !== null`, slotName(10, 11, "occupé")), "the slot busy")

			p.tap("Voir mes réservations")
			p.waitHeading("Mes réservations")
			p.waitText("main .booking__time", "10\u00a0h\u00a000\u00a0– 11\u00a0h\u00a000")
			p.waitText("main .booking__what", "Bureau 3")

			p.tap("Déplacer")
			p.choose("Début", "12\u00a0h\u00a000")
			p.choose("Fin", "13\u00a0h\u00a000")
			p.waitText("main .booking__panel .quote__refusal", "Ce créneau est déjà pris.")
			if !eval[bool](p, `[...document.querySelectorAll("main button")].find((b) => b.textContent === "Confirmer le déplacement").disabled`) {
				t.Error("a refused move can be confirmed")
			}
			p.choose("Début", "14\u00a0h\u00a000")
			p.choose("Fin", "15\u00a0h\u00a000")
			p.waitText("main .booking__panel .quote__price", "Utilise 60\u00a0minutes de votre temps inclus (il vous en restera 540).")
			p.tap("Confirmer le déplacement")
			p.waitText("main .alert--success", "Réservation déplacée")
			p.waitText("main .booking__time", "14\u00a0h\u00a000\u00a0– 15\u00a0h\u00a000")

			p.tap("Annuler")
			p.waitText("main .refund", "Annulation sans frais jusqu’au")
			p.waitText("main .refund", "60\u00a0minutes de temps inclus vous seront rendues.")
			p.tap("Confirmer l’annulation")
			p.waitText("main .alert--success", "Réservation annulée.")
			var list struct {
				Items []struct{ Status, Start string }
			}
			w.srv.call(t, "GET", "/v1/reservations", token, nil, http.StatusOK, &list)
			if len(list.Items) != 1 || list.Items[0].Status != "cancelled" {
				t.Fatalf("the member's reservations: %+v", list.Items)
			}
			if !strings.Contains(list.Items[0].Start, "T13:00:00Z") && !strings.Contains(list.Items[0].Start, "T12:00:00Z") {
				t.Errorf("moved to %s, want 14:00 in Paris", list.Items[0].Start)
			}
		})
	}
}

// TestBookRefusedInWords: without a membership the quote says why in a
// sentence, and the booking cannot be confirmed; a machine asks for its
// training first.
func TestBookRefusedInWords(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	var q struct{ ID string }
	w.srv.call(t, "POST", "/v1/sites/"+w.site+"/qualifications", w.admin, map[string]string{"name": "Initiation laser"}, http.StatusCreated, &q)
	w.srv.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "machine", "name": "Découpe laser", "qualification_id": q.ID},
		http.StatusCreated, nil)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("bruno.%s@example.org", vp.name)
			w.member(t, "Bruno", email, "")
			p := newPage(t, b, vp)
			p.signIn(w.srv.URL, email, "une phrase pour Bruno", "Bruno")
			p.openBook()
			p.clickNamed(slotName(9, 10, "libre"))
			p.waitText("main .quote__refusal", "Il vous faut un abonnement, un pass ou un carnet sur ce lieu pour réserver.")
			if !eval[bool](p, `[...document.querySelectorAll("main button")].find((b) => b.textContent === "Confirmer la réservation").disabled`) {
				t.Error("a refused booking can be confirmed")
			}
			if txt := p.text(); strings.Contains(txt, "membership_required") {
				t.Errorf("the page shows a raw code:\n%s", txt)
			}
			p.check("Machine")
			p.clickNamed(slotNameOf("Découpe laser", 9, 10, "libre"))
			p.waitText("main .quote__refusal", "Cette machine demande une formation que vous n’avez pas encore suivie.")
		})
	}
}

// TestBookRecurringWithAConflict: a weekly booking three times, the second
// week taken by someone else: the quote shows which date conflicts; the
// member books the free dates only.
func TestBookRecurringWithAConflict(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	_, other := w.member(t, "Olga", "olga@example.org", w.unlimite)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("chloe.%s@example.org", vp.name)
			_, token := w.member(t, "Chloé", email, w.unlimite)
			// Each viewport its own hours: the first books 14:00.
			hour := 14
			if vp.name == "desktop" {
				hour = 16
			}
			p := newPage(t, b, vp)
			p.signIn(w.srv.URL, email, "une phrase pour Chloé", "Chloé")
			p.openBook()
			p.clickNamed(slotName(hour, hour+1, "libre"))
			p.waitText("main .quote__price", "Inclus dans votre abonnement.")
			// Week two is taken by Olga, now.
			w.srv.call(t, "POST", "/v1/reservations", other, map[string]any{"resource_id": w.desk, "start": w.at(7, hour), "end": w.at(7, hour+1)}, http.StatusCreated, nil)
			p.check("Répéter cette réservation")
			p.setValue("Nombre de fois", "3")
			p.waitText("main .quote__summary", "2 dates sur 3 sont libres.")
			p.waitText("main .occurrence--conflict", "Ce créneau est déjà pris.")
			p.check("Réserver seulement les dates libres")
			p.waitJS(`![...document.querySelectorAll("main button")].find((b) => b.textContent === "Confirmer les réservations").disabled`, "the confirmation allowed")
			p.tap("Confirmer les réservations")
			p.waitText("main .alert--success", "C’est réservé\u00a0: 2\u00a0réservations.")
			p.waitText("main .alert--success", "1 date n’a pas pu être réservée.")
			var list struct {
				Items []struct {
					Status   string
					SeriesID *string `json:"series_id"`
				}
			}
			w.srv.call(t, "GET", "/v1/reservations?status=confirmed", token, nil, http.StatusOK, &list)
			if len(list.Items) != 2 || list.Items[0].SeriesID == nil {
				t.Fatalf("the member's reservations: %+v", list.Items)
			}
			p.tap("Voir mes réservations")
			p.waitHeading("Mes réservations")
			p.waitText("main .badge", "Réservation répétée")
			p.tap("Annuler toute la série")
			p.tap("Annuler toutes les dates à venir")
			p.waitText("main .alert--success", "2\u00a0réservations annulées.")
		})
	}
}

// TestBookWaitingList: the slot is taken; the member joins its waiting
// list, the holder cancels (through the API), and the member accepts the
// offer on the booking page.
func TestBookWaitingList(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			_, holder := w.member(t, "Hugo", fmt.Sprintf("hugo.%s@example.org", vp.name), w.unlimite)
			email := fmt.Sprintf("dina.%s@example.org", vp.name)
			_, token := w.member(t, "Dina", email, w.unlimite)
			hour := 9 + 2*i
			var held struct{ ID string }
			w.srv.call(t, "POST", "/v1/reservations", holder, map[string]any{"resource_id": w.desk, "start": w.at(0, hour), "end": w.at(0, hour+1)}, http.StatusCreated, &held)

			p := newPage(t, b, vp)
			p.signIn(w.srv.URL, email, "une phrase pour Dina", "Dina")
			p.openBook()
			p.clickNamed(slotName(hour, hour+1, "occupé"))
			p.waitText("main .quote__refusal", "Ce créneau est déjà pris.")
			p.tap("M’inscrire sur la liste d’attente")
			p.waitText("main .alert--success", "Vous êtes sur la liste d’attente.")
			p.waitText("main .offers", "En attente")

			w.srv.call(t, "DELETE", "/v1/reservations/"+held.ID, holder, nil, http.StatusOK, nil)
			p.open(w.srv.URL + "/book")
			p.waitText("main .offers", "Le créneau s’est libéré et vous est réservé jusqu’au")
			p.tap("Accepter")
			p.waitText("main .offers .alert--success", "Créneau accepté, c’est réservé.")
			var list struct {
				Items []struct{ Status, ResourceID string }
			}
			w.srv.call(t, "GET", "/v1/reservations?status=confirmed", token, nil, http.StatusOK, &list)
			if len(list.Items) != 1 {
				t.Fatalf("the member's confirmed reservations: %+v", list.Items)
			}
		})
	}
}

// press sends one key to the focused element.
func (p *page) press(key string) {
	p.t.Helper()
	p.do(chromedp.KeyEvent(key))
}

// tabTo presses Tab until the focused element satisfies the predicate (a
// JavaScript expression of e, the focused element).
func (p *page) tabTo(predicate, what string) {
	p.t.Helper()
	for i := 0; i < 60; i++ {
		if eval[bool](p, fmt.Sprintf(`((e) => Boolean(e) && (%s))(document.activeElement)`, predicate)) {
			return
		}
		p.press(kb.Tab)
	}
	p.t.Fatalf("Tab never reached %s\nthe page shows:\n%s", what, p.text())
}

// TestBookWithTheKeyboard: the whole booking with key presses only: Tab
// to the next day, Enter, Tab into the desk's row, the arrows to the hour,
// Enter, Escape and Enter again, Tab to the confirmation, Space.
func TestBookWithTheKeyboard(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("emile.%s@example.org", vp.name)
			_, token := w.member(t, "Émile", email, w.allowance)
			p := newPage(t, b, vp)
			p.signIn(w.srv.URL, email, "une phrase pour Émile", "Émile")
			p.open(w.srv.URL + "/book")
			p.waitHeading("Réserver")
			p.waitJS(`document.querySelector("main .slots") !== null`, "the timeline")
			p.tabTo(`e.textContent === "Jour suivant"`, "the next day")
			p.press(kb.Enter)
			p.waitJS(fmt.Sprintf(`document.querySelector('[aria-label=' + JSON.stringify(%q) + ']') !== null`, slotName(8, 9, "libre")), "tomorrow's slots")
			p.tabTo(`e.classList.contains("slot")`, "the desk's slots")
			// The row is one Tab stop, on its first free slot: 8 h.
			if got := eval[string](p, `document.activeElement.getAttribute("aria-label")`); got != slotName(8, 9, "libre") {
				t.Fatalf("the focus is on %q", got)
			}
			// Each viewport its own hour (the phone's is taken after it):
			// 10 h on the phone, 12 h on the desktop.
			hour := 10 + 2*i
			for range hour - 8 + 1 {
				p.press(kb.ArrowRight)
			}
			p.press(kb.ArrowLeft)
			if got := eval[string](p, `document.activeElement.getAttribute("aria-label")`); got != slotName(hour, hour+1, "libre") {
				t.Fatalf("after the arrows the focus is on %q", got)
			}
			p.press(kb.Enter)
			// The panel's heading takes the focus; Escape closes it and gives
			// the focus back to the slot; Enter opens it again.
			p.waitJS(`document.activeElement && document.activeElement.id === "panel-title"`, "the focus on the panel")
			p.press(kb.Escape)
			p.waitJS(fmt.Sprintf(`document.activeElement && document.activeElement.getAttribute("aria-label") === %q && !document.querySelector("main .panel")`,
				slotName(hour, hour+1, "libre")), "the focus back on the slot, the panel closed")
			p.press(kb.Enter)
			p.waitJS(`document.activeElement && document.activeElement.id === "panel-title"`, "the focus on the panel")
			p.waitText("main .quote__price", "Utilise 60\u00a0minutes de votre temps inclus")
			p.tabTo(`e.textContent === "Confirmer la réservation"`, "the confirmation")
			p.press(" ")
			p.waitText("main .alert--success", "C’est réservé\u00a0: Bureau 3")
			p.waitJS(`document.activeElement && document.activeElement.classList.contains("alert--success")`, "the focus on the result")
			var list struct {
				Items []struct{ Start, End string }
			}
			w.srv.call(t, "GET", "/v1/reservations?status=confirmed", token, nil, http.StatusOK, &list)
			if len(list.Items) != 1 {
				t.Fatalf("reservations %+v", list.Items)
			}
			start, err := time.Parse(time.RFC3339, list.Items[0].Start)
			if err != nil || start.In(w.tomorrow.Location()).Hour() != hour || start.In(w.tomorrow.Location()).Day() != w.tomorrow.Day() {
				t.Errorf("booked from %s, want tomorrow %d h in Paris", list.Items[0].Start, hour)
			}
		})
	}
}

// TestBookingArithmetic: the booking page's pure functions, in the
// browser's Intl: a site's wall-clock times as instants whatever the
// phone's zone, on days the clocks change too; the timeline's slots; the
// recurrence rule.
func TestBookingArithmetic(t *testing.T) {
	p := unitPage(t)
	p.timezone("America/New_York")
	const lib = "/static/lib/booking.js"
	free := []map[string]any{{"start": "2026-12-09T08:00:00Z", "end": "2026-12-09T10:00:00Z", "free_seats": 1}}
	interval := `{"start":"2026-12-09T08:00:00Z","end":"2026-12-09T10:00:00Z"}`
	tests := []struct {
		name string
		fn   string
		args []any
		want string // JSON
	}{
		{"10 h in Paris in winter", "zonedInstant", []any{"2026-12-09", 600, "Europe/Paris"}, `"2026-12-09T09:00:00.000Z"`},
		{"10 h in Paris in summer", "zonedInstant", []any{"2026-07-01", 600, "Europe/Paris"}, `"2026-07-01T08:00:00.000Z"`},
		{"10 h in La Réunion", "zonedInstant", []any{"2026-12-09", 600, "Indian/Reunion"}, `"2026-12-09T06:00:00.000Z"`},
		{"midnight in Martinique", "zonedInstant", []any{"2026-12-09", 0, "America/Martinique"}, `"2026-12-09T04:00:00.000Z"`},
		{"the end of a day", "zonedInstant", []any{"2026-12-09", 1440, "Europe/Paris"}, `"2026-12-09T23:00:00.000Z"`},
		{"noon the day clocks go forward", "zonedInstant", []any{"2026-03-29", 720, "Europe/Paris"}, `"2026-03-29T10:00:00.000Z"`},
		{"noon the day clocks go back", "zonedInstant", []any{"2026-10-25", 720, "Europe/Paris"}, `"2026-10-25T11:00:00.000Z"`},
		{"the next year", "addDays", []any{"2026-12-31", 1}, `"2027-01-01"`},
		{"the day before", "addDays", []any{"2026-03-01", -1}, `"2026-02-28"`},
		{"a Wednesday", "weekdayOf", []any{"2026-12-09"}, `"wed"`},
		{"open around the clock", "dayHours", []any{nil, "2026-12-09"}, `[[0,1440]]`},
		{"a Monday's hours", "dayHours", []any{map[string]any{"mon": [][]string{{"09:00", "12:30"}, {"14:00", "19:00"}}}, "2026-12-07"}, `[[540,750],[840,1140]]`},
		{"a day missing is closed", "dayHours", []any{map[string]any{"mon": [][]string{{"09:00", "12:30"}}}, "2026-12-09"}, `[]`},
		{"slots past, free and busy", "slotsOf", []any{map[string]any{"date": "2026-12-09", "timeZone": "Europe/Paris", "hours": [][]int{{480, 720}},
			"free": free, "step": 60, "now": "2026-12-09T07:30:00Z"}},
			`[{"start":"2026-12-09T07:00:00.000Z","end":"2026-12-09T08:00:00.000Z","state":"past","interval":null},` +
				`{"start":"2026-12-09T08:00:00.000Z","end":"2026-12-09T09:00:00.000Z","state":"free","interval":` + interval + `},` +
				`{"start":"2026-12-09T09:00:00.000Z","end":"2026-12-09T10:00:00.000Z","state":"free","interval":` + interval + `},` +
				`{"start":"2026-12-09T10:00:00.000Z","end":"2026-12-09T11:00:00.000Z","state":"busy","interval":null}]`},
		{"a closing time off the step", "slotsOf", []any{map[string]any{"date": "2026-12-09", "timeZone": "Europe/Paris", "hours": [][]int{{540, 630}},
			"free": []any{}, "step": 60, "now": "2026-12-01T00:00:00Z"}},
			`[{"start":"2026-12-09T08:00:00.000Z","end":"2026-12-09T09:00:00.000Z","state":"busy","interval":null},` +
				`{"start":"2026-12-09T09:00:00.000Z","end":"2026-12-09T09:30:00.000Z","state":"busy","interval":null}]`},
		{"steps of half an hour", "steps", []any{"2026-12-09T08:00:00Z", "2026-12-09T09:00:00Z", 30},
			`["2026-12-09T08:00:00.000Z","2026-12-09T08:30:00.000Z","2026-12-09T09:00:00.000Z"]`},
		{"weekly on two days, three times", "rrule", []any{map[string]any{"freq": "weekly", "days": []string{"thu", "mon"}, "count": 3}}, `"FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3"`},
		{"daily until a date of the site", "rrule", []any{map[string]any{"freq": "daily", "days": []string{"mon"}, "until": "2026-12-31"}}, `"FREQ=DAILY;UNTIL=20261231T235959"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, p, lib, tt.fn, tt.args...); got != tt.want {
				t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
			}
		})
	}
	// The timeline's hours: "10 h" for a whole hour in French.
	for _, tt := range []struct {
		args []any
		want string
	}{
		{[]any{"2026-12-09T09:00:00Z", "fr", "Europe/Paris"}, "10\u00a0h"},
		{[]any{"2026-12-09T09:30:00Z", "fr", "Europe/Paris"}, "10\u00a0h\u00a030"},
		{[]any{"2026-12-09T09:00:00Z", "en", "Europe/Paris"}, "10:00"},
	} {
		var got string
		if err := json.Unmarshal([]byte(call(t, p, "/static/pages/book.js", "shortTime", tt.args...)), &got); err != nil || got != tt.want {
			t.Errorf("shortTime%v = %q (%v), want %q", tt.args, got, err, tt.want)
		}
	}
}

// TestBookingsCheckIn: a booking about to begin can be checked in from My
// bookings; it then says so.
func TestBookingsCheckIn(t *testing.T) {
	w := newBookWorld(t)
	b := browser(t)
	allDay := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allDay[d] = [][]string{{"00:00", "24:00"}}
	}
	for i, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			// Each viewport its own desk, open around the clock.
			name := fmt.Sprintf("Bureau %d", 5+i)
			var desk struct{ ID string }
			w.srv.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "desk", "name": name,
				"opening_hours": allDay, "rules": map[string]any{"slot_minutes": 5}}, http.StatusCreated, &desk)
			email := fmt.Sprintf("fanny.%s@example.org", vp.name)
			_, token := w.member(t, "Fanny", email, w.unlimite)
			// It begins within five minutes: check-in opens 15 minutes before.
			start := time.Now().UTC().Truncate(5 * time.Minute).Add(5 * time.Minute)
			var rv struct{ ID string }
			w.srv.call(t, "POST", "/v1/reservations", token, map[string]any{"resource_id": desk.ID,
				"start": start.Format(time.RFC3339), "end": start.Add(30 * time.Minute).Format(time.RFC3339)}, http.StatusCreated, &rv)
			p := newPage(t, b, vp)
			p.signIn(w.srv.URL, email, "une phrase pour Fanny", "Fanny")
			// The home's bookings first: its link is drawn again when they
			// arrive, and a click on the first drawing can be lost.
			p.waitText("main .booking__what", name)
			p.tap("Toutes mes réservations")
			p.waitHeading("Mes réservations")
			p.waitText("main .booking__what", name)
			p.tap("Signaler mon arrivée")
			p.waitText("main .alert--success", "Votre arrivée est enregistrée.")
			p.waitText("main .badge--ok", "Arrivée signalée")
			var got struct {
				CheckedInAt *string `json:"checked_in_at"`
			}
			w.srv.call(t, "GET", "/v1/reservations/"+rv.ID, token, nil, http.StatusOK, &got)
			if got.CheckedInAt == nil {
				t.Error("the reservation is not checked in")
			}
		})
	}
}

// TestMoveToAnotherDesk: on a phone, a member moves their booking to
// another desk of the place, at the same hours: the quote first, then the
// move, said in words; the desk they left is free again.
func TestMoveToAnotherDesk(t *testing.T) {
	b := browser(t)
	w := newBookWorld(t)
	var desk4 struct{ ID string }
	w.srv.call(t, "POST", "/v1/sites/"+w.site+"/resources", w.admin, map[string]any{"kind": "desk", "name": "Bureau 4"}, http.StatusCreated, &desk4)
	_, token := w.member(t, "Inès", "ines@example.org", w.unlimite)
	var booking struct{ ID string }
	w.srv.call(t, "POST", "/v1/reservations", token, map[string]any{"resource_id": w.desk, "start": w.at(1, 10), "end": w.at(1, 11)}, http.StatusCreated, &booking)

	p := newPage(t, b, viewport{"phone", 360, 740})
	p.servicesSignIn(w.srv.URL, "ines@example.org", "une phrase pour Inès")
	p.open(w.srv.URL + "/bookings")
	p.waitText("main .booking__what", "Bureau 3")
	p.tap("Déplacer")
	p.choose("Ressource", "Bureau 4")
	p.waitText("main .booking__panel .quote__price", "Inclus dans votre abonnement")
	p.tap("Confirmer le déplacement")
	p.waitText("main .alert--success", "Désormais\u00a0: Bureau 4.")
	p.waitText("main .booking__what", "Bureau 4")
	var r struct {
		ResourceID string `json:"resource_id"`
		Start      time.Time
	}
	w.srv.call(t, "GET", "/v1/reservations/"+booking.ID, token, nil, http.StatusOK, &r)
	if r.ResourceID != desk4.ID {
		t.Fatalf("the booking is on %s, want Bureau 4", r.ResourceID)
	}
	// Bureau 3 is free at that hour again.
	_, other := w.member(t, "Jules", "jules@example.org", w.unlimite)
	w.srv.call(t, "POST", "/v1/reservations", other, map[string]any{"resource_id": w.desk, "start": w.at(1, 10), "end": w.at(1, 11)}, http.StatusCreated, nil)
}
