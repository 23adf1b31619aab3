package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// A browser keeps its session in cookies script cannot read, rather than
// tokens in storage script can (and an injected script with it): the app
// served by relais logs in with {"session": "cookie"}. The __Host- prefix
// makes browsers refuse the cookie unless it is Secure, for the whole
// host and no other (no Domain: a sibling subdomain cannot set or read
// it). Browsers treat http://localhost as secure, so the newcomer's
// `relais serve` works too.
const (
	cookieAccess  = "__Host-relais_session"
	cookieRefresh = "__Host-relais_refresh"
	// cookieCSRF is the one script may read: the app sends its value back
	// in csrfHeader with every write (see identity.CSRFToken).
	cookieCSRF = "__Host-relais_csrf"
	csrfHeader = "X-CSRF-Token"
)

// cookieSessionJSON answers a cookie login or refresh: no token, which
// stays in HttpOnly cookies, but the CSRF token and the lifetimes.
type cookieSessionJSON struct {
	TokenType        string `json:"token_type"` // "cookie"
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	CSRFToken        string `json:"csrf_token"`
}

// setSessionCookies puts t in the browser's cookies and answers the
// session's CSRF token.
func (s *Server) setSessionCookies(w http.ResponseWriter, t *identity.Tokens) {
	csrf := s.Access.CSRFToken(t.SessionID)
	setCookie(w, cookieAccess, t.AccessToken, t.ExpiresIn, true)
	setCookie(w, cookieRefresh, t.RefreshToken, t.RefreshExpiresIn, true)
	setCookie(w, cookieCSRF, csrf, t.RefreshExpiresIn, false)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, cookieSessionJSON{TokenType: "cookie", ExpiresIn: int(t.ExpiresIn.Seconds()),
		RefreshExpiresIn: int(t.RefreshExpiresIn.Seconds()), CSRFToken: csrf})
}

// clearSessionCookies asks the browser to forget the session.
func clearSessionCookies(w http.ResponseWriter) {
	for _, name := range []string{cookieAccess, cookieRefresh, cookieCSRF} {
		setCookie(w, name, "", -time.Second, name != cookieCSRF)
	}
}

func setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration, httpOnly bool) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: httpOnly, SameSite: http.SameSiteStrictMode,
		MaxAge: int(maxAge.Seconds())}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// cookieValue is the named cookie's value, or "".
func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// safeMethod: reads, which a forged cross-site request may trigger
// without harm (they change nothing, and the answer goes to the browser,
// not to the forging page).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

var errCSRF = &errs.Problem{Kind: errs.ErrForbidden, Code: "csrf_token_invalid",
	Detail: "a write authenticated by the session cookie needs the session's X-CSRF-Token header"}

// setSecurityHeaders is what every answer of the API carries: JSON, a
// PDF, a CSV or an iCalendar file is never to be sniffed as something
// else, framed, or made to run anything should a browser render it, and
// its address (with a feed's token in it) is not sent on as a Referer.
// The app's pages set their own policy.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
}
