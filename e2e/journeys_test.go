//go:build browser

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestSignUpVerifySignIn: a newcomer signs up, is told to check the mail,
// follows the mailed link, signs in and reaches the home page, in French.
func TestSignUpVerifySignIn(t *testing.T) {
	srv := startRelais(t)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("anne.%s@example.org", vp.name)
			p := newPage(t, b, vp)
			p.open(srv.URL + "/")
			// Signed out, the home page leads to signing in.
			p.waitHeading("Se connecter")
			if lang := eval[string](p, `document.documentElement.lang`); lang != "fr" {
				t.Errorf("page language %q, want fr", lang)
			}
			p.click("Créer un compte")
			p.waitHeading("Créer un compte")
			p.fill("Nom", "Anne Martin")
			p.fill("Adresse e-mail", email)
			p.fill("Mot de passe", "un jardin partagé au soleil")
			p.click("Créer mon compte")
			p.waitHeading("Vérifiez votre messagerie")
			p.waitText("main", email)

			link := srv.link(t, email, srv.URL+"/verify-email?token=")
			p.open(link)
			p.waitText("main [role=status]", "l’adresse "+email+" est vérifiée")
			p.click("Se connecter")
			p.waitHeading("Se connecter")
			p.fill("Adresse e-mail", email)
			p.fill("Mot de passe", "un jardin partagé au soleil")
			p.click("Se connecter")
			p.waitHeading("Bonjour Anne Martin")
			p.waitText("main", "Aucune réservation à venir.")

			// The session is in cookies the script cannot read; only the
			// CSRF token is readable.
			cookies := eval[string](p, `document.cookie`)
			if strings.Contains(cookies, "relais_session") || strings.Contains(cookies, "relais_refresh") || !strings.Contains(cookies, "__Host-relais_csrf=") {
				t.Errorf("document.cookie = %q", cookies)
			}
			// A reload keeps the member signed in.
			p.open(srv.URL + "/account")
			p.waitHeading("Mon compte")
			p.waitText("main", "Adresse vérifiée")
		})
	}
}

// TestForgotPassword: a member who forgot the password asks for a link,
// follows it, chooses a new password and signs in with it.
func TestForgotPassword(t *testing.T) {
	srv := startRelais(t)
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			email := fmt.Sprintf("bruno.%s@example.org", vp.name)
			srv.register(t, "Bruno", email, "mot de passe oublié hier")
			p := newPage(t, b, vp)
			p.open(srv.URL + "/sign-in")
			p.waitHeading("Se connecter")
			p.click("Mot de passe oublié\u202f?")
			p.waitHeading("Mot de passe oublié")
			p.fill("Adresse e-mail", email)
			p.click("Envoyer le lien")
			p.waitHeading("Vérifiez votre messagerie")

			link := srv.link(t, email, srv.URL+"/reset-password?token=")
			p.open(link)
			p.waitHeading("Nouveau mot de passe")
			p.fill("Nouveau mot de passe", "une nouvelle phrase secrète")
			p.click("Enregistrer le mot de passe")
			p.waitHeading("Mot de passe changé")
			p.click("Se connecter")
			p.waitHeading("Se connecter")
			p.fill("Adresse e-mail", email)
			p.fill("Mot de passe", "une nouvelle phrase secrète")
			p.click("Se connecter")
			p.waitHeading("Bonjour Bruno")

			// The link was for one use.
			p.open(link)
			p.fill("Nouveau mot de passe", "encore une autre phrase")
			p.click("Enregistrer le mot de passe")
			p.waitText("#field-new_password-error", "")
		})
	}
}

// TestErrorsInFrench: a wrong password is said in French words above the
// form, and a field's error is tied to its field for screen readers.
func TestErrorsInFrench(t *testing.T) {
	srv := startRelais(t)
	srv.register(t, "Chloé", "chloe@example.org", "la bonne phrase secrète")
	b := browser(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			p := newPage(t, b, vp)
			p.open(srv.URL + "/sign-in")
			p.fill("Adresse e-mail", "chloe@example.org")
			p.fill("Mot de passe", "une mauvaise phrase")
			p.click("Se connecter")
			p.waitJS(`!!document.querySelector("main [role=alert]")`, "the error")
			alert := eval[string](p, `document.querySelector("main [role=alert]").textContent`)
			if !strings.Contains(strings.ToLower(alert), "mot de passe") {
				t.Errorf("the error says %q, not in French words", alert)
			}
			if eval[string](p, `document.activeElement.getAttribute("role") || ""`) != "alert" {
				t.Error("the error does not have the focus")
			}

			p.open(srv.URL + "/sign-up")
			p.fill("Nom", "Chloé")
			p.fill("Adresse e-mail", "chloe.2@example.org")
			p.fill("Mot de passe", "court")
			p.click("Créer mon compte")
			p.waitJS(`!!document.getElementById("field-password-error")`, "the password's error")
			reason := eval[string](p, `document.getElementById("field-password-error").textContent`)
			if !strings.Contains(reason, "10") || !strings.Contains(reason, "caractères") {
				t.Errorf("the password's error says %q", reason)
			}
			described := eval[string](p, `document.getElementById("field-password").getAttribute("aria-describedby")`)
			if !strings.Contains(described, "field-password-error") {
				t.Errorf("aria-describedby %q does not name the error", described)
			}
			if eval[string](p, `document.getElementById("field-password").getAttribute("aria-invalid")`) != "true" {
				t.Error("the field is not marked invalid")
			}
		})
	}
}
