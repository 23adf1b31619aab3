package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/ateliers"
	"github.com/relais-tierslieux/relais/identity"
)

// Ateliers and trainings (package ateliers decides who may).

type atelierSessionJSON struct {
	ID         string    `json:"id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Status     string    `json:"status"`
	SeatsLeft  int       `json:"seats_left"`
	Waitlisted int       `json:"waitlisted"`
}

type atelierJSON struct {
	ID                        string               `json:"id"`
	SiteID                    string               `json:"site_id"`
	CategoryID                string               `json:"category_id"`
	Title                     string               `json:"title"`
	Description               string               `json:"description"`
	Audience                  string               `json:"audience"`
	Seats                     int                  `json:"seats"`
	PriceCents                int64                `json:"price_cents"`
	Pricing                   string               `json:"pricing"`
	CreditCents               int64                `json:"credit_cents"`
	PlanIDs                   []string             `json:"plan_ids"`
	QualificationID           *string              `json:"qualification_id"`
	QualificationMonths       int                  `json:"qualification_months"`
	ResourceIDs               []string             `json:"resource_ids"`
	AnimateurIDs              []string             `json:"animateur_ids"`
	RegistrationOpensAt       *time.Time           `json:"registration_opens_at"`
	RegistrationClosesMinutes int                  `json:"registration_closes_minutes"`
	CancelBeforeMinutes       int                  `json:"cancel_before_minutes"`
	Status                    string               `json:"status"`
	Sessions                  []atelierSessionJSON `json:"sessions"`
}

func toAtelierJSON(a *ateliers.Atelier) atelierJSON {
	out := atelierJSON{ID: a.ID, SiteID: a.SiteID, CategoryID: a.CategoryID, Title: a.Title, Description: a.Description, Audience: a.Audience,
		Seats: a.Seats, PriceCents: a.PriceCents, Pricing: a.Pricing, CreditCents: a.CreditCents, PlanIDs: a.PlanIDs, QualificationID: a.QualificationID, QualificationMonths: a.QualificationMonths,
		ResourceIDs: a.ResourceIDs, AnimateurIDs: a.AnimateurIDs, RegistrationOpensAt: a.RegistrationOpensAt,
		RegistrationClosesMinutes: a.RegistrationClosesMinutes, CancelBeforeMinutes: a.CancelBeforeMinutes, Status: a.Status,
		Sessions: []atelierSessionJSON{}}
	if out.ResourceIDs == nil {
		out.ResourceIDs = []string{}
	}
	if out.PlanIDs == nil {
		out.PlanIDs = []string{}
	}
	if out.AnimateurIDs == nil {
		out.AnimateurIDs = []string{}
	}
	for _, ss := range a.Sessions {
		out.Sessions = append(out.Sessions, toAtelierSessionJSON(a, ss))
	}
	return out
}

func toAtelierSessionJSON(a *ateliers.Atelier, ss ateliers.Session) atelierSessionJSON {
	left := a.Seats - ss.Confirmed
	if left < 0 || ss.Status != "scheduled" {
		left = 0
	}
	return atelierSessionJSON{ID: ss.ID, Start: ss.StartsAt.UTC(), End: ss.EndsAt.UTC(), Status: ss.Status, SeatsLeft: left, Waitlisted: ss.Waitlisted}
}

type registrationJSON struct {
	ID           string     `json:"id"`
	AtelierID    string     `json:"atelier_id"`
	SessionID    string     `json:"session_id"`
	UserID       string     `json:"user_id"`
	Name         *string    `json:"name,omitempty"`
	Status       string     `json:"status"`
	Attendance   *string    `json:"attendance"`
	AttendanceAt *time.Time `json:"attendance_at"`
	CreatedAt    time.Time  `json:"created_at"`
	PromotedAt   *time.Time `json:"promoted_at"`
	CancelledAt  *time.Time `json:"cancelled_at"`
	// --- services-app ---
	WaitlistPosition *int `json:"waitlist_position,omitempty"`
}

func toRegistrationJSON(r *ateliers.Registration) registrationJSON {
	out := registrationJSON{ID: r.ID, AtelierID: r.AtelierID, SessionID: r.SessionID, UserID: r.UserID, Status: r.Status,
		Attendance: r.Attendance, AttendanceAt: utcPtr(r.AttendanceAt), CreatedAt: r.CreatedAt.UTC(), PromotedAt: utcPtr(r.PromotedAt),
		CancelledAt: utcPtr(r.CancelledAt)}
	if r.Name != "" {
		out.Name = &r.Name
	}
	if r.Position > 0 {
		out.WaitlistPosition = &r.Position
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *Server) handleListAtelierCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Ateliers.Categories(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type catJSON struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	out := make([]catJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, catJSON{ID: c.ID, Name: c.Name})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) handleCreateAtelierCategory(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, err := s.Ateliers.AddCategory(r.Context(), p, in.Name)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": c.ID, "name": c.Name})
}

func (s *Server) handleCreateAtelier(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Title                     string     `json:"title"`
		Description               string     `json:"description"`
		CategoryID                string     `json:"category_id"`
		Audience                  string     `json:"audience"`
		Seats                     int        `json:"seats"`
		PriceCents                int64      `json:"price_cents"`
		Pricing                   string     `json:"pricing"`
		CreditCents               int64      `json:"credit_cents"`
		PlanIDs                   []string   `json:"plan_ids"`
		QualificationID           string     `json:"qualification_id"`
		QualificationMonths       int        `json:"qualification_months"`
		ResourceIDs               []string   `json:"resource_ids"`
		AnimateurIDs              []string   `json:"animateur_ids"`
		RegistrationOpensAt       *time.Time `json:"registration_opens_at"`
		RegistrationClosesMinutes int        `json:"registration_closes_minutes"`
		CancelBeforeMinutes       int        `json:"cancel_before_minutes"`
		Sessions                  []struct {
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"sessions"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	n := ateliers.NewAtelier{Title: in.Title, Description: in.Description, CategoryID: in.CategoryID, Audience: in.Audience, Seats: in.Seats,
		PriceCents: in.PriceCents, Pricing: in.Pricing, CreditCents: in.CreditCents, PlanIDs: in.PlanIDs, QualificationID: in.QualificationID, QualificationMonths: in.QualificationMonths, ResourceIDs: in.ResourceIDs,
		AnimateurIDs: in.AnimateurIDs, RegistrationOpensAt: in.RegistrationOpensAt, RegistrationClosesMinutes: in.RegistrationClosesMinutes,
		CancelBeforeMinutes: in.CancelBeforeMinutes}
	for _, ss := range in.Sessions {
		n.Sessions = append(n.Sessions, ateliers.SessionInput{Start: ss.Start, End: ss.End})
	}
	a, err := s.Ateliers.Create(r.Context(), p, r.PathValue("site_id"), n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/ateliers/"+a.ID)
	writeJSON(w, http.StatusCreated, toAtelierJSON(a))
}

// handleListAteliers is a site's agenda; without sign-in, the public one.
func (s *Server) handleListAteliers(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	as, err := s.Ateliers.List(r.Context(), identity.PrincipalFrom(r.Context()), r.PathValue("site_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]atelierJSON, 0, len(as))
	for _, a := range as {
		items = append(items, toAtelierJSON(a))
	}
	site, err := s.Ateliers.AgendaSite(r.Context(), r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "site": toAgendaSiteJSON(site)})
}

// handleAteliersFeed is the public agenda as iCalendar.
func (s *Server) handleAteliersFeed(w http.ResponseWriter, r *http.Request) {
	f, err := s.Ateliers.AgendaFeed(r.Context(), r.PathValue("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeFeed(w, r, f)
}

func (s *Server) handleGetAtelier(w http.ResponseWriter, r *http.Request) {
	a, err := s.Ateliers.Get(r.Context(), identity.PrincipalFrom(r.Context()), r.PathValue("atelier_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAtelierJSON(a))
}

func (s *Server) handleCancelAtelierSession(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if _, err := s.Ateliers.CancelSession(r.Context(), p, r.PathValue("atelier_id"), r.PathValue("session_id"), in.Reason); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.Ateliers.Get(r.Context(), p, r.PathValue("atelier_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAtelierJSON(a))
}

func (s *Server) handleRegisterAtelier(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		SessionIDs []string `json:"session_ids"`
		UserID     string   `json:"user_id"`
		GuestID    string   `json:"guest_id"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	who := in.UserID
	if in.GuestID != "" {
		if who != "" {
			s.writeError(w, r, badRequest(http.StatusUnprocessableEntity, "validation_failed", "guest_id", "give user_id or guest_id, not both"))
			return
		}
		who = in.GuestID // a guest is served by their account's id
	}
	rs, err := s.Ateliers.Register(r.Context(), p, r.PathValue("atelier_id"), in.SessionIDs, who)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, listOf(rs, toRegistrationJSON))
}

func (s *Server) handleListRegistrations(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	rs, err := s.Ateliers.Registrations(r.Context(), p, r.PathValue("atelier_id"), r.URL.Query().Get("session_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(rs, toRegistrationJSON))
}

func (s *Server) handleMyRegistrations(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	rs, err := s.Ateliers.MyRegistrations(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(rs, toRegistrationJSON))
}

func (s *Server) handleCancelRegistration(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	reg, err := s.Ateliers.Cancel(r.Context(), p, r.PathValue("registration_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRegistrationJSON(reg))
}

func (s *Server) handleSetAttendance(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Attendance string `json:"attendance"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	reg, err := s.Ateliers.SetAttendance(r.Context(), p, r.PathValue("registration_id"), in.Attendance)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRegistrationJSON(reg))
}
