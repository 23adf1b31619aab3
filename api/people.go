package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/people"
)

// The front desk: a site's people (package people decides who may).

type personMembershipJSON struct {
	ID        string     `json:"id"`
	PlanID    string     `json:"plan_id"`
	PlanName  string     `json:"plan_name"`
	Status    string     `json:"status"`
	PeriodEnd *time.Time `json:"current_period_end"`
}

type personPassJSON struct {
	ID       string    `json:"id"`
	PlanName string    `json:"plan_name"`
	Day      string    `json:"day"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Status   string    `json:"status"`
}

type personPackJSON struct {
	ID           string    `json:"id"`
	PlanName     string    `json:"plan_name"`
	ResourceKind string    `json:"resource_kind"`
	Minutes      int       `json:"minutes"`
	ValidUntil   time.Time `json:"valid_until"`
}

type personCreditJSON struct {
	Unit         string  `json:"unit"`
	ResourceKind *string `json:"resource_kind"`
	Available    int64   `json:"available"`
}

type personJSON struct {
	ID          string                 `json:"id"`
	Name        string                 `json:"name"`
	Email       *string                `json:"email"`
	HasEmail    bool                   `json:"has_email"`
	Phone       *string                `json:"phone"`
	Disabled    bool                   `json:"disabled"`
	Awaiting    bool                   `json:"awaiting_password"`
	CreatedAt   time.Time              `json:"created_at"`
	Active      bool                   `json:"active"`
	Memberships []personMembershipJSON `json:"memberships"`
	DayPasses   []personPassJSON       `json:"day_passes"`
	Packs       []personPackJSON       `json:"packs"`
	Credit      []personCreditJSON     `json:"credit"`
	Bookings90  int                    `json:"bookings_last_90_days"`
	LastVisitAt *time.Time             `json:"last_visit_at"`
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toPersonJSON(it *people.Item) personJSON {
	out := personJSON{ID: it.ID, Name: it.Name, Email: nilIfEmpty(it.Email), HasEmail: it.Email != "", Phone: nilIfEmpty(it.Phone),
		Disabled: it.Disabled, Awaiting: it.AwaitingPassword, CreatedAt: it.CreatedAt, Active: it.Active, Bookings90: it.Bookings, LastVisitAt: it.LastVisit,
		Memberships: []personMembershipJSON{}, DayPasses: []personPassJSON{}, Packs: []personPackJSON{}, Credit: []personCreditJSON{}}
	for _, m := range it.Memberships {
		out.Memberships = append(out.Memberships, personMembershipJSON{ID: m.ID, PlanID: m.PlanID, PlanName: m.PlanName, Status: m.Status, PeriodEnd: m.PeriodEnd})
	}
	for _, d := range it.DayPasses {
		out.DayPasses = append(out.DayPasses, personPassJSON{ID: d.ID, PlanName: d.PlanName, Day: d.Day, StartsAt: d.StartsAt.UTC(), EndsAt: d.EndsAt.UTC(), Status: d.Status})
	}
	for _, k := range it.Packs {
		out.Packs = append(out.Packs, personPackJSON{ID: k.ID, PlanName: k.PlanName, ResourceKind: k.ResourceKind, Minutes: k.Minutes, ValidUntil: k.ValidUntil.UTC()})
	}
	for _, c := range it.Credit {
		out.Credit = append(out.Credit, personCreditJSON{Unit: c.Unit, ResourceKind: kindOrNil(c.ResourceKind), Available: c.Amount})
	}
	return out
}

func (s *Server) handleListPeople(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			s.writeError(w, r, badRequestf(http.StatusBadRequest, "invalid_parameter", "limit", "limit must be an integer from 1 to %d", maxLimit))
			return
		}
		limit = n
	}
	items, next, err := s.People.Search(r.Context(), p, r.PathValue("site_id"),
		people.Query{Q: q.Get("q"), Status: q.Get("status"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := listOf(items, toPersonJSON)
	out.NextCursor = next
	writeJSON(w, http.StatusOK, out)
}

type noteJSON struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	SiteID     string    `json:"site_id"`
	AuthorID   *string   `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Note       string    `json:"note"`
	CreatedAt  time.Time `json:"created_at"`
}

