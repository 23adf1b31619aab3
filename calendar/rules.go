package calendar

import (
	"errors"

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

// errMembersWait: API keys do not join waiting lists.
const errMembersWait errs.Refusal = "members join waiting lists themselves"

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

// Sites, resources, closures, qualifications and feeds. Whoever may not
// know a site exists is told the site (or the resource, the
// qualification) does not exist; whoever may know it but not change it is
// refused. The api layer answered these same statuses before the rules
// moved here, byte for byte: refusals without a code are returned bare, so
// that their text is the problem's detail.

// mayCreateSite: a site is opened by the network's admins (and the system).
func mayCreateSite(p *identity.Principal) error {
	if !p.IsAdmin() {
		return errs.ErrForbidden
	}
	return nil
}

// mayListSites: users, and API keys with sites:read (which then list only
// their own sites, see ReadSites).
func mayListSites(p *identity.Principal) error {
	if p == nil || !p.HasScope(identity.ScopeSitesRead) {
		return errs.ErrForbidden
	}
	return nil
}

// mayReadSite: whoever may know the site exists (see maySeeSite).
func mayReadSite(p *identity.Principal, siteID string) error {
	if !maySeeSite(p, siteID) {
		return errSiteNotFound
	}
	return nil
}

// mayEditSite: the site's managers, admins, and API keys of the site with
// sites:write change the site, its closures, resources and qualifications.
func mayEditSite(p *identity.Principal, siteID string) error {
	switch {
	case p != nil && p.ManagesSite(siteID) && p.HasScope(identity.ScopeSitesWrite):
		return nil
	case maySeeSite(p, siteID):
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// mayChangeLegal: only an admin of the network changes a site's legal
// identity (see UpdateSite for why).
func mayChangeLegal(p *identity.Principal) bool { return p.IsAdmin() }

// mayReadResource: whoever may know the resource's site exists.
func mayReadResource(p *identity.Principal, res *Resource) error {
	if !maySeeSite(p, res.SiteID) {
		return errResourceNotFound
	}
	return nil
}

// mayEditResource: those who may edit the resource's site (see
// mayEditSite); others who may read it are refused, the rest are told it
// does not exist.
func mayEditResource(p *identity.Principal, res *Resource) error {
	if err := mayReadResource(p, res); err != nil {
		return err
	}
	if p.ManagesSite(res.SiteID) && p.HasScope(identity.ScopeSitesWrite) {
		return nil
	}
	return errs.ErrForbidden
}

// mayReadQualification: whoever may know the qualification's site exists.
func mayReadQualification(p *identity.Principal, q *Qualification) error {
	if !maySeeSite(p, q.SiteID) {
		return errQualificationNotFound
	}
	return nil
}

// mayManageQualification: those who may edit the qualification's site
// list, grant and revoke it.
func mayManageQualification(p *identity.Principal, q *Qualification) error {
	if err := mayReadQualification(p, q); err != nil {
		return err
	}
	if p.ManagesSite(q.SiteID) && p.HasScope(identity.ScopeSitesWrite) {
		return nil
	}
	return errs.ErrForbidden
}

// errGrantedByPerson: a grant records who trained the member, so an API
// key, which is nobody, grants none.
const errGrantedByPerson errs.Refusal = "a training is granted by a person, not an API key"

// mayGrant: a person, never an API key, grants a qualification (that they
// manage: see mayManageQualification). It is asked first, before the
// qualification is even read.
func mayGrant(p *identity.Principal) error {
	if p == nil || p.IsAPIKey() {
		return errGrantedByPerson
	}
	return nil
}

// errNoOwnQualifications: trainings are held by people; an API key, which
// is nobody, holds none.
const errNoOwnQualifications errs.Refusal = "an API key holds no qualification"

// mayHoldQualifications: a member lists their own trainings; an API key
// has none to list.
func mayHoldQualifications(p *identity.Principal) error {
	if p == nil || p.IsAPIKey() {
		return errNoOwnQualifications
	}
	return nil
}

// errNoOwnCalendar: an API key books for members, it has no bookings and
// so no feed of its own.
const errNoOwnCalendar errs.Refusal = "an API key has no calendar of its own"

// mayHaveFeed: a member's secret feed URL is theirs; an API key has none.
func mayHaveFeed(p *identity.Principal) error {
	if p == nil || p.IsAPIKey() {
		return errNoOwnCalendar
	}
	return nil
}

// mayExportCalendar: the site's managers and admins, and API keys of the
// site with calendar:read, export the feed of a site or of its resources.
func mayExportCalendar(p *identity.Principal, siteID string) bool {
	return p != nil && p.ManagesSite(siteID) && p.HasScope(identity.ScopeCalendarRead)
}

// mayExportSite: see mayExportCalendar; whoever may not know the site
// exists is told it does not.
func mayExportSite(p *identity.Principal, siteID string) error {
	switch {
	case mayExportCalendar(p, siteID):
		return nil
	case maySeeSite(p, siteID):
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// mayExportResource: see mayExportCalendar.
func mayExportResource(p *identity.Principal, res *Resource) error {
	if err := mayReadResource(p, res); err != nil {
		return err
	}
	if !mayExportCalendar(p, res.SiteID) {
		return errs.ErrForbidden
	}
	return nil
}

// ErrListNeedsSite refuses an API key's listing of reservations that names
// no site: a key lists only the reservations of its sites. The api answers
// it as a bad site_id parameter.
var ErrListNeedsSite = errors.New("an API key lists the reservations of one of its sites: give site_id")

// scopeReservationList decides what p may list of f, once f.SiteID names
// the site of f.ResourceID when there is one: the site's managers (with
// reservations:read) and admins list as asked; a member lists only their
// own reservations (f.UserID is set to them); an API key must name one of
// its sites.
func scopeReservationList(p *identity.Principal, f *ReservationFilter) error {
	if p == nil {
		return errs.ErrForbidden
	}
	switch {
	case f.SiteID != "" && mayReadReservations(p, f.SiteID):
	case p.IsAdmin():
	case p.IsAPIKey():
		return ErrListNeedsSite
	default:
		if f.UserID != "" && f.UserID != p.UserID {
			return errs.ErrForbidden
		}
		f.UserID = p.UserID // a member lists their own
	}
	return nil
}

// ownsEntry: a waiting-list entry is seen, left and accepted by its
// member alone; to anyone else it does not exist.
func ownsEntry(p *identity.Principal, e *WaitlistEntry) error {
	if p == nil || p.IsAPIKey() || e.UserID != p.UserID {
		return errEntryNotFound
	}
	return nil
}

// mayCheckIn: the member whose booking it is, or the site's managers (and
// its API keys with reservations:write, a kiosk at the desk). Others are
// told it does not exist, as for reading it.
func mayCheckIn(p *identity.Principal, r *Reservation) error {
	if _, err := mayReadReservation(p, r); err != nil {
		return err
	}
	if !ownsReservation(p, r) && !mayManageReservations(p, r.SiteID) {
		return errs.ErrForbidden
	}
	return nil
}

// checkInActor is who a check-in is recorded as made by: the caller, or
// for an API key, the member the booking is for.
func checkInActor(p *identity.Principal, r *Reservation) string {
	return cancellingActor(p, r)
}
