package api

import (
	"net/http"

	"github.com/relais-tierslieux/relais/calendar"
	"github.com/relais-tierslieux/relais/identity"
)

// meJSON is the caller's own account: a user, with what only its owner
// sees (the sites they manage, their profile).
type meJSON struct {
	userJSON
	Language       string                 `json:"language"`
	Phone          *string                `json:"phone"`
	BillingAddress *buyerInput            `json:"billing_address"`
	Notifications  identity.Notifications `json:"notifications"`
	PendingEmail   *string                `json:"pending_email"`
}

func toMeJSON(u *identity.User, p *identity.Principal) meJSON {
	out := meJSON{userJSON: toUserJSON(u), Language: u.Language, Notifications: u.NotificationsOf(), PendingEmail: u.PendingEmail}
	out.ManagedSiteIDs = p.ManagedSites
	if u.Phone != "" {
		out.Phone = &u.Phone
	}
	if a := u.BillingAddress; a != nil {
		out.BillingAddress = &buyerInput{Name: a.Name, IsBusiness: a.IsBusiness, SIREN: a.SIREN, VATNumber: a.VATNumber,
			Address: calendar.Address{Line1: a.Line1, Line2: a.Line2, PostalCode: a.PostalCode, City: a.City, Country: a.Country}}
	}
	return out
}

// notificationsPatch is the mail a member turns on or off; absent fields stay.
type notificationsPatch struct {
	Bookings              *bool `json:"bookings"`
	Reminders             *bool `json:"reminders"`
	WaitingList           *bool `json:"waiting_list"`
	Membership            *bool `json:"membership"`
	Credits               *bool `json:"credits"`
	Machines              *bool `json:"machines"`
	Devices               *bool `json:"devices"`
	NewSignIn             *bool `json:"new_sign_in"`
	ReminderMinutesBefore *int  `json:"reminder_minutes_before"`
}

func (s *Server) handleGetMe(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	u, err := s.Access.Me(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMeJSON(u, p))
}

func (s *Server) handlePatchMe(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := identity.MayActAsMe(p); err != nil {
		s.writeError(w, r, err)
		return
	}
	var in struct {
		Name            *string              `json:"name"`
		CurrentPassword *string              `json:"current_password"`
		NewPassword     *string              `json:"new_password"`
		Language        *string              `json:"language"`
		Phone           optional[string]     `json:"phone"`
		BillingAddress  optional[buyerInput] `json:"billing_address"`
		Notifications   *notificationsPatch  `json:"notifications"`
		Email           *string              `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	up := identity.MeUpdate{Name: in.Name, CurrentPassword: in.CurrentPassword, NewPassword: in.NewPassword, Language: in.Language, Email: in.Email}
	if in.Phone.Set {
		phone := in.Phone.Value // null removes it, as "" does
		up.Phone = &phone
	}
	if b := in.BillingAddress.ptr(); b != nil {
		up.BillingAddress = &identity.BillingAddress{Name: b.Name, Line1: b.Address.Line1, Line2: b.Address.Line2, PostalCode: b.Address.PostalCode,
			City: b.Address.City, Country: b.Address.Country, IsBusiness: b.IsBusiness, SIREN: b.SIREN, VATNumber: b.VATNumber}
	}
	up.ClearBillingAddress = in.BillingAddress.Set && in.BillingAddress.Null
	if n := in.Notifications; n != nil {
		up.Notifications = &identity.NotificationsPatch{Bookings: n.Bookings, Reminders: n.Reminders, WaitingList: n.WaitingList,
			Membership: n.Membership, Credits: n.Credits, Machines: n.Machines, Devices: n.Devices, NewSignIn: n.NewSignIn,
			ReminderMinutesBefore: n.ReminderMinutesBefore}
	}
	u, err := s.Access.UpdateMe(r.Context(), p, up, s.clientInfo(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMeJSON(u, p))
}

func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	after, limit, err := page(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pg, err := s.Access.ListUsers(r.Context(), p, after, limit, r.URL.Query().Get("email"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := list[userJSON]{Items: make([]userJSON, len(pg.Items)), NextCursor: cursor(pg.NextCursor)}
	for i := range pg.Items {
		out.Items[i] = toUserJSON(&pg.Items[i])
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	u, err := s.Access.GetUser(r.Context(), p, r.PathValue("user_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) handlePatchUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	var in struct {
		Name     *string `json:"name"`
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Access.UpdateUser(r.Context(), p, r.PathValue("user_id"), identity.UserUpdate{Name: in.Name, Role: in.Role, Disabled: in.Disabled})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) handleDeleteUser(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Privacy.EraseUser(r.Context(), p, r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