func toNoteJSON(n *people.Note) noteJSON {
	return noteJSON{ID: n.ID, UserID: n.UserID, SiteID: n.SiteID, AuthorID: n.AuthorID, AuthorName: n.AuthorName, Note: n.Body, CreatedAt: n.CreatedAt.UTC()}
}

type qualificationHeldJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	GrantedAt time.Time  `json:"granted_at"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type entryJSON struct {
	Allowed bool    `json:"allowed"`
	Code    *string `json:"code"`
	Window  *string `json:"window"`
}

type pictureJSON struct {
	personJSON
	Language       string                  `json:"language"`
	Entry          entryJSON               `json:"entry_now"`
	Upcoming       []reservationJSON       `json:"upcoming_reservations"`
	Payments       []paymentJSON           `json:"payments"`
	Invoices       []invoiceJSON           `json:"invoices"`
	CreditLots     []creditLotJSON         `json:"credit_lots"`
	Qualifications []qualificationHeldJSON `json:"qualifications"`
	Notes          []noteJSON              `json:"notes"`
}

func (s *Server) handleGetPerson(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	pic, err := s.People.Get(r.Context(), p, r.PathValue("site_id"), r.PathValue("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := pictureJSON{personJSON: toPersonJSON(&pic.Item), Language: pic.Language,
		Upcoming: listOf(pic.Upcoming, toReservationJSON).Items, Payments: listOf(pic.Payments, toPaymentJSON).Items,
		Invoices: listOf(pic.Invoices, toInvoiceJSON).Items, Notes: listOf(pic.Notes, toNoteJSON).Items,
		CreditLots: []creditLotJSON{}, Qualifications: []qualificationHeldJSON{}}
	if pic.Entry != nil {
		out.Entry = entryJSON{Allowed: pic.Entry.Allowed, Code: nilIfEmpty(pic.Entry.Code), Window: nilIfEmpty(pic.Entry.Window)}
	}
	for _, b := range pic.CreditLots {
		l := b.Lot
		out.CreditLots = append(out.CreditLots, creditLotJSON{LotID: l.ID, Unit: l.Unit, ResourceKind: kindOrNil(l.ResourceKind), SiteID: l.SiteID,
			Origin: l.Origin, OriginID: l.OriginID, ExpiresAt: l.ExpiresAt, Available: b.Available, Pending: b.Pending})
	}
	for _, q := range pic.Qualifications {
		out.Qualifications = append(out.Qualifications, qualificationHeldJSON{ID: q.ID, Name: q.Name, GrantedAt: q.GrantedAt.UTC(), ExpiresAt: q.ExpiresAt})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreatePerson(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name     string `json:"name"`
		Email    string `json:"email"`
		Phone    string `json:"phone"`
		Language string `json:"language"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	siteID := r.PathValue("site_id")
	it, err := s.People.Create(r.Context(), p, siteID, identity.WalkIn{Name: in.Name, Email: in.Email, Phone: in.Phone, Language: in.Language})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+siteID+"/people/"+it.ID)
	writeJSON(w, http.StatusCreated, toPersonJSON(it))
}

// handlePatchPerson corrects a walk-in's name, phone or email (people's
// MayEditPerson decides); an absent field is left as it is, a null phone
// removes it.
func (s *Server) handlePatchPerson(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name  *string          `json:"name"`
		Phone optional[string] `json:"phone"`
		Email *string          `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e := identity.WalkInEdit{Name: in.Name, Email: in.Email}
	if in.Phone.Set {
		phone := in.Phone.Value // null removes it, as "" does
		e.Phone = &phone
	}
	it, err := s.People.Edit(r.Context(), p, r.PathValue("site_id"), r.PathValue("user_id"), e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPersonJSON(it))
}

func (s *Server) handleListNotes(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ns, err := s.People.Notes(r.Context(), p, r.PathValue("site_id"), r.PathValue("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(ns, toNoteJSON))
}

func (s *Server) handleAddNote(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Note string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	siteID, userID := r.PathValue("site_id"), r.PathValue("user_id")
	n, err := s.People.AddNote(r.Context(), p, siteID, userID, in.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+siteID+"/people/"+userID+"/notes/"+n.ID)
	writeJSON(w, http.StatusCreated, toNoteJSON(n))
}

func (s *Server) handleDeleteNote(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.People.DeleteNote(r.Context(), p, r.PathValue("site_id"), r.PathValue("user_id"), r.PathValue("note_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
