//go:build browser

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/relais-tierslieux/relais/web"
)

// The app's pure functions, run in the browser that runs the app (its
// Intl and its time zone data), on the app's files alone: no relais.
func unitPage(t *testing.T) *page {
	t.Helper()
	app, err := web.New()
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(app.Handler(http.NotFoundHandler()))
	t.Cleanup(ts.Close)
	p := newPage(t, browser(t), viewports[0])
	p.open(ts.URL + "/unit")
	return p
}

// call runs fn of the module with args and returns its JSON result.
func call(t *testing.T, p *page, module, fn string, args ...any) string {
	t.Helper()
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`import(%q).then((m) => JSON.stringify(m[%q](...%s)))`, module, fn, b),
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s%s: %v", fn, b, err)
	}
	return v
}

func TestFormat(t *testing.T) {
	p := unitPage(t)
	const format = "/static/lib/format.js"
	now := "2026-12-06T10:00:00Z"
	tests := []struct {
		name string
		fn   string
		args []any
		want string
	}{
		{"a date in French", "formatDate", []any{"2026-12-09T13:30:00Z", "fr", "Europe/Paris", now}, "mercredi 9 décembre"},
		{"a date in English", "formatDate", []any{"2026-12-09T13:30:00Z", "en", "Europe/Paris", now}, "Wednesday 9 December"},
		{"late evening UTC is the next day in Paris", "formatDate", []any{"2026-12-09T23:30:00Z", "fr", "Europe/Paris", now}, "jeudi 10 décembre"},
		{"and still the same day in Martinique", "formatDate", []any{"2026-12-09T23:30:00Z", "fr", "America/Martinique", now}, "mercredi 9 décembre"},
		{"another year says it", "formatDate", []any{"2027-01-05T10:00:00Z", "fr", "Europe/Paris", now}, "mardi 5 janvier 2027"},
		{"an hour in French", "formatTime", []any{"2026-12-09T13:30:00Z", "fr", "Europe/Paris"}, "14\u00a0h\u00a030"},
		{"an hour in summer time", "formatTime", []any{"2026-07-01T07:05:00Z", "fr", "Europe/Paris"}, "9\u00a0h\u00a005"},
		{"an hour in La Réunion", "formatTime", []any{"2026-12-09T13:30:00Z", "fr", "Indian/Reunion"}, "17\u00a0h\u00a030"},
		{"midnight", "formatTime", []any{"2026-12-09T23:00:00Z", "fr", "Europe/Paris"}, "0\u00a0h\u00a000"},
		{"an hour in English", "formatTime", []any{"2026-12-09T13:30:00Z", "en", "Europe/Paris"}, "14:30"},
		{"a range", "formatTimeRange", []any{"2026-12-09T13:30:00Z", "2026-12-09T15:00:00Z", "fr", "Europe/Paris"}, "14\u00a0h\u00a030\u00a0– 16\u00a0h\u00a000"},
		{"a range over midnight", "formatTimeRange", []any{"2026-12-09T21:00:00Z", "2026-12-10T07:00:00Z", "fr", "Europe/Paris"}, "22\u00a0h\u00a000\u00a0– jeudi 10 décembre 8\u00a0h\u00a000"},
		{"a price", "formatPrice", []any{2500, "fr"}, "25,00\u00a0€"},
		{"thousands", "formatPrice", []any{125000, "fr"}, "1\u202f250,00\u00a0€"},
		{"cents", "formatPrice", []any{5, "fr"}, "0,05\u00a0€"},
		{"a price in English", "formatPrice", []any{2500, "en"}, "€25.00"},
		{"the day of an instant in the site's zone", "dayKey", []any{"2026-12-09T23:30:00Z", "Europe/Paris"}, "2026-12-10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if err := json.Unmarshal([]byte(call(t, p, format, tt.fn, tt.args...)), &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s%v = %q, want %q", tt.fn, tt.args, got, tt.want)
			}
		})
	}
}

