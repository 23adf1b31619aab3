package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
)

type resourceJSON struct {
	ID                string                `json:"id"`
	SiteID            string                `json:"site_id"`
	Kind              string                `json:"kind"`
	Name              string                `json:"name"`
	Description       string                `json:"description"`
	Capacity          int                   `json:"capacity"`
	Rules             calendar.Rules        `json:"rules"`
	OpeningHours      calendar.OpeningHours `json:"opening_hours"`
	QualificationID   *string               `json:"qualification_id"`
	PricePerHourCents int64                 `json:"price_per_hour_cents"`
	VATRateBP         int                   `json:"vat_rate_bp"`
	MemberBookable    bool                  `json:"member_bookable"`
	Retired           bool                  `json:"retired"`
	CreatedAt         time.Time             `json:"created_at"`
	UpdatedAt         time.Time             `json:"updated_at"`
}

func toResourceJSON(r *calendar.Resource) resourceJSON {
	return resourceJSON{ID: r.ID, SiteID: r.SiteID, Kind: r.Kind, Name: r.Name, Description: r.Description,
		Capacity: r.Capacity, Rules: r.Rules, OpeningHours: r.OpeningHours, QualificationID: r.QualificationID,
		PricePerHourCents: r.PricePerHourCents, VATRateBP: r.VATRateBP, MemberBookable: r.MemberBookable, Retired: r.RetiredAt != nil,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (s *Server) handleCreateResource(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Kind              string                `json:"kind"`
		Name              string                `json:"name"`
		Description       string                `json:"description"`
		Capacity          int                   `json:"capacity"`
		Rules             calendar.Rules        `json:"rules"`
		OpeningHours      calendar.OpeningHours `json:"opening_hours"`
		QualificationID   *string               `json:"qualification_id"`
		PricePerHourCents int64                 `json:"price_per_hour_cents"`
		VATRateBP         *int                  `json:"vat_rate_bp"`
		MemberBookable    *bool                 `json:"member_bookable"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Calendar.CreateResource(r.Context(), p, siteID, calendar.NewResource{
		Kind: in.Kind, Name: in.Name, Description: in.Description, Capacity: in.Capacity, Rules: in.Rules,
		OpeningHours: in.OpeningHours, QualificationID: in.QualificationID, PricePerHourCents: in.PricePerHourCents,
		VATRateBP: in.VATRateBP, MemberBookable: in.MemberBookable,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/resources/"+res.ID)
	writeJSON(w, http.StatusCreated, toResourceJSON(res))
}

func (s *Server) handleListResources(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	q := r.URL.Query()
	f := calendar.ResourceFilter{Kind: q.Get("kind"), IncludeRetired: q.Get("include_retired") == "true"}
	switch f.Kind {
	case "", calendar.KindDesk, calendar.KindRoom, calendar.KindZone, calendar.KindMachine, calendar.KindKit:
	default:
		s.writeError(w, r, badRequest(http.StatusBadRequest, "invalid_parameter", "kind", "kind must be desk, room, zone, machine or kit"))
		return
	}
	rs, err := s.Calendar.ListResources(r.Context(), p, siteID, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(rs, toResourceJSON))
}

func (s *Server) handleGetResource(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	res, err := s.Calendar.ReadResource(r.Context(), p, r.PathValue("resource_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toResourceJSON(res))
}

func (s *Server) handlePatchResource(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name              *string                         `json:"name"`
		Description       *string                         `json:"description"`
		Capacity          *int                            `json:"capacity"`
		Rules             *calendar.Rules                 `json:"rules"`
		OpeningHours      optional[calendar.OpeningHours] `json:"opening_hours"`
		QualificationID   optional[string]                `json:"qualification_id"`
		PricePerHourCents *int64                          `json:"price_per_hour_cents"`
		VATRateBP         *int                            `json:"vat_rate_bp"`
		MemberBookable    *bool                           `json:"member_bookable"`
		Retired           *bool                           `json:"retired"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := calendar.ResourceUpdate{Name: in.Name, Description: in.Description, Capacity: in.Capacity, Rules: in.Rules,
		ClearOpeningHours: in.OpeningHours.Set && in.OpeningHours.Null, QualificationID: in.QualificationID.ptr(),
		ClearQualification: in.QualificationID.Set && in.QualificationID.Null, PricePerHourCents: in.PricePerHourCents,
		VATRateBP: in.VATRateBP, MemberBookable: in.MemberBookable, Retired: in.Retired}
	if v := in.OpeningHours.ptr(); v != nil {
		up.OpeningHours = *v
		if up.OpeningHours == nil {
			up.OpeningHours = calendar.OpeningHours{}
		}
	}
	updated, err := s.Calendar.UpdateResource(r.Context(), p, r.PathValue("resource_id"), up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toResourceJSON(updated))
}

type qualificationJSON struct {
	ID          string    `json:"id"`
	SiteID      string    `json:"site_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

func toQualificationJSON(q *calendar.Qualification) qualificationJSON {
	return qualificationJSON{ID: q.ID, SiteID: q.SiteID, Name: q.Name, Description: q.Description, CreatedAt: q.CreatedAt}
}

type grantJSON struct {
	ID              string     `json:"id"`
	QualificationID string     `json:"qualification_id"`
	UserID          string     `json:"user_id"`
	GrantedBy       string     `json:"granted_by"`
	GrantedAt       time.Time  `json:"granted_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
}

func toGrantJSON(g *calendar.Grant) grantJSON {
	return grantJSON{ID: g.ID, QualificationID: g.QualificationID, UserID: g.UserID, GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt, ExpiresAt: g.ExpiresAt}
}

func (s *Server) handleCreateQualification(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := s.Calendar.CreateQualification(r.Context(), p, siteID, in.Name, in.Description)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/qualifications/"+q.ID)
	writeJSON(w, http.StatusCreated, toQualificationJSON(q))
}

func (s *Server) handleListQualifications(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	qs, err := s.Calendar.ListQualifications(r.Context(), p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(qs, toQualificationJSON))
}

func (s *Server) handleGetQualification(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	q, err := s.Calendar.GetQualification(r.Context(), p, r.PathValue("qualification_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toQualificationJSON(q))
}

func (s *Server) handleGrantQualification(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		UserID    string     `json:"user_id"`
		ExpiresAt *timestamp `json:"expires_at"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	var expires *time.Time
	if in.ExpiresAt != nil {
		expires = &in.ExpiresAt.Time
	}
	g, err := s.Calendar.GrantQualification(r.Context(), p, r.PathValue("qualification_id"), in.UserID, expires)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toGrantJSON(g))
}

func (s *Server) handleListGrants(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	gs, err := s.Calendar.ListGrants(r.Context(), p, r.PathValue("qualification_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(gs, toGrantJSON))
}

func (s *Server) handleRevokeGrant(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Calendar.RevokeQualification(r.Context(), p, r.PathValue("qualification_id"), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// myQualificationJSON is one training the caller holds, until when, and
// the machines it lets them book.
type myQualificationJSON struct {
	Qualification qualificationJSON `json:"qualification"`
	GrantedAt     time.Time         `json:"granted_at"`
	ExpiresAt     *time.Time        `json:"expires_at"`
	Machines      []machineRefJSON  `json:"machines"`
}

type machineRefJSON struct {
	ID     string `json:"id"`
	SiteID string `json:"site_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
}

func (s *Server) handleMyQualifications(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	hs, err := s.Calendar.MyQualifications(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(hs, func(h *calendar.HeldQualification) myQualificationJSON {
		out := myQualificationJSON{Qualification: toQualificationJSON(&h.Qualification), GrantedAt: h.Grant.GrantedAt,
			ExpiresAt: h.Grant.ExpiresAt, Machines: []machineRefJSON{}}
		for _, m := range h.Machines {
			out.Machines = append(out.Machines, machineRefJSON{ID: m.ID, SiteID: m.SiteID, Kind: m.Kind, Name: m.Name})
		}
		return out
	}))
}
