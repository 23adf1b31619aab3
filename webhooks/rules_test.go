package webhooks

import (
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
)

// TestRules checks who may manage a site's endpoints and network-wide ones.
func TestRules(t *testing.T) {
	const here, there = "site-here", "site-there"
	for _, c := range []struct {
		name        string
		p           *identity.Principal
		site, whole bool
	}{
		{"member", identitytest.Member(), false, false},
		{"manager of this site", identitytest.Manager(here), true, false},
		{"manager of another site", identitytest.Manager(there), false, false},
		{"admin", identitytest.Admin(), true, true},
		{"key without scope", identitytest.Key(here), false, false},
		{"key with every scope", identitytest.Key(here, identity.KnownScopes...), false, false},
		{"system", identitytest.System(), true, true},
		{"nobody", nil, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := mayManage(c.p, here); got != c.site {
				t.Errorf("mayManage(site) = %v, want %v", got, c.site)
			}
			if got := mayManage(c.p, ""); got != c.whole {
				t.Errorf("mayManage(network) = %v, want %v", got, c.whole)
			}
			site := here
			if got := mayManageEndpoint(c.p, &Endpoint{SiteID: &site}); got != c.site {
				t.Errorf("mayManageEndpoint(site) = %v, want %v", got, c.site)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{[]string{"*"}, "reservation.created", true},
		{[]string{"reservation.*"}, "reservation.cancelled", true},
		{[]string{"reservation.*"}, "payment.succeeded", false},
		{[]string{"payment.succeeded"}, "payment.succeeded", true},
		{[]string{"payment.succeeded"}, "payment.refunded", false},
		{[]string{"reserv*"}, "reservation.created", false},
	} {
		if got := matches(c.patterns, c.typ); got != c.want {
			t.Errorf("matches(%v, %s) = %v, want %v", c.patterns, c.typ, got, c.want)
		}
	}
	for p, want := range map[string]bool{"*": true, "reservation.*": true, "device.online": true,
		"nope.*": false, "reservation.deleted": false, "": false, "reservation": false} {
		if got := validPattern(p); got != want {
			t.Errorf("validPattern(%q) = %v, want %v", p, got, want)
		}
	}
}
