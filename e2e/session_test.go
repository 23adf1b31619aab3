//go:build browser

package e2e

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// cookies are the browser's cookies for url, by name.
func (p *page) cookies(url string) map[string]*network.Cookie {
	p.t.Helper()
	out := map[string]*network.Cookie{}
	p.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
		for _, c := range res.Cookies {
			out[c.Name] = c
		}
		return err
	}))
	return out
}

// TestSessionCookies: the session's cookies are HttpOnly (but the CSRF
// token's), Secure and SameSite=Strict, on plain http://127.0.0.1 too; once
// the access cookie is gone (it lasts 15 minutes), the app renews the
// session from the refresh cookie, which rotates, and the member sees
// nothing of it.
func TestSessionCookies(t *testing.T) {
	srv := startRelais(t)
	srv.register(t, "Farid", "farid@example.org", "une phrase pour Farid")
	p := newPage(t, browser(t), viewports[0])
	p.signIn(srv.URL, "farid@example.org", "une phrase pour Farid", "Farid")

	before := p.cookies(srv.URL)
	for name, httpOnly := range map[string]bool{"__Host-relais_session": true, "__Host-relais_refresh": true, "__Host-relais_csrf": false} {
		c := before[name]
		if c == nil {
			t.Fatalf("no cookie %s", name)
		}
		if c.HTTPOnly != httpOnly || !c.Secure || c.SameSite != network.CookieSameSiteStrict || c.Path != "/" {
			t.Errorf("%s: HttpOnly %v, Secure %v, SameSite %v, Path %q", name, c.HTTPOnly, c.Secure, c.SameSite, c.Path)
		}
	}

	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.DeleteCookies, network.DeleteCookiesParams{Name: "__Host-relais_session", URL: srv.URL})
		return err
	}))
	p.open(srv.URL + "/account")
	p.waitHeading("Mon compte")
	after := p.cookies(srv.URL)
	if after["__Host-relais_session"] == nil {
		t.Fatal("the session was not renewed")
	}
	if after["__Host-relais_refresh"].Value == before["__Host-relais_refresh"].Value {
		t.Error("the refresh token did not rotate")
	}
}

// TestLanguageSwitch: a visitor switches the app to English and back; the
// choice outlives a reload.
func TestLanguageSwitch(t *testing.T) {
	srv := startRelais(t)
	p := newPage(t, browser(t), viewports[0])
	p.open(srv.URL + "/sign-in")
	p.waitHeading("Se connecter")
	p.click("English")
	p.waitHeading("Sign in")
	if lang := eval[string](p, `document.documentElement.lang`); lang != "en" {
		t.Errorf("page language %q", lang)
	}
	p.open(srv.URL + "/sign-in")
	p.waitHeading("Sign in")
	p.click("Français")
	p.waitHeading("Se connecter")
}

// TestKeyboardOnly: signing in with the keyboard alone, from the skip
// link to the home page, every focused control showing its focus.
func TestKeyboardOnly(t *testing.T) {
	srv := startRelais(t)
	srv.register(t, "Gaëlle", "gaelle@example.org", "une phrase pour Gaëlle")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.open(srv.URL + "/sign-in")
			focused := func() string {
				return eval[string](p, `(() => {
					const e = document.activeElement;
					const s = getComputedStyle(e);
					const visible = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
					return (e.id || e.className || e.tagName) + (visible ? "" : " (no visible focus)");
				})()`)
			}
			p.do(chromedp.KeyEvent("\t"))
			if got := focused(); got != "skip" {
				t.Fatalf("the first Tab reaches %q, want the skip link", got)
			}
			p.do(chromedp.KeyEvent("\r"))
			if got := eval[string](p, `document.activeElement.id`); got != "main" {
				t.Fatalf("the skip link leads to %q, want main", got)
			}
			p.do(chromedp.KeyEvent("\t"))
			if got := focused(); got != "field-email" {
				t.Fatalf("Tab from main reaches %q, want the email field", got)
			}
			p.do(chromedp.KeyEvent("gaelle@example.org\t"))
			if got := focused(); got != "field-password" {
				t.Fatalf("Tab from the email reaches %q, want the password", got)
			}
			p.do(chromedp.KeyEvent("une phrase pour Gaëlle\t"))
			if got := focused(); got != "button" {
				t.Fatalf("Tab from the password reaches %q, want the button", got)
			}
			p.do(chromedp.KeyEvent("\r"))
			p.waitHeading("Bonjour Gaëlle")
			// The new page's heading has the focus, for screen readers.
			if got := eval[string](p, `document.activeElement.tagName`); got != "H1" {
				t.Errorf("after signing in the focus is on %q, want the heading", got)
			}
		})
	}
}
