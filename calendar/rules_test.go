package calendar

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The principals the rules are asked about, for a resource of site "here".
var (
	ruleMember       = &identity.Principal{UserID: "anne", Role: "member"}
	ruleManager      = &identity.Principal{UserID: "mona", Role: "member", ManagedSites: []string{"here"}}
	ruleOtherManager = &identity.Principal{UserID: "otto", Role: "member", ManagedSites: []string{"there"}}
	ruleAdmin        = &identity.Principal{UserID: "ada", Role: identity.RoleAdmin}
	ruleKeyWrite     = &identity.Principal{APIKeyID: "k1", SiteIDs: []string{"here"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeReservationsWrite}}
	ruleKeyNoScope = &identity.Principal{APIKeyID: "k2", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeSitesRead}}
	ruleKeyElse    = &identity.Principal{APIKeyID: "k3", SiteIDs: []string{"there"},
		Scopes: []string{identity.ScopeSitesRead, identity.ScopeReservationsWrite}}
	ruleSystem = identity.System()
)

// outcome names what a rule answered: "ok", or the problem code, or the
// kind of error.
func outcome(err error) string {
	var p *errs.Problem
	var ve *errs.ValidationError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &p):
		return p.Code
	case errors.As(err, &ve):
		return "invalid:" + ve.Fields[0].Field
	case errors.Is(err, errs.ErrForbidden):
		return "forbidden"
	}
	return err.Error()
}

func TestAuthorizeBooking(t *testing.T) {
	res := &Resource{ID: "r", SiteID: "here"}
	tests := []struct {
		name      string
		by        *identity.Principal
		userID    string
		kind      string
		want      string
		forUser   string
		manager   bool
		accounted string
	}{
		{"member for themselves", ruleMember, "", "", "ok", "anne", false, "anne"},
		{"member names themselves", ruleMember, "anne", "", "ok", "anne", false, "anne"},
		{"member on behalf", ruleMember, "bob", "", "managers_only", "", false, ""},
		{"member blocks", ruleMember, "", ReservationBlock, "managers_only", "", false, ""},
		{"manager on behalf", ruleManager, "bob", "", "ok", "bob", true, "mona"},
		{"manager blocks", ruleManager, "", ReservationBlock, "ok", "", true, "mona"},
		{"other site's manager on behalf", ruleOtherManager, "bob", "", "managers_only", "", false, ""},
		{"other site's manager for themselves", ruleOtherManager, "", "", "ok", "otto", false, "otto"},
		{"admin on behalf", ruleAdmin, "bob", "", "ok", "bob", true, "ada"},
		{"key on behalf", ruleKeyWrite, "bob", "", "ok", "bob", true, "bob"},
		{"key without a user", ruleKeyWrite, "", "", "invalid:user_id", "", false, ""},
		{"key blocks", ruleKeyWrite, "", ReservationBlock, "managers_only", "", false, ""},
		{"key without reservations:write", ruleKeyNoScope, "bob", "", "managers_only", "", false, ""},
		{"key of another site", ruleKeyElse, "bob", "", "resource_not_found", "", false, ""},
		{"system on behalf", ruleSystem, "bob", "", "ok", "bob", true, "bob"},
		{"system without a user", ruleSystem, "", "", "invalid:user_id", "", false, ""},
		{"nobody", nil, "bob", "", "forbidden", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Booking{By: tt.by, ResourceID: res.ID, UserID: tt.userID, Kind: tt.kind}
			got := outcome(authorizeBooking(res, &b))
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if got == "ok" && (b.UserID != tt.forUser || b.manager != tt.manager || b.actorID != tt.accounted) {
				t.Fatalf("for %q manager %v by %q, want %q %v %q", b.UserID, b.manager, b.actorID, tt.forUser, tt.manager, tt.accounted)
			}
		})
	}
	long := Booking{By: ruleMember, ResourceID: res.ID, Note: string(make([]byte, MaxNoteBytes+1))}
	if got := outcome(authorizeBooking(res, &long)); got != "invalid:note" {
		t.Fatalf("a long note: got %s", got)
	}
}

func TestMayChangeReservation(t *testing.T) {
	anne := "anne"
	r := &Reservation{ID: "rv", SiteID: "here", UserID: &anne}
	keyRead := &identity.Principal{APIKeyID: "k4", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeReservationsRead}}
	tests := []struct {
		name       string
		by         *identity.Principal
		read, edit string
	}{
		{"its member", ruleMember, "ok", "ok"},
		{"another member", &identity.Principal{UserID: "bob"}, "reservation_not_found", "reservation_not_found"},
		{"the site's manager", ruleManager, "ok", "ok"},
		{"another site's manager", ruleOtherManager, "reservation_not_found", "reservation_not_found"},
		{"admin", ruleAdmin, "ok", "ok"},
		{"key with reservations:write", ruleKeyWrite, "ok", "ok"},
		{"key with reservations:read", keyRead, "ok", "forbidden"},
		{"key without reservation scopes", ruleKeyNoScope, "reservation_not_found", "reservation_not_found"},
		{"key of another site", ruleKeyElse, "reservation_not_found", "reservation_not_found"},
		{"system", ruleSystem, "ok", "ok"},
		{"nobody", nil, "reservation_not_found", "reservation_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mayReadReservation(tt.by, r)
			if got := outcome(err); got != tt.read {
				t.Errorf("read: got %s, want %s", got, tt.read)
			}
			_, err = mayChangeReservation(tt.by, r)
			if got := outcome(err); got != tt.edit {
				t.Errorf("change: got %s, want %s", got, tt.edit)
			}
		})
	}
}

func TestMaySeeSeries(t *testing.T) {
	s := &Series{ID: "s", UserID: "anne"}
	keyRead := &identity.Principal{APIKeyID: "k4", SiteIDs: []string{"here"}, Scopes: []string{identity.ScopeReservationsRead}}
	tests := []struct {
		name       string
		by         *identity.Principal
		read, edit string
	}{
		{"its member", ruleMember, "ok", "ok"},
		{"the site's manager", ruleManager, "ok", "ok"},
		{"another site's manager", ruleOtherManager, "series_not_found", "series_not_found"},
		{"admin", ruleAdmin, "ok", "ok"},
		{"key with reservations:write", ruleKeyWrite, "ok", "ok"},
		{"key with reservations:read", keyRead, "ok", "series_not_found"},
		{"key of another site", ruleKeyElse, "series_not_found", "series_not_found"},
		{"system", ruleSystem, "ok", "ok"},
		{"nobody", nil, "series_not_found", "series_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := maySeeSeries(tt.by, s, "here", false); outcome(err) != tt.read {
				t.Errorf("read: got %s, want %s", outcome(err), tt.read)
			}
			if _, err := maySeeSeries(tt.by, s, "here", true); outcome(err) != tt.edit {
				t.Errorf("change: got %s, want %s", outcome(err), tt.edit)
			}
		})
	}
}

func TestAuthorizeWaitlist(t *testing.T) {
	res := &Resource{ID: "r", SiteID: "here"}
	for _, tt := range []struct {
		name string
		by   *identity.Principal
		want string
	}{
		{"member", ruleMember, "ok"},
		{"manager", ruleManager, "ok"},
		{"key", ruleKeyWrite, "forbidden"},
		{"nobody", nil, "forbidden"},
	} {
		b := Booking{By: tt.by, ResourceID: res.ID, UserID: "someone else"}
		if got := outcome(authorizeWaitlist(res, &b)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
		if tt.want == "ok" && b.UserID != tt.by.UserID {
			t.Errorf("%s: joins for %q", tt.name, b.UserID)
		}
	}
}
