package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// csrfLabel sets the CSRF key apart from every other use of the server's
// secret: a MAC made with it signs nothing else.
const csrfLabel = "relais csrf v1"

// CSRFToken is the anti-forgery token of a browser session: an HMAC of the
// session id under a key derived from the JWT secret. A page served by
// Relais reads it (from the login answer, or a cookie script may read)
// and sends it back in a header with every write; another site's page can
// make the browser send the session's cookies, but cannot read the token,
// so its forged writes are refused. It needs no storage and stays the same
// across refreshes, since the session does.
func (s *Service) CSRFToken(sessionID string) string {
	k := hmac.New(sha256.New, s.cfg.JWTSecret)
	k.Write([]byte(csrfLabel))
	mac := hmac.New(sha256.New, k.Sum(nil))
	mac.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// CheckCSRF reports whether token is sessionID's CSRF token, in constant
// time.
func (s *Service) CheckCSRF(sessionID, token string) bool {
	return sessionID != "" && hmac.Equal([]byte(token), []byte(s.CSRFToken(sessionID)))
}
