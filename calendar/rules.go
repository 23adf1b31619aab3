package calendar

import (
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may do what in the calendar. Every operation that needs a decision
// takes the caller's principal and asks these functions, so that a rule is
// written once: a single booking and a series, for instance, share
// authorizeBooking. Some refusals are "not found" rather than "forbidden":
// whoever may not see an object is not told it exists.

// maySeeSite: identity's rule of who may know a site exists (users see
// every site; an API key only its own, with sites:read).
func maySeeSite(p *identity.Principal, siteID string) bool {
	return p != nil && identity.CanReadSite(p, siteID)
}

// mayManageReservations: the site's managers and admins, and API keys of
// the site with reservations:write.
func mayManageReservations(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeReservationsWrite)
}

// mayReadReservations: those who manage the site's reservations, and API
// keys of the site with reservations:read.
func mayReadReservations(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeReservationsRead)
}

// ownsReservation: the reservation is the calling member's own. An API key
// owns none, even one made for its creator.
func ownsReservation(p *identity.Principal, r *Reservation) bool {
	return p != nil && !p.IsAPIKey() && r.UserID != nil && *r.UserID == p.UserID
}

func errNoSuchResource() error {
	return errs.Rule("resource_id", "resource_not_found", "no such resource")
}

// authorizeBooking decides whether b.By may make booking b of res, and
// whom for: themselves; a member named in b.UserID (the site's managers,
// its API keys with reservations:write, the system); nobody for a block
// (managers only, never an API key). It sets b.UserID to whom the
// reservation is for, b.actorID to who is accountable (an API key or the
// system acts as the member it books for) and b.manager, which frees the
// booking from the members' horizon and notice.
func authorizeBooking(res *Resource, b *Booking) error {
	p := b.By
	if p == nil {
		return errs.ErrForbidden
	}
	if !maySeeSite(p, res.SiteID) {
		return errNoSuchResource()
	}
	manager := mayManageReservations(p, res.SiteID)
	user := p.UserID
	switch {
	case b.Kind == ReservationBlock:
		if !manager || p.IsAPIKey() {
			return &errs.Problem{Kind: errs.ErrForbidden, Code: "managers_only", Detail: "only the site's managers block a resource"}
		}
		user = ""
	case b.UserID != "" && b.UserID != p.UserID:
		if !manager {
			return &errs.Problem{Kind: errs.ErrForbidden, Code: "managers_only", Detail: "only the site's managers book on behalf of a member"}
		}
		user = b.UserID
	case p.UserID == "":
		return errs.Invalid("user_id", "an API key books on behalf of a member: name the user_id")
	}
	if len(b.Note) > MaxNoteBytes {
		return errs.Invalid("note", "must be at most 2000 bytes")
	}
	b.UserID, b.manager, b.actorID = user, manager, p.UserID
	if b.actorID == "" {
		b.actorID = user
	}
	return nil
}

// MaxNoteBytes bounds a reservation's note.
const MaxNoteBytes = 2000

// mayReadReservation: a member reads their own reservations; the site's
// managers and its API keys (reservations:read or write) those of the
// site. Others are told it does not exist. It reports whether p manages
// the site's reservations.
func mayReadReservation(p *identity.Principal, r *Reservation) (manager bool, err error) {
	manager = mayManageReservations(p, r.SiteID)
	if !ownsReservation(p, r) && !manager && !mayReadReservations(p, r.SiteID) {
		return false, errReservationNotFound
	}
	return manager, nil
}

// mayChangeReservation: the member whose reservation it is, or the site's
// managers (see mayReadReservation for who is told it does not exist).
func mayChangeReservation(p *identity.Principal, r *Reservation) (manager bool, err error) {
	manager, err = mayReadReservation(p, r)
	if err != nil {
		return false, err
	}
	if !manager && (r.UserID == nil || *r.UserID != p.UserID) {
		return false, errs.ErrForbidden
	}
	return manager, nil
}

// cancellingActor is who a cancellation is recorded as made by: the
// caller, or for an API key or the system, the member the reservation is
// for, or whoever made a block.
func cancellingActor(p *identity.Principal, r *Reservation) string {
	switch {
	case p.UserID != "":
		return p.UserID
	case r.UserID != nil:
		return *r.UserID
	}
	return r.CreatedBy
}

// maySeeSeries: the member whose series it is; the site's managers; to
// read only (write false), the site's API keys with reservations:read.
// Others are told it does not exist. It reports whether p manages the
// site's reservations.
func maySeeSeries(p *identity.Principal, s *Series, siteID string, write bool) (manager bool, err error) {
	if p == nil {
		return false, errSeriesNotFound
	}
	manager = mayManageReservations(p, siteID)
	reader := mayReadReservations(p, siteID)
	if s.UserID != p.UserID && !manager && !(reader && !write) {
		return false, errSeriesNotFound
	}
	return manager, nil
}

// seriesActor is who changes to a series are recorded as made by: the
// caller, or for an API key or the system, the series' member.
func seriesActor(p *identity.Principal, s *Series) string {
	if p.UserID != "" {
		return p.UserID
	}
	return s.UserID
}

// refusal is a refusal with no rule code, told as is ("forbidden").
type refusal string

func (r refusal) Error() string { return string(r) }
func (refusal) Unwrap() error   { return errs.ErrForbidden }

// errMembersWait: API keys do not join waiting lists.
const errMembersWait refusal = "members join waiting lists themselves"

// authorizeWaitlist decides whether b.By may join the waiting list of res:
// members join for themselves, never an API key; the site's managers are
// held to the rules of managers (see authorizeBooking).
func authorizeWaitlist(res *Resource, b *Booking) error {
	p := b.By
	if p == nil || p.IsAPIKey() {
		return errMembersWait
	}
	if !maySeeSite(p, res.SiteID) {
		return errNoSuchResource()
	}
	b.UserID, b.actorID, b.manager = p.UserID, p.UserID, mayManageReservations(p, res.SiteID)
	return nil
}
