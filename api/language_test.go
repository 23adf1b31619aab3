package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/relais-tierslieux/relais/internal/i18n"
)

// The same invalid registration in French and in English: the same
// status, type, code and fields, and each text the catalogue's.
func TestProblemInBothLanguages(t *testing.T) {
	h := newHarness(t)
	body := map[string]string{"email": "nope", "password": password, "name": ""}
	say := func(lang string) (*response, problemDoc) {
		r := h.do(req{method: "POST", path: "/v1/auth/register", body: body, headers: map[string]string{"Accept-Language": lang}}).
			expect(t, http.StatusUnprocessableEntity)
		return r, r.problem(t)
	}
	enResp, en := say("en")
	frResp, fr := say("fr")
	if en.Type != fr.Type || en.Status != fr.Status || en.Code != fr.Code || len(en.Errors) != 2 || len(fr.Errors) != len(en.Errors) {
		t.Fatalf("en %+v\nfr %+v: want the same type, status, code and fields", en, fr)
	}
	if en.Title != "Unprocessable Entity" || fr.Title != i18n.Title(i18n.French, http.StatusUnprocessableEntity) || fr.Title == en.Title {
		t.Errorf("titles: en %q, fr %q", en.Title, fr.Title)
	}
	if en.Detail != "the request has invalid fields" || fr.Detail != i18n.Text(i18n.French, en.Detail) || fr.Detail == en.Detail {
		t.Errorf("details: en %q, fr %q", en.Detail, fr.Detail)
	}
	reasons := map[string]string{"email": "must be a valid email address", "name": "is required"}
	for i, e := range en.Errors {
		f := fr.Errors[i]
		want, ok := reasons[e.Field]
		if !ok || f.Field != e.Field || e.Reason != want {
			t.Errorf("en error %+v, fr %+v", e, f)
			continue
		}
		if f.Reason != i18n.Sprintf(i18n.French, want) || f.Reason == e.Reason {
			t.Errorf("French reason of %s = %q, want the catalogue's for %q", e.Field, f.Reason, want)
		}
	}
	for _, tt := range []struct {
		resp *response
		lang string
	}{{enResp, "en"}, {frResp, "fr"}} {
		if got := tt.resp.Header.Get("Content-Language"); got != tt.lang {
			t.Errorf("Content-Language = %q, want %q", got, tt.lang)
		}
		if !slices.Contains(tt.resp.Header.Values("Vary"), "Accept-Language") {
			t.Errorf("Vary = %q, want Accept-Language in it", tt.resp.Header.Values("Vary"))
		}
	}
}

// Which language a problem is said in: the Accept-Language header when it
// names French or English, else the member's language, else the server's
// default.
func TestProblemLanguageChoice(t *testing.T) {
	h := newHarness(t)
	// Two members, one reading English and one French.
	for email, lang := range map[string]string{"ann@example.fr": "en", "paul@example.fr": "fr"} {
		h.do(req{method: "POST", path: "/v1/auth/register", body: map[string]string{"email": email, "password": password, "name": "x", "language": lang}}).
			expect(t, http.StatusCreated)
	}
	ann, _ := h.login("ann@example.fr", password)
	paul, _ := h.login("paul@example.fr", password)
	const none = "" // the harness then sends no Accept-Language
	for _, tt := range []struct {
		name, header, token string
		defaultLang         i18n.Lang
		want                string
	}{
		{"French asked", "fr", "", "", "fr"},
		{"Canadian French is French", "fr-CA", "", "", "fr"},
		{"British English is English", "en-GB", "", "", "en"},
		{"q-values decide", "fr-CA;q=0.8, en;q=0.9", "", "", "en"},
		{"neither language: the default", "de", "", "", "fr"},
		{"neither language: the default, English", "de-DE, es;q=0.5", "", i18n.English, "en"},
		{"garbage: the default", "!!;q=zz", "", "", "fr"},
		{"no header: the default", none, "", "", "fr"},
		{"no header: the member's language", none, ann, "", "en"},
		{"no header: the member's language, French", none, paul, i18n.English, "fr"},
		{"neither language: the member's", "de", ann, "", "en"},
		{"the header wins over the member's", "fr", ann, "", "fr"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.api.DefaultLanguage = tt.defaultLang
			// A member changes their address to no address; anyone else
			// reads /v1/me: a problem either way.
			rq := req{method: "GET", path: "/v1/me", headers: map[string]string{"Accept-Language": tt.header}}
			status := http.StatusUnauthorized
			if tt.token != "" {
				rq.method, rq.token, rq.body, status = "PATCH", tt.token, map[string]any{"email": "nope"}, http.StatusUnprocessableEntity
			}
			r := h.do(rq)
			p := r.expect(t, status).problem(t)
			if got := r.Header.Get("Content-Language"); got != tt.want {
				t.Fatalf("Content-Language = %q, want %q (%+v)", got, tt.want, p)
			}
			if want := i18n.Title(i18n.Lang(tt.want), status); p.Title != want {
				t.Errorf("title = %q, want %q", p.Title, want)
			}
		})
	}
	h.api.DefaultLanguage = ""
}

// A domain's named problem (a fixed detail) and a wrapped sentinel (the
// default case) in French; in English they stay as the code wrote them.
func TestProblemDetailsInFrench(t *testing.T) {
	h := newHarness(t)
	_, anne, _ := h.member("anne@example.fr")
	get := func(lang, path string) problemDoc {
		return h.do(req{method: "GET", path: path, token: anne, headers: map[string]string{"Accept-Language": lang}}).
			expect(t, http.StatusNotFound).problem(t)
	}
	unknown := "/v1/reservations/0190c1d4-0000-7000-8000-000000000000"
	en, fr := get("en", unknown), get("fr", unknown)
	if en.Code != fr.Code || fr.Detail != i18n.Text(i18n.French, en.Detail) || fr.Detail == en.Detail {
		t.Errorf("reservation not found: en %+v, fr %+v", en, fr)
	}
	route := "/v1/no-such-route"
	en, fr = get("en", route), get("fr", route)
	if en.Detail != "no route for "+route || fr.Detail != "aucune route pour "+route {
		t.Errorf("no route: en %q, fr %q", en.Detail, fr.Detail)
	}
}
