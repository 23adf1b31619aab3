// Package i18n chooses between the two languages Relais speaks, French and
// English, and says its messages in them. Messages are written in English
// in the code, as fmt formats (errs.Invalid, errs.Rule, …); catalogue_fr.go
// gives the French of each format, and a test checks that every format of
// the module has one, with the same verbs. English is the code's own text,
// so it needs no catalogue.
package i18n

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// Lang is a language Relais speaks: "fr" or "en", as users.language holds.
type Lang string

const (
	French  Lang = "fr"
	English Lang = "en"
)

// Parse accepts exactly "fr" or "en" (a member's preference, a flag).
func Parse(s string) (Lang, bool) {
	switch Lang(s) {
	case French, English:
		return Lang(s), true
	}
	return "", false
}

// supported is in the order of Lang's constants; the matcher answers an index into it.
var (
	supported = []Lang{French, English}
	matcher   = language.NewMatcher([]language.Tag{language.French, language.English})
)

// Negotiate picks French or English from an Accept-Language header, with
// its q-values and regional variants (fr-CA is French, en-GB English). ok
// is false when the header is absent, malformed or names neither language,
// so that the caller falls back to its own default.
func Negotiate(acceptLanguage string) (lang Lang, ok bool) {
	if acceptLanguage == "" {
		return "", false
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return "", false
	}
	_, i, conf := matcher.Match(tags...)
	if conf == language.No {
		return "", false
	}
	return supported[i], true
}

// localizer is a value that says itself in a language (errs.Message).
type localizer interface{ In(Lang) string }

// Sprintf formats format, an English format of the code, in lang: with its
// French when lang is French and the catalogue has one. Arguments that say
// themselves in a language (errs.Message) are said in lang.
func Sprintf(lang Lang, format string, args ...any) string {
	if lang == French {
		if fr, ok := french[format]; ok {
			format = fr
		}
	}
	said := make([]any, len(args))
	for i, a := range args {
		if l, ok := a.(localizer); ok {
			a = l.In(lang)
		}
		said[i] = a
	}
	return fmt.Sprintf(format, said...)
}

// Text is a fixed English text (not a format) in lang, or the text itself
// when the catalogue has no French for it.
func Text(lang Lang, s string) string {
	if lang == French {
		if fr, ok := french[s]; ok {
			return fr
		}
	}
	return s
}

// Title is the title of a problem document of status in lang: the status
// text of RFC 9110 in English (Go's http.StatusText), a French one otherwise.
func Title(lang Lang, status int) string {
	if lang == French {
		if t, ok := frenchTitles[status]; ok {
			return t
		}
	}
	return http.StatusText(status)
}

// frenchTitles covers every status the api answers with a problem.
var frenchTitles = map[int]string{
	http.StatusBadRequest:            "Requête incorrecte",
	http.StatusUnauthorized:          "Non authentifié",
	http.StatusPaymentRequired:       "Paiement requis",
	http.StatusForbidden:             "Interdit",
	http.StatusNotFound:              "Introuvable",
	http.StatusMethodNotAllowed:      "Méthode non autorisée",
	http.StatusConflict:              "Conflit",
	http.StatusGone:                  "Disparu",
	http.StatusRequestEntityTooLarge: "Contenu trop volumineux",
	http.StatusUnsupportedMediaType:  "Type de contenu non pris en charge",
	http.StatusUnprocessableEntity:   "Requête invalide",
	http.StatusTooManyRequests:       "Trop de requêtes",
	http.StatusInternalServerError:   "Erreur interne",
	http.StatusBadGateway:            "Mauvaise passerelle",
	http.StatusServiceUnavailable:    "Service indisponible",
	http.StatusGatewayTimeout:        "Délai de la passerelle dépassé",
}
