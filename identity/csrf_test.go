package identity_test

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
)

// A session's CSRF token is its own: stable, refused for another session,
// for no session, and when altered.
func TestCSRFToken(t *testing.T) {
	t.Parallel()
	svc, _ := newService(t, identity.RateLimits{})
	tok := svc.CSRFToken("session-a")
	if tok == "" || tok != svc.CSRFToken("session-a") {
		t.Fatalf("CSRFToken is not stable: %q", tok)
	}
	for _, tc := range []struct {
		session, token string
		ok             bool
	}{
		{"session-a", tok, true},
		{"session-b", tok, false},
		{"", svc.CSRFToken(""), false},
		{"session-a", tok[:len(tok)-1], false},
		{"session-a", "", false},
	} {
		if got := svc.CheckCSRF(tc.session, tc.token); got != tc.ok {
			t.Errorf("CheckCSRF(%q, %q) = %v, want %v", tc.session, tc.token, got, tc.ok)
		}
	}
}
