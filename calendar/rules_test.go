package calendar

import (
	"errors"
	"testing"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/identity/identitytest"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// The API keys the rules are asked about, for a resource of site "here";
// the other callers are identitytest's.
var (
	ruleKeyWrite   = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeReservationsWrite)
	ruleKeyNoScope = identitytest.Key("here", identity.ScopeSitesRead)
	ruleKeyElse    = identitytest.Key("there", identity.ScopeSitesRead, identity.ScopeReservationsWrite)
)

// outcome is identitytest.Outcome, except that it names a validation error
// (which is not a Problem) by its first field, "invalid:user_id": only
// calendar's rules answer with one.
func outcome(err error) string {
	var p *errs.Problem
	var ve *errs.ValidationError
	if !errors.As(err, &p) && errors.As(err, &ve) {
		return "invalid:" + ve.Fields[0].Field
	}
	return identitytest.Outcome(err)
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
		{"member for themselves", identitytest.Member(), "", "", "ok", "member", false, "member"},
		{"member names themselves", identitytest.Member(), "member", "", "ok", "member", false, "member"},
		{"member on behalf", identitytest.Member(), "bob", "", "managers_only", "", false, ""},
		{"member blocks", identitytest.Member(), "", ReservationBlock, "managers_only", "", false, ""},
		{"manager on behalf", identitytest.Manager("here"), "bob", "", "ok", "bob", true, "manager"},
		{"manager blocks", identitytest.Manager("here"), "", ReservationBlock, "ok", "", true, "manager"},
		{"other site's manager on behalf", identitytest.Manager("there"), "bob", "", "managers_only", "", false, ""},
		{"other site's manager for themselves", identitytest.Manager("there"), "", "", "ok", "manager", false, "manager"},
		{"admin on behalf", identitytest.Admin(), "bob", "", "ok", "bob", true, "admin"},
		{"key on behalf", ruleKeyWrite, "bob", "", "ok", "bob", true, "bob"},
		{"key without a user", ruleKeyWrite, "", "", "invalid:user_id", "", false, ""},
		{"key blocks", ruleKeyWrite, "", ReservationBlock, "managers_only", "", false, ""},
		{"key without reservations:write", ruleKeyNoScope, "bob", "", "managers_only", "", false, ""},
		{"key of another site", ruleKeyElse, "bob", "", "resource_not_found", "", false, ""},
		{"system on behalf", identitytest.System(), "bob", "", "ok", "bob", true, "bob"},
		{"system without a user", identitytest.System(), "", "", "invalid:user_id", "", false, ""},
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
	long := Booking{By: identitytest.Member(), ResourceID: res.ID, Note: string(make([]byte, MaxNoteBytes+1))}
	if got := outcome(authorizeBooking(res, &long)); got != "invalid:note" {
		t.Fatalf("a long note: got %s", got)
	}
}

