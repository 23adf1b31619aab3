package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/people"
)

// Guests of a site's services: residents served without an account of
// their own (package people, guests.go decides who may).

type communeJSON struct {
	Name       string  `json:"name"`
	INSEE      *string `json:"insee"`
	PostalCode *string `json:"postal_code"`
}

type guestJSON struct {
	ID         string      `json:"id"`
	SiteID     string      `json:"site_id"`
	Name       string      `json:"name"`
	Phone      *string     `json:"phone"`
	Email      *string     `json:"email"`
	Commune    communeJSON `json:"commune"`
	AgeBand    string      `json:"age_band"`
	HasAccount bool        `json:"has_account"`
	MergedInto *string     `json:"merged_into"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

func toGuestJSON(g *people.Guest) guestJSON {
	return guestJSON{ID: g.ID, SiteID: g.SiteID, Name: g.Name, Phone: nilIfEmpty(g.Phone), Email: nilIfEmpty(g.Email),
		Commune: communeJSON{Name: g.Commune.Name, INSEE: nilIfEmpty(g.Commune.INSEE), PostalCode: nilIfEmpty(g.Commune.PostalCode)},
		AgeBand: g.AgeBand, HasAccount: g.HasAccount, MergedInto: g.MergedInto, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

type communeInput struct {
	Name       string `json:"name"`
	INSEE      string `json:"insee"`
	PostalCode string `json:"postal_code"`
}

func (c communeInput) commune() people.Commune {
	return people.Commune{Name: c.Name, INSEE: c.INSEE, PostalCode: c.PostalCode}
}

func (s *Server) handleCreateGuest(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name     string       `json:"name"`
		Phone    string       `json:"phone"`
		Email    string       `json:"email"`
		Language string       `json:"language"`
		Commune  communeInput `json:"commune"`
		AgeBand  string       `json:"age_band"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.People.CreateGuest(r.Context(), p, r.PathValue("site_id"), people.NewGuest{Name: in.Name, Phone: in.Phone, Email: in.Email,
		Language: in.Language, Commune: in.Commune.commune(), AgeBand: in.AgeBand})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/guests/"+g.ID)
	writeJSON(w, http.StatusCreated, toGuestJSON(g))
}

func (s *Server) handleGetGuest(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	g, err := s.People.GetGuest(r.Context(), p, r.PathValue("guest_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGuestJSON(g))
}

// handlePatchGuest: an absent field is left as it is; a null phone
// removes it.
func (s *Server) handlePatchGuest(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name    *string          `json:"name"`
		Phone   optional[string] `json:"phone"`
		Email   *string          `json:"email"`
		Commune *communeInput    `json:"commune"`
		AgeBand *string          `json:"age_band"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	e := people.GuestEdit{Name: in.Name, Email: in.Email, AgeBand: in.AgeBand}
	if in.Phone.Set {
		phone := in.Phone.Value
		e.Phone = &phone
	}
	if in.Commune != nil {
		c := in.Commune.commune()
		e.Commune = &c
	}
	g, err := s.People.EditGuest(r.Context(), p, r.PathValue("guest_id"), e)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toGuestJSON(g))
}

// --- services-mail ---

func (s *Server) handleMergeGuest(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.People.MergeGuest(r.Context(), p, r.PathValue("guest_id"), in.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"guest_id": m.GuestID, "user_id": m.UserID, "merged_at": m.MergedAt.UTC()})
}
