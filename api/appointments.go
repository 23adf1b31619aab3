package api

import (
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/appointments"
	"github.com/relais-tierslieux/relais/identity"
)

// Appointments with public services (package appointments decides who may).

type purposeJSON struct {
	ID        string   `json:"id,omitempty"`
	Name      string   `json:"name"`
	Documents []string `json:"documents"`
}

type partnerJSON struct {
	ID        string  `json:"id"`
	SiteID    *string `json:"site_id"`
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	VideoMode string  `json:"video_mode"`
	// VideoBaseURL: where video_mode generated makes its rooms.
	VideoBaseURL *string       `json:"video_base_url"`
	Active       bool          `json:"active"`
	Purposes     []purposeJSON `json:"purposes"`
}

func toPartnerJSON(pt *appointments.Partner) partnerJSON {
	out := partnerJSON{ID: pt.ID, SiteID: pt.SiteID, Name: pt.Name, Kind: pt.Kind, VideoMode: pt.VideoMode, VideoBaseURL: pt.VideoBaseURL, Active: pt.Active,
		Purposes: []purposeJSON{}}
	for _, p := range pt.Purposes {
		docs := p.Documents
		if docs == nil {
			docs = []string{}
		}
		out.Purposes = append(out.Purposes, purposeJSON{ID: p.ID, Name: p.Name, Documents: docs})
	}
	return out
}

func toPurposeInputs(in []purposeJSON) []appointments.PurposeInput {
	out := make([]appointments.PurposeInput, 0, len(in))
	for _, p := range in {
		out = append(out, appointments.PurposeInput{ID: p.ID, Name: p.Name, Documents: p.Documents})
	}
	return out
}

type windowJSON struct {
	ID          string  `json:"id"`
	PartnerID   string  `json:"partner_id"`
	SiteID      string  `json:"site_id"`
	ResourceID  string  `json:"resource_id"`
	AgentID     *string `json:"agent_id"`
	Weekday     *string `json:"weekday"`
	From        string  `json:"from"`
	Until       *string `json:"until"`
	Start       string  `json:"start"`
	End         string  `json:"end"`
	SlotMinutes int     `json:"slot_minutes"`
	Status      string  `json:"status"`
}

func toWindowJSON(w *appointments.Window) windowJSON {
	return windowJSON{ID: w.ID, PartnerID: w.PartnerID, SiteID: w.SiteID, ResourceID: w.ResourceID, AgentID: w.AgentID, Weekday: w.Weekday,
		From: w.ValidFrom, Until: w.ValidUntil, Start: w.StartTime, End: w.EndTime, SlotMinutes: w.SlotMinutes, Status: w.Status}
}

type appointmentJSON struct {
	ID          string     `json:"id"`
	PartnerID   string     `json:"partner_id"`
	WindowID    string     `json:"window_id"`
	SiteID      string     `json:"site_id"`
	ResourceID  string     `json:"resource_id"`
	UserID      string     `json:"user_id"`
	Name        string     `json:"name,omitempty"`
	AgentID     *string    `json:"agent_id"`
	PurposeID   string     `json:"purpose_id"`
	Purpose     string     `json:"purpose"`
	Checklist   []string   `json:"checklist"`
	VideoURL    *string    `json:"video_url"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	Status      string     `json:"status"`
	Outcome     *string    `json:"outcome"`
	OutcomeNote *string    `json:"outcome_note,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
}

func toAppointmentJSON(v appointments.View) appointmentJSON {
	a := v.Appointment
	out := appointmentJSON{ID: a.ID, PartnerID: a.PartnerID, WindowID: a.WindowID, SiteID: a.SiteID, ResourceID: a.ResourceID, UserID: a.UserID,
		AgentID: a.AgentID, PurposeID: a.PurposeID, Purpose: a.Purpose, Checklist: a.Checklist, VideoURL: a.VideoURL, Start: a.StartsAt.UTC(),
		End: a.EndsAt.UTC(), Status: a.Status, Outcome: a.Outcome, CreatedAt: a.CreatedAt.UTC(), CancelledAt: utcPtr(a.CancelledAt), Name: v.Name}
	if out.Checklist == nil {
		out.Checklist = []string{}
	}
	if v.ShowNote {
		out.OutcomeNote = a.OutcomeNote
	}
	return out
}

func (s *Server) handleCreatePartner(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		SiteID       string        `json:"site_id"`
		Name         string        `json:"name"`
		Kind         string        `json:"kind"`
		VideoMode    string        `json:"video_mode"`
		VideoBaseURL string        `json:"video_base_url"`
		Purposes     []purposeJSON `json:"purposes"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	pt, err := s.Appointments.CreatePartner(r.Context(), p, appointments.NewPartner{SiteID: in.SiteID, Name: in.Name, Kind: in.Kind,
		VideoMode: in.VideoMode, VideoBaseURL: in.VideoBaseURL, Purposes: toPurposeInputs(in.Purposes)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/partners/"+pt.ID)
	writeJSON(w, http.StatusCreated, toPartnerJSON(pt))
}

func (s *Server) handleListPartners(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	pts, err := s.Appointments.Partners(r.Context(), p, r.URL.Query().Get("site_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(pts, toPartnerJSON))
}

func (s *Server) handleGetPartner(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	pt, err := s.Appointments.Partner(r.Context(), p, r.PathValue("partner_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPartnerJSON(pt))
}

func (s *Server) handlePatchPartner(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name         *string        `json:"name"`
		Kind         *string        `json:"kind"`
		VideoMode    *string        `json:"video_mode"`
		VideoBaseURL *string        `json:"video_base_url"`
		Active       *bool          `json:"active"`
		Purposes     *[]purposeJSON `json:"purposes"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := appointments.PartnerUpdate{Name: in.Name, Kind: in.Kind, VideoMode: in.VideoMode, VideoBaseURL: in.VideoBaseURL, Active: in.Active}
	if in.Purposes != nil {
		ps := toPurposeInputs(*in.Purposes)
		up.Purposes = &ps
	}
	pt, err := s.Appointments.UpdatePartner(r.Context(), p, r.PathValue("partner_id"), up)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPartnerJSON(pt))
}

