package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

type siteJSON struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Timezone     string                `json:"timezone"`
	Kind         string                `json:"kind"`
	Address      calendar.Address      `json:"address"`
	OpeningHours calendar.OpeningHours `json:"opening_hours"`
	Legal        *calendar.Legal       `json:"legal"`
	ContactEmail *string               `json:"contact_email"`
	ContactName  *string               `json:"contact_name"`
	ContactPhone *string               `json:"contact_phone"`
	CreatedAt    time.Time             `json:"created_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
}

func toSiteJSON(s *calendar.Site) siteJSON {
	var legal *calendar.Legal
	if !s.IsHost() || s.Legal.SIREN != "" {
		legal = &s.Legal // a host place may have none
	}
	return siteJSON{ID: s.ID, Name: s.Name, Timezone: s.Timezone, Address: s.Address, OpeningHours: s.OpeningHours,
		Legal: legal, ContactEmail: s.ContactEmail, Kind: s.Kind, ContactName: s.ContactName, ContactPhone: s.ContactPhone,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name         string                `json:"name"`
		Timezone     string                `json:"timezone"`
		Kind         string                `json:"kind"`
		Address      calendar.Address      `json:"address"`
		OpeningHours calendar.OpeningHours `json:"opening_hours"`
		Legal        calendar.Legal        `json:"legal"`
		ContactEmail string                `json:"contact_email"`
		ContactName  string                `json:"contact_name"`
		ContactPhone string                `json:"contact_phone"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	site, err := s.Calendar.CreateSite(r.Context(), p, calendar.NewSite{Name: in.Name, Timezone: in.Timezone, Address: in.Address,
		OpeningHours: in.OpeningHours, Legal: in.Legal, ContactEmail: in.ContactEmail,
		Kind: in.Kind, ContactName: in.ContactName, ContactPhone: in.ContactPhone})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+site.ID)
	writeJSON(w, http.StatusCreated, toSiteJSON(site))
}

func (s *Server) handleListSites(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sites, next, err := s.Calendar.ReadSitesOfKind(r.Context(), p, r.URL.Query().Get("kind"), after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[siteJSON]{Items: []siteJSON{}}
	for i := range sites {
		out.Items = append(out.Items, toSiteJSON(&sites[i]))
	}
	out.NextCursor = cursor(next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetSite(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	site, err := s.Calendar.ReadSite(r.Context(), p, r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSiteJSON(site))
}

func (s *Server) handlePatchSite(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		Name         *string                         `json:"name"`
		Timezone     *string                         `json:"timezone"`
		Kind         *string                         `json:"kind"`
		Address      *calendar.Address               `json:"address"`
		OpeningHours optional[calendar.OpeningHours] `json:"opening_hours"`
		Legal        *calendar.Legal                 `json:"legal"`
		ContactEmail optional[string]                `json:"contact_email"`
		ContactName  optional[string]                `json:"contact_name"`
		ContactPhone optional[string]                `json:"contact_phone"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := calendar.SiteUpdate{Name: in.Name, Timezone: in.Timezone, Kind: in.Kind, Address: in.Address, Legal: in.Legal,
		ClearOpeningHours: in.OpeningHours.Set && in.OpeningHours.Null}
	if in.ContactEmail.Set {
		up.ContactEmail = &in.ContactEmail.Value // null: "", no address
	}
	if in.ContactName.Set {
		up.ContactName = &in.ContactName.Value
	}
	if in.ContactPhone.Set {
		up.ContactPhone = &in.ContactPhone.Value
	}
	if v := in.OpeningHours.ptr(); v != nil {
		up.OpeningHours = *v
		if up.OpeningHours == nil {
			up.OpeningHours = calendar.OpeningHours{}
		}
	}
	site, err := s.Calendar.UpdateSite(r.Context(), p, siteID, up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSiteJSON(site))
}

func (s *Server) handleListManagers(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if _, err := s.Calendar.ReadSite(r.Context(), p, siteID); err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.Access.ListManagers(r.Context(), p, siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(users, toUserJSON))
}

func (s *Server) handleAddManager(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	siteID := r.PathValue("site_id")
	var err error
	switch {
	case (in.UserID == "") == (in.Email == ""):
		err = errs.Invalid("user_id", "give either user_id or email")
	case in.Email != "":
		in.UserID, err = s.Access.AddManagerByEmail(r.Context(), p, siteID, in.Email)
	default:
		err = s.Access.AddManager(r.Context(), p, siteID, in.UserID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.Access.ListManagers(r.Context(), p, siteID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range users {
		if users[i].ID == in.UserID {
			w.Header().Set("Location", "/v1/users/"+in.UserID)
			writeJSON(w, http.StatusCreated, toUserJSON(&users[i]))
			return
		}
	}
	s.writeError(w, r, errs.Invalid("user_id", "no such user"))
}

func (s *Server) handleRemoveManager(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.RemoveManager(r.Context(), p, r.PathValue("site_id"), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type closureJSON struct {
	ID       string    `json:"id"`
	SiteID   string    `json:"site_id"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	Reason   string    `json:"reason"`
}

func toClosureJSON(c *calendar.Closure) closureJSON {
	return closureJSON{ID: c.ID, SiteID: c.SiteID, StartsAt: c.StartsAt, EndsAt: c.EndsAt, Reason: c.Reason}
}

func (s *Server) handleListClosures(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	closures, err := s.Calendar.ListClosures(r.Context(), p, siteID, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(closures, toClosureJSON))
}

func (s *Server) handleGetClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	c, err := s.Calendar.GetClosure(r.Context(), p, r.PathValue("site_id"), r.PathValue("closure_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toClosureJSON(c))
}

func (s *Server) handleCreateClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	var in struct {
		StartsAt timestamp `json:"starts_at"`
		EndsAt   timestamp `json:"ends_at"`
		Reason   string    `json:"reason"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Calendar.AddClosure(r.Context(), p, siteID, in.StartsAt.Time, in.EndsAt.Time, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+siteID+"/closures/"+c.ID)
	writeJSON(w, http.StatusCreated, toClosureJSON(c))
}

func (s *Server) handleDeleteClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Calendar.DeleteClosure(r.Context(), p, r.PathValue("site_id"), r.PathValue("closure_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
