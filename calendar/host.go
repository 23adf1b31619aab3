package calendar

import (
	"strings"
	"unicode/utf8"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Host places and travelling kits (issue 18).
//
// A host place (an EHPAD, a résidence, a mairie) is a site of kind
// SiteHost: it has an address, a zone and a person to call, but nothing
// bookable of its own, so no desk, room, zone, machine or kit is created
// there. Ateliers and partners' windows may take place there, with kits.
//
// A kit (tablets, a portable visio kit, a 3D printer that travels) is a
// resource of kind KindKit that belongs to a home site (not a host). It is
// reserved like any resource (the same locks, the same no-overlap rule on
// either database), but also by ateliers and windows of other sites, so
// that it is never promised twice. Reserving it away from home takes a
// manager of its home site (see mayTakeKitAway).

// SiteHost is the kind of a host place (one of SiteKinds): a place that
// hosts ateliers and appointments, with nothing bookable of its own.
const SiteHost = "host"

// KindKit is a resource that travels from its home site.
const KindKit = "kit"

// IsHost reports whether the site is a host place.
func (s *Site) IsHost() bool { return s.Kind == SiteHost }

// setHostFields copies a new site's kind and contact.
func setHostFields(s *Site, in NewSite) {
	if n := strings.TrimSpace(in.ContactName); n != "" {
		s.ContactName = &n
	}
	if ph := strings.TrimSpace(in.ContactPhone); ph != "" {
		s.ContactPhone = &ph
	}
}

// validateHost checks the site's kind and contact: a host place names the
// person to call; a phone is digits, spaces and + . ( ) -.
func validateHost(v *errs.Validator, s *Site) {
	if s.ContactName != nil {
		n := strings.TrimSpace(*s.ContactName)
		if n == "" {
			s.ContactName = nil
		} else {
			s.ContactName = &n
			v.Check(utf8.RuneCountInString(n) <= 200 && !hasControl(n), "contact_name", "must be at most 200 characters, on one line")
		}
	}
	if s.ContactPhone != nil {
		ph := strings.TrimSpace(*s.ContactPhone)
		if ph == "" {
			s.ContactPhone = nil
		} else {
			s.ContactPhone = &ph
			v.Check(validPhone(ph), "contact_phone", "must be a phone number such as 01 23 45 67 89 or +33 1 23 45 67 89")
		}
	}
	if s.Kind == SiteHost {
		v.Check(s.ContactName != nil, "contact_name", "a host place names the person to call")
	}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) })
}

func validPhone(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(" +.()-", r):
		default:
			return false
		}
	}
	return digits >= 4 && digits <= 15 && len(s) <= 30
}

// checkKindAtSite refuses what a host place cannot hold (any resource) and
// a kit anywhere but at a space.
func checkKindAtSite(site *Site, kind string) error {
	if site.IsHost() {
		return errs.Rule("kind", "host_place_has_no_resources",
			"a host place has nothing bookable of its own: bring kits from a site instead")
	}
	return nil
}

// KitHomeManagersOnly refuses to take a kit away from its home site for
// anyone who does not manage that site, naming field.
func KitHomeManagersOnly(field string) error {
	p := errs.Rule(field, "kit_home_managers_only", "only the managers of a kit's home site take it elsewhere")
	p.Kind = errs.ErrForbidden
	return p
}

// mayTakeKitAway: reserving a kit for an atelier or a window of another
// site takes a manager of the kit's home site (an admin manages every
// site; the system acts for relais). The simplest sound rule: the home
// site's team answers for its kits, and a manager of one place cannot
// empty another's shelves. A network that shares kits makes the animateurs
// who travel managers of the kits' home site too.
func mayTakeKitAway(p *identity.Principal, res *Resource) error {
	if p == nil || p.IsAPIKey() || !p.ManagesSite(res.SiteID) {
		return KitHomeManagersOnly("resource_ids")
	}
	return nil
}
