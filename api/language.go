package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/i18n"
)

// language is the language of the request's problem documents, chosen once
// per request (at its first problem) in this order: the Accept-Language
// header when it names French or English; else the language of the member
// calling (users.language, read then: errors are rare, and a change of
// PATCH /v1/me counts at once); else the server's default
// (--default-language). type, code and field names never change with it.
func language(r *http.Request) i18n.Lang {
	ri := info(r.Context())
	if ri.lang == "" {
		ri.lang = ri.chooseLanguage(r)
	}
	return ri.lang
}

func (ri *requestInfo) chooseLanguage(r *http.Request) i18n.Lang {
	if lang, ok := i18n.Negotiate(r.Header.Get("Accept-Language")); ok {
		return lang
	}
	if ri.srv == nil { // outside the middleware (unit tests of a handler)
		return i18n.English
	}
	if p := identity.PrincipalFrom(r.Context()); p != nil && p.UserID != "" && ri.srv.Access != nil {
		if l, err := ri.srv.Access.Language(r.Context(), p.UserID); err == nil {
			if lang, ok := i18n.Parse(l); ok {
				return lang
			}
		}
	}
	return ri.srv.defaultLanguage()
}

// defaultLanguage is Deps.DefaultLanguage, French when unset.
func (s *Server) defaultLanguage() i18n.Lang {
	if lang, ok := i18n.Parse(string(s.DefaultLanguage)); ok {
		return lang
	}
	return i18n.French
}