type agentJSON struct {
	PartnerID string  `json:"partner_id"`
	UserID    string  `json:"user_id"`
	Name      string  `json:"name"`
	VideoURL  *string `json:"video_url"`
}

func (s *Server) handleAddAgent(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		UserID   string `json:"user_id"`
		Email    string `json:"email"`
		VideoURL string `json:"video_url"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.Appointments.AddAgent(r.Context(), p, r.PathValue("partner_id"), in.UserID, in.Email, in.VideoURL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, agentJSON{PartnerID: a.PartnerID, UserID: a.UserID, Name: a.Name, VideoURL: a.VideoURL})
}

func (s *Server) handleRemoveAgent(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Appointments.RemoveAgent(r.Context(), p, r.PathValue("partner_id"), r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListAgents(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	as, err := s.Appointments.Agents(r.Context(), p, r.PathValue("partner_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]agentJSON, 0, len(as))
	for _, a := range as {
		items = append(items, agentJSON{PartnerID: a.PartnerID, UserID: a.UserID, Name: a.Name, VideoURL: a.VideoURL})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleCreateWindow(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		SiteID      string `json:"site_id"`
		ResourceID  string `json:"resource_id"`
		AgentID     string `json:"agent_id"`
		Weekday     string `json:"weekday"`
		From        string `json:"from"`
		Until       string `json:"until"`
		Start       string `json:"start"`
		End         string `json:"end"`
		SlotMinutes int    `json:"slot_minutes"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	win, err := s.Appointments.CreateWindow(r.Context(), p, r.PathValue("partner_id"), appointments.NewWindow{SiteID: in.SiteID, ResourceID: in.ResourceID,
		AgentID: in.AgentID, Weekday: in.Weekday, From: in.From, Until: in.Until, Start: in.Start, End: in.End, SlotMinutes: in.SlotMinutes})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toWindowJSON(win))
}

func (s *Server) handleListWindows(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	ws, err := s.Appointments.Windows(r.Context(), p, r.PathValue("partner_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, listOf(ws, toWindowJSON))
}

func (s *Server) handleCloseWindow(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	win, err := s.Appointments.CloseWindow(r.Context(), p, r.PathValue("partner_id"), r.PathValue("window_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWindowJSON(win))
}

func (s *Server) handleListSlots(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	from, to, err := s.window(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	slots, err := s.Appointments.Slots(r.Context(), p, r.PathValue("partner_id"), r.URL.Query().Get("site_id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	type slotJSON struct {
		WindowID   string    `json:"window_id"`
		SiteID     string    `json:"site_id"`
		ResourceID string    `json:"resource_id"`
		AgentID    *string   `json:"agent_id"`
		Start      time.Time `json:"start"`
		End        time.Time `json:"end"`
	}
	items := make([]slotJSON, 0, len(slots))
	for _, sl := range slots {
		items = append(items, slotJSON{WindowID: sl.WindowID, SiteID: sl.SiteID, ResourceID: sl.ResourceID, AgentID: sl.AgentID, Start: sl.Start, End: sl.End})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handlePartnerDay(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	vs, err := s.Appointments.Day(r.Context(), p, r.PathValue("partner_id"), r.URL.Query().Get("date"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]appointmentJSON, 0, len(vs))
	for _, v := range vs {
		items = append(items, toAppointmentJSON(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleBookAppointment(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		WindowID  string `json:"window_id"`
		Start     string `json:"start"`
		PurposeID string `json:"purpose_id"`
		UserID    string `json:"user_id"`
		GuestID   string `json:"guest_id"`
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
	a, err := s.Appointments.Book(r.Context(), p, appointments.NewAppointment{WindowID: in.WindowID, Start: in.Start, PurposeID: in.PurposeID, UserID: who})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/appointments/"+a.ID)
	writeJSON(w, http.StatusCreated, toAppointmentJSON(appointments.View{Appointment: a}))
}

func (s *Server) handleGetAppointment(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	v, err := s.Appointments.Get(r.Context(), p, r.PathValue("appointment_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentJSON(v))
}

func (s *Server) handleAppointmentOutcome(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Outcome string  `json:"outcome"`
		Note    *string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.Appointments.SetOutcome(r.Context(), p, r.PathValue("appointment_id"), in.Outcome, in.Note)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentJSON(v))
}

func (s *Server) handleCancelAppointment(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	v, err := s.Appointments.Cancel(r.Context(), p, r.PathValue("appointment_id"), in.Reason)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentJSON(v))
}

func (s *Server) handleRescheduleAppointment(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		WindowID string `json:"window_id"`
		Start    string `json:"start"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.Appointments.Reschedule(r.Context(), p, r.PathValue("appointment_id"), in.WindowID, in.Start)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppointmentJSON(v))
}

func (s *Server) handleMyAppointments(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	vs, err := s.Appointments.Mine(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items := make([]appointmentJSON, 0, len(vs))
	for _, v := range vs {
		items = append(items, toAppointmentJSON(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}
