package calendar

// --- services-places ---

import (
	"errors"
	"strings"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who takes a kit away from its home site: its managers, admins and the
// system (appointments act as it, their window having been checked);
// never a manager of another site only, a member, or an API key (even of
// the home site: taking a kit away is a person's act).
func TestMayTakeKitAway(t *testing.T) {
	kit := &Resource{SiteID: "home", Kind: KindKit}
	for _, c := range []struct {
		name string
		p    *identity.Principal
		ok   bool
	}{
		{"home manager", &identity.Principal{UserID: "u", ManagedSites: []string{"home", "host"}}, true},
		{"admin", &identity.Principal{UserID: "u", Role: identity.RoleAdmin}, true},
		{"system", identity.System(), true},
		{"host manager only", &identity.Principal{UserID: "u", ManagedSites: []string{"host"}}, false},
		{"member", &identity.Principal{UserID: "u"}, false},
		{"API key of the home site", &identity.Principal{APIKeyID: "k", SiteIDs: []string{"home"}, Scopes: []string{identity.ScopeReservationsWrite}}, false},
		{"nobody", nil, false},
	} {
		err := mayTakeKitAway(c.p, kit)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s: err = %v, want a 403", c.name, err)
		}
	}
}

// A host place names its contact; phones are digits and a few signs;
// nothing is created at a host place.
func TestHostValidation(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		name  string
		site  Site
		field string // "" when valid
	}{
		{"space without contact", Site{Kind: SiteKindDefault}, ""},
		{"host with contact", Site{Kind: SiteHost, ContactName: str("Mme Girard"), ContactPhone: str("+33 5 55 00 11 22")}, ""},
		{"host without contact", Site{Kind: SiteHost}, "contact_name"},
		{"host with a blank contact", Site{Kind: SiteHost, ContactName: str("  ")}, "contact_name"},
		{"letters in the phone", Site{Kind: SiteKindDefault, ContactPhone: str("05 55 AB")}, "contact_phone"},
		{"too short a phone", Site{Kind: SiteKindDefault, ContactPhone: str("12")}, "contact_phone"},
		{"a control character", Site{Kind: SiteHost, ContactName: str("Mme\u0007Girard")}, "contact_name"},
	} {
		var v errs.Validator
		validateHost(&v, &c.site)
		err := v.Err()
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "" && (err == nil || !strings.Contains(err.Error(), " "+c.field+": ")):
			t.Errorf("%s: err = %v, want one naming %s", c.name, err, c.field)
		}
	}
	for _, kind := range []string{KindDesk, KindRoom, KindZone, KindMachine, KindKit} {
		if err := checkKindAtSite(&Site{Kind: SiteHost}, kind); err == nil {
			t.Errorf("a %s at a host place was accepted", kind)
		}
		if err := checkKindAtSite(&Site{Kind: SiteKindDefault}, kind); err != nil {
			t.Errorf("a %s at a space: %v", kind, err)
		}
	}
}
