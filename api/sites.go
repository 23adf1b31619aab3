package api

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

type siteJSON struct {
	ID           string                `json:"id"`
	Name         string                `json:"name"`
	Timezone     string                `json:"timezone"`
	Address      calendar.Address      `json:"address"`
	OpeningHours calendar.OpeningHours `json:"opening_hours"`
	Legal        calendar.Legal        `json:"legal"`
	CreatedAt    time.Time             `json:"created_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
}

func toSiteJSON(s *calendar.Site) siteJSON {
	return siteJSON{ID: s.ID, Name: s.Name, Timezone: s.Timezone, Address: s.Address, OpeningHours: s.OpeningHours,
		Legal: s.Legal, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

var errSiteNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}

// canReadSite is identity's rule of who may know a site exists; the site
// routes still decide here until they move into calendar (see rules.go).
func canReadSite(p *identity.Principal, siteID string) bool { return identity.CanReadSite(p, siteID) }

// canEditSite: admins, the site's managers, and API keys of the site with
// sites:write.
func canEditSite(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeSitesWrite)
}

// refuseSite answers a principal who may not change siteID: 404 when they
// may not even read it (its existence is not theirs to know), 403 otherwise.
func (s *Server) refuseSite(w http.ResponseWriter, r *http.Request, p *identity.Principal, siteID string) {
	if canReadSite(p, siteID) {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	s.writeError(w, r, errSiteNotFound)
}

func (s *Server) handleCreateSite(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !p.IsAdmin() {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	var in struct {
		Name         string                `json:"name"`
		Timezone     string                `json:"timezone"`
		Address      calendar.Address      `json:"address"`
		OpeningHours calendar.OpeningHours `json:"opening_hours"`
		Legal        calendar.Legal        `json:"legal"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	site, err := s.Calendar.CreateSite(r.Context(), calendar.NewSite{Name: in.Name, Timezone: in.Timezone, Address: in.Address,
		OpeningHours: in.OpeningHours, Legal: in.Legal})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+site.ID)
	writeJSON(w, http.StatusCreated, toSiteJSON(site))
}

func (s *Server) handleListSites(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if !p.HasScope(identity.ScopeSitesRead) {
		s.writeError(w, r, errs.ErrForbidden)
		return
	}
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[siteJSON]{Items: []siteJSON{}}
	if p.IsAPIKey() && !p.AllSites {
		// A key limited to a few sites lists just those, in id order.
		ids := slices.Clone(p.SiteIDs)
		slices.Sort(ids)
		for _, id := range ids {
			if id <= after {
				continue
			}
			if len(out.Items) == limit {
				out.NextCursor = cursor(out.Items[limit-1].ID)
				break
			}
			site, err := s.Calendar.GetSite(r.Context(), id)
			if errors.Is(err, errs.ErrNotFound) {
				continue
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			out.Items = append(out.Items, toSiteJSON(site))
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	sites, next, err := s.Calendar.ListSites(r.Context(), after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for i := range sites {
		out.Items = append(out.Items, toSiteJSON(&sites[i]))
	}
	out.NextCursor = cursor(next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetSite(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if !canReadSite(p, siteID) {
		s.writeError(w, r, errSiteNotFound)
		return
	}
	site, err := s.Calendar.GetSite(r.Context(), siteID)
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
		Address      *calendar.Address               `json:"address"`
		OpeningHours optional[calendar.OpeningHours] `json:"opening_hours"`
		Legal        *calendar.Legal                 `json:"legal"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if !canEditSite(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	up := calendar.SiteUpdate{Name: in.Name, Timezone: in.Timezone, Address: in.Address, Legal: in.Legal,
		ClearOpeningHours: in.OpeningHours.Set && in.OpeningHours.Null, Admin: p.IsAdmin()}
	if v := in.OpeningHours.ptr(); v != nil {
		up.OpeningHours = *v
		if up.OpeningHours == nil {
			up.OpeningHours = calendar.OpeningHours{}
		}
	}
	site, err := s.Calendar.UpdateSite(r.Context(), siteID, up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSiteJSON(site))
}

func (s *Server) handleListManagers(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if !canReadSite(p, siteID) {
		s.writeError(w, r, errSiteNotFound)
		return
	}
	if _, err := s.Calendar.GetSite(r.Context(), siteID); err != nil {
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
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	siteID := r.PathValue("site_id")
	if err := s.Access.AddManager(r.Context(), p, siteID, in.UserID); err != nil {
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
	if !canReadSite(p, siteID) {
		s.writeError(w, r, errSiteNotFound)
		return
	}
	from, to, err := queryWindow(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	closures, err := s.Calendar.ListClosures(r.Context(), siteID, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(closures, toClosureJSON))
}

func (s *Server) handleGetClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if !canReadSite(p, siteID) {
		s.writeError(w, r, errSiteNotFound)
		return
	}
	c, err := s.Calendar.GetClosure(r.Context(), siteID, r.PathValue("closure_id"))
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
	if !canEditSite(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	c, err := s.Calendar.AddClosure(r.Context(), siteID, in.StartsAt.Time, in.EndsAt.Time, in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/sites/"+siteID+"/closures/"+c.ID)
	writeJSON(w, http.StatusCreated, toClosureJSON(c))
}

func (s *Server) handleDeleteClosure(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	siteID := r.PathValue("site_id")
	if !canEditSite(p, siteID) {
		s.refuseSite(w, r, p, siteID)
		return
	}
	if err := s.Calendar.DeleteClosure(r.Context(), siteID, r.PathValue("closure_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