func TestMayChangeReservation(t *testing.T) {
	member := "member"
	r := &Reservation{ID: "rv", SiteID: "here", UserID: &member}
	keyRead := identitytest.Key("here", identity.ScopeReservationsRead)
	tests := []struct {
		name       string
		by         *identity.Principal
		read, edit string
	}{
		{"its member", identitytest.Member(), "ok", "ok"},
		{"another member", identitytest.MemberNamed("bob"), "reservation_not_found", "reservation_not_found"},
		{"the site's manager", identitytest.Manager("here"), "ok", "ok"},
		{"another site's manager", identitytest.Manager("there"), "reservation_not_found", "reservation_not_found"},
		{"admin", identitytest.Admin(), "ok", "ok"},
		{"key with reservations:write", ruleKeyWrite, "ok", "ok"},
		{"key with reservations:read", keyRead, "ok", "forbidden"},
		{"key without reservation scopes", ruleKeyNoScope, "reservation_not_found", "reservation_not_found"},
		{"key of another site", ruleKeyElse, "reservation_not_found", "reservation_not_found"},
		{"system", identitytest.System(), "ok", "ok"},
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
	s := &Series{ID: "s", UserID: "member"}
	keyRead := identitytest.Key("here", identity.ScopeReservationsRead)
	tests := []struct {
		name       string
		by         *identity.Principal
		read, edit string
	}{
		{"its member", identitytest.Member(), "ok", "ok"},
		{"the site's manager", identitytest.Manager("here"), "ok", "ok"},
		{"another site's manager", identitytest.Manager("there"), "series_not_found", "series_not_found"},
		{"admin", identitytest.Admin(), "ok", "ok"},
		{"key with reservations:write", ruleKeyWrite, "ok", "ok"},
		{"key with reservations:read", keyRead, "ok", "series_not_found"},
		{"key of another site", ruleKeyElse, "series_not_found", "series_not_found"},
		{"system", identitytest.System(), "ok", "ok"},
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
		{"member", identitytest.Member(), "ok"},
		{"manager", identitytest.Manager("here"), "ok"},
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

// API keys of site "here" with the scopes the site, feed and listing rules
// ask for, and one of another site.
var (
	ruleKeySitesWrite = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeSitesWrite)
	ruleKeyCalendar   = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeCalendarRead)
	ruleKeyReadRes    = identitytest.Key("here", identity.ScopeSitesRead, identity.ScopeReservationsRead)
	ruleKeyNoRead     = identitytest.Key("here", identity.ScopeSitesWrite)
	ruleKeyElsePlus   = identitytest.Key("there",
		identity.ScopeSitesRead, identity.ScopeSitesWrite, identity.ScopeCalendarRead, identity.ScopeReservationsRead)
)

// TestSiteRules: who may open, list, read and change a site (and its
// closures, resources and qualifications), and change its legal identity.
func TestSiteRules(t *testing.T) {
	res := &Resource{ID: "r", SiteID: "here"}
	q := &Qualification{ID: "q", SiteID: "here"}
	tests := []struct {
		name                        string
		by                          *identity.Principal
		create, list, read, edit    string
		readRes, editRes            string
		readQual, manageQual, grant string
		legal                       bool
	}{
		{"member", identitytest.Member(), "forbidden", "ok", "ok", "forbidden", "ok", "forbidden", "ok", "forbidden", "ok", false},
		{"manager here", identitytest.Manager("here"), "forbidden", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", false},
		{"manager elsewhere", identitytest.Manager("there"), "forbidden", "ok", "ok", "forbidden", "ok", "forbidden", "ok", "forbidden", "ok", false},
		{"admin", identitytest.Admin(), "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", true},
		{"key with sites:write", ruleKeySitesWrite, "forbidden", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "forbidden", false},
		{"key with sites:read only", ruleKeyNoScope, "forbidden", "ok", "ok", "forbidden", "ok", "forbidden", "ok", "forbidden", "forbidden", false},
		// sites:write alone changes the site itself, as before the rule
		// moved here, but not what is reached through a resource or a
		// qualification, which the key may not read.
		{"key without sites:read", ruleKeyNoRead, "forbidden", "forbidden", "site_not_found", "ok",
			"resource_not_found", "resource_not_found", "qualification_not_found", "qualification_not_found", "forbidden", false},
		{"key of another site", ruleKeyElsePlus, "forbidden", "ok", "site_not_found", "site_not_found",
			"resource_not_found", "resource_not_found", "qualification_not_found", "qualification_not_found", "forbidden", false},
		{"system", identitytest.System(), "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				rule      string
				got, want string
			}{
				{"create", outcome(mayCreateSite(tt.by)), tt.create},
				{"list", outcome(mayListSites(tt.by)), tt.list},
				{"read", outcome(mayReadSite(tt.by, "here")), tt.read},
				{"edit", outcome(mayEditSite(tt.by, "here")), tt.edit},
				{"read resource", outcome(mayReadResource(tt.by, res)), tt.readRes},
				{"edit resource", outcome(mayEditResource(tt.by, res)), tt.editRes},
				{"read qualification", outcome(mayReadQualification(tt.by, q)), tt.readQual},
				{"manage qualification", outcome(mayManageQualification(tt.by, q)), tt.manageQual},
				{"grant", outcome(mayGrant(tt.by)), tt.grant},
			} {
				if c.got != c.want {
					t.Errorf("%s: got %s, want %s", c.rule, c.got, c.want)
				}
			}
			if got := mayChangeLegal(tt.by); got != tt.legal {
				t.Errorf("legal: got %v, want %v", got, tt.legal)
			}
		})
	}
	// The refusal of a key's grant says why, as the api answered before.
	if err := mayGrant(ruleKeySitesWrite); err == nil || err.Error() != "a training is granted by a person, not an API key" {
		t.Errorf("a key's grant: %v", err)
	}
}