func TestLanguageAndRoutes(t *testing.T) {
	p := unitPage(t)
	tests := []struct {
		name, module, fn string
		args             []any
		want             string // JSON
	}{
		{"the member's language first", "/static/lib/i18n.js", "pickLanguage", []any{"en", "fr", []string{"fr-FR"}}, `"en"`},
		{"then this device's choice", "/static/lib/i18n.js", "pickLanguage", []any{nil, "en", []string{"fr-FR"}}, `"en"`},
		{"then the browser's", "/static/lib/i18n.js", "pickLanguage", []any{nil, nil, []string{"de-DE", "en-GB"}}, `"en"`},
		{"French when none is known", "/static/lib/i18n.js", "pickLanguage", []any{nil, nil, []string{"de-DE", "it"}}, `"fr"`},
		{"a language the app lacks is ignored", "/static/lib/i18n.js", "pickLanguage", []any{"de", "xx", []string{"fr-CA"}}, `"fr"`},
		{"next: a path of the app", "/static/lib/page.js", "safeNext", []any{"/account?x=1"}, `"/account?x=1"`},
		{"next: never another site", "/static/lib/page.js", "safeNext", []any{"//evil.example/"}, `"/"`},
		{"next: nor a backslash trick", "/static/lib/page.js", "safeNext", []any{"/\\evil.example"}, `"/"`},
		{"next: nor an absolute URL", "/static/lib/page.js", "safeNext", []any{"https://evil.example/"}, `"/"`},
		{"next: nor the API", "/static/lib/page.js", "safeNext", []any{"/v1/me"}, `"/"`},
		{"a member's page signed out", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "member"}, nil, "/account"}, `"/sign-in?next=%2Faccount"`},
		{"a member's page signed in", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "member"}, map[string]any{"role": "member"}, "/account"}, `null`},
		{"signing in when signed in", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "guest"}, map[string]any{"role": "member"}, "/sign-in"}, `"/"`},
		{"a console page for a member", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "manager"}, map[string]any{"role": "member", "managed_site_ids": []string{}}, "/console"}, `"/"`},
		{"a console page for a site's manager", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "manager"}, map[string]any{"role": "member", "managed_site_ids": []string{"s1"}}, "/console"}, `null`},
		{"a console page for an admin", "/static/routes.js", "redirectFor", []any{map[string]any{"access": "manager"}, map[string]any{"role": "admin"}, "/console"}, `null`},
		{"a path with a parameter", "/static/lib/router.js", "matchRoute", []any{[]map[string]string{{"path": "/"}, {"path": "/waitlist/:id"}}, "/waitlist/abc"}, `{"route":{"path":"/waitlist/:id"},"params":{"id":"abc"}}`},
		{"the root", "/static/lib/router.js", "matchRoute", []any{[]map[string]string{{"path": "/"}, {"path": "/account"}}, "/"}, `{"route":{"path":"/"},"params":{}}`},
		{"a trailing slash", "/static/lib/router.js", "matchRoute", []any{[]map[string]string{{"path": "/account"}}, "/account/"}, `{"route":{"path":"/account"},"params":{}}`},
		{"no route", "/static/lib/router.js", "matchRoute", []any{[]map[string]string{{"path": "/account"}}, "/accounts"}, `null`},
		{"the CSRF cookie among others", "/static/lib/api.js", "readCookie", []any{"__Host-relais_csrf", "a=1; __Host-relais_csrf=x%3Dy; b=2"}, `"x=y"`},
		{"no CSRF cookie", "/static/lib/api.js", "readCookie", []any{"__Host-relais_csrf", "a=1"}, `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(t, p, tt.module, tt.fn, tt.args...); got != tt.want {
				t.Errorf("%s%v = %s, want %s", tt.fn, tt.args, got, tt.want)
			}
		})
	}
}

// TestCatalogues: French and English have the same keys, and the French
// follows French typography.
func TestCatalogues(t *testing.T) {
	p := unitPage(t)
	problems := eval[[]string](p, `Promise.all(["fr", "en", "console-fr", "console-en"].map((f) => import("/static/i18n/" + f + ".js"))).then(([fr, en, cfr, cen]) => {
		// The console's words (loaded with the console) are held to the same rules.
		fr = { ...fr.default, ...cfr.default }; en = { ...en.default, ...cen.default };
		const out = [];
		for (const k of Object.keys(fr)) if (!(k in en)) out.push("en lacks " + k);
		for (const k of Object.keys(en)) if (!(k in fr)) out.push("fr lacks " + k);
		const params = { email: "anne@example.org", name: "Anne" };
		for (const [k, v] of Object.entries(fr)) {
			const s = typeof v === "function" ? v(params) : v;
			const say = (what) => out.push("fr " + k + ": " + what + ": " + JSON.stringify(s));
			if (typeof s !== "string" || s === "") say("empty");
			// A colon between digits is a time a field takes (09:00), not punctuation.
			if (/(?<![\u00a0\d]):|(?<=\d):(?!\d)/.test(s)) say("no no-break space before a colon");
			if (/[^\u202f][;!?]/.test(s)) say("no narrow no-break space before ; ! ?");
			if (/«(?!\u00a0)|(?<!\u00a0)»/.test(s)) say("guillemets without no-break spaces");
			if (/'/.test(s)) say("a straight apostrophe");
			if (/\.\.\./.test(s)) say("three dots for an ellipsis");
		}
		return out;
	})`)
	for _, pr := range problems {
		t.Error(pr)
	}
}