// TestFeedRules: who has a feed of their own, and who exports a site's
// or a resource's.
func TestFeedRules(t *testing.T) {
	res := &Resource{ID: "r", SiteID: "here"}
	tests := []struct {
		name                string
		by                  *identity.Principal
		own, site, resource string
	}{
		{"member", identitytest.Member(), "ok", "forbidden", "forbidden"},
		{"manager here", identitytest.Manager("here"), "ok", "ok", "ok"},
		{"manager elsewhere", identitytest.Manager("there"), "ok", "forbidden", "forbidden"},
		{"admin", identitytest.Admin(), "ok", "ok", "ok"},
		{"key with calendar:read", ruleKeyCalendar, "forbidden", "ok", "ok"},
		{"key without calendar:read", ruleKeyNoScope, "forbidden", "forbidden", "forbidden"},
		{"key of another site", ruleKeyElsePlus, "forbidden", "site_not_found", "resource_not_found"},
		{"system", identitytest.System(), "ok", "ok", "ok"},
		{"nobody", nil, "forbidden", "site_not_found", "resource_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcome(mayHaveFeed(tt.by)); got != tt.own {
				t.Errorf("own feed: got %s, want %s", got, tt.own)
			}
			if got := outcome(mayExportSite(tt.by, "here")); got != tt.site {
				t.Errorf("site feed: got %s, want %s", got, tt.site)
			}
			if got := outcome(mayExportResource(tt.by, res)); got != tt.resource {
				t.Errorf("resource feed: got %s, want %s", got, tt.resource)
			}
		})
	}
	if err := mayHaveFeed(ruleKeyCalendar); err == nil || err.Error() != "an API key has no calendar of its own" {
		t.Errorf("a key's own feed: %v", err)
	}
}

// TestScopeReservationList: what each caller lists of the reservations a
// filter asks for.
func TestScopeReservationList(t *testing.T) {
	tests := []struct {
		name           string
		by             *identity.Principal
		site, user     string
		want, wantUser string
	}{
		{"member, their own", identitytest.Member(), "", "", "ok", "member"},
		{"member, of a site", identitytest.Member(), "here", "", "ok", "member"},
		{"member, someone else's", identitytest.Member(), "", "bob", "forbidden", ""},
		{"manager here, the site's", identitytest.Manager("here"), "here", "bob", "ok", "bob"},
		{"manager here, no site", identitytest.Manager("here"), "", "", "ok", "manager"},
		{"manager elsewhere, this site's", identitytest.Manager("there"), "here", "bob", "forbidden", ""},
		{"admin, anyone's", identitytest.Admin(), "", "bob", "ok", "bob"},
		{"key with reservations:read", ruleKeyReadRes, "here", "", "ok", ""},
		{"key without reservations:read", ruleKeyNoScope, "here", "", "needs_site", ""},
		{"key with no site", ruleKeyReadRes, "", "", "needs_site", ""},
		{"key of another site", ruleKeyElsePlus, "here", "", "needs_site", ""},
		{"system", identitytest.System(), "", "bob", "ok", "bob"},
		{"nobody", nil, "", "", "forbidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ReservationFilter{SiteID: tt.site, UserID: tt.user}
			err := scopeReservationList(tt.by, &f)
			got := outcome(err)
			if errors.Is(err, ErrListNeedsSite) {
				got = "needs_site"
			}
			if got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if got == "ok" && f.UserID != tt.wantUser {
				t.Fatalf("lists the reservations of %q, want %q", f.UserID, tt.wantUser)
			}
		})
	}
}

// TestOwnsEntry: a waiting-list entry is its member's alone.
func TestOwnsEntry(t *testing.T) {
	e := &WaitlistEntry{ID: "e", UserID: "member"}
	for _, tt := range []struct {
		name string
		by   *identity.Principal
		want string
	}{
		{"its member", identitytest.Member(), "ok"},
		{"manager here", identitytest.Manager("here"), "waitlist_entry_not_found"},
		{"manager elsewhere", identitytest.Manager("there"), "waitlist_entry_not_found"},
		{"admin", identitytest.Admin(), "waitlist_entry_not_found"},
		{"key", ruleKeyWrite, "waitlist_entry_not_found"},
		{"system", identitytest.System(), "waitlist_entry_not_found"},
		{"nobody", nil, "waitlist_entry_not_found"},
	} {
		if got := outcome(ownsEntry(tt.by, e)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestMayHoldQualifications: a person lists the trainings they hold; an
// API key, which is nobody, holds none, and is told so.
func TestMayHoldQualifications(t *testing.T) {
	tests := []struct {
		name string
		by   *identity.Principal
		want string
	}{
		{"member", identitytest.Member(), "ok"},
		{"manager here", identitytest.Manager("here"), "ok"},
		{"admin", identitytest.Admin(), "ok"},
		{"key with calendar:read", ruleKeyCalendar, "forbidden"},
		{"key of another site", ruleKeyElsePlus, "forbidden"},
		{"nobody", nil, "forbidden"},
	}
	for _, tt := range tests {
		if got := outcome(mayHoldQualifications(tt.by)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	if err := mayHoldQualifications(ruleKeyCalendar); err == nil || err.Error() != "an API key holds no qualification" {
		t.Errorf("a key's trainings: %v", err)
	}
}
