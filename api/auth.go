package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/freetext"
)

type userJSON struct {
	ID             string    `json:"id"`
	Email          string    `json:"email"`
	Name           string    `json:"name"`
	Role           string    `json:"role"`
	Disabled       bool      `json:"disabled"`
	EmailVerified  bool      `json:"email_verified"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ManagedSiteIDs []string  `json:"managed_site_ids,omitempty"`
}

func toUserJSON(u *identity.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.DisabledAt != nil,
		EmailVerified: u.EmailVerifiedAt != nil, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type tokensJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

func toTokensJSON(t *identity.Tokens) tokensJSON {
	return tokensJSON{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, TokenType: "Bearer", ExpiresIn: int(t.ExpiresIn.Seconds())}
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
		Language string `json:"language"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Access.LimitIP(r.Context(), "register", s.clientIP(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Access.Register(r.Context(), identity.Registration{Email: in.Email, Password: in.Password, Name: in.Name, Language: in.Language})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/users/"+u.ID)
	writeJSON(w, http.StatusCreated, toUserJSON(u))
}

// clientInfo is what a session remembers of the client. The User-Agent is
// the client software's, not the person's: rather than refuse a login for
// it, what the text rule would refuse (bytes that are not UTF-8, which
// PostgreSQL cannot store; control characters) is replaced.
func (s *Server) clientInfo(r *http.Request) identity.ClientInfo {
	return identity.ClientInfo{IP: s.clientIP(r), UserAgent: freetext.Clean(r.UserAgent(), 1000)}
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		// Session "cookie" keeps the tokens in HttpOnly cookies (a
		// browser app); "" or "tokens" answers them.
		Session string `json:"session"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Session != "" && in.Session != "tokens" && in.Session != "cookie" {
		s.writeError(w, r, errs.Invalid("session", "must be tokens or cookie"))
		return
	}
	t, err := s.Access.Login(r.Context(), in.Email, in.Password, s.clientInfo(r))
	if err != nil {
		s.unauthorized(w, r, err)
		return
	}
	if in.Session == "cookie" {
		s.setSessionCookies(w, t)
		return
	}
	writeJSON(w, http.StatusOK, toTokensJSON(t))
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.RefreshToken == "" && cookieValue(r, cookieRefresh) != "" {
		s.refreshCookieSession(w, r)
		return
	}
	t, err := s.Access.Refresh(r.Context(), in.RefreshToken, s.clientInfo(r))
	if err != nil {
		s.unauthorized(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTokensJSON(t))
}

// refreshCookieSession rotates a browser's session from its refresh
// cookie. The access cookie may have expired, so the CSRF check cannot
// start from it: the header must repeat the CSRF cookie (which another
// site can neither read nor, with the __Host- prefix, set), and name the
// session the refresh token belongs to.
func (s *Server) refreshCookieSession(w http.ResponseWriter, r *http.Request) {
	csrf := r.Header.Get(csrfHeader)
	if csrf == "" || csrf != cookieValue(r, cookieCSRF) {
		s.writeError(w, r, errCSRF)
		return
	}
	t, err := s.Access.Refresh(r.Context(), cookieValue(r, cookieRefresh), s.clientInfo(r))
	if err != nil {
		clearSessionCookies(w)
		s.unauthorized(w, r, err)
		return
	}
	if !s.Access.CheckCSRF(t.SessionID, csrf) {
		// Cookies of two sessions mixed: keep neither.
		if err := s.Access.Logout(r.Context(), &identity.Principal{UserID: t.UserID, SessionID: t.SessionID}); err != nil {
			s.log.WarnContext(r.Context(), "end a session refreshed with another's CSRF token", slog.Any("error", err))
		}
		clearSessionCookies(w)
		s.writeError(w, r, errCSRF)
		return
	}
	s.setSessionCookies(w, t)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.LogoutFor(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	clearSessionCookies(w)
	w.WriteHeader(http.StatusNoContent)
}

// handleVerifyEmail takes the token of a mailed link. Contributions made
// with this address before the account existed (an imported crowdfunding
// export) become the member's now, and not before: an address nobody
// proved to read must not collect a backer's credit. Should the claim
// fail, reading their credit retries it.
func (s *Server) handleVerifyEmail(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Access.LimitIP(r.Context(), "verify-email", s.clientIP(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.Access.VerifyEmail(r.Context(), in.Token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.Campaigns != nil {
		if err := s.Campaigns.ClaimContributions(r.Context(), u.ID); err != nil {
			s.log.Warn("claim contributions", "user_id", u.ID, "error", err)
		}
	}
	writeJSON(w, http.StatusOK, toUserJSON(u))
}

// handleSendEmailVerification mails the member a new link.
func (s *Server) handleSendEmailVerification(w http.ResponseWriter, r *http.Request, p *identity.Principal) {
	if err := s.Access.SendEmailVerificationFor(r.Context(), p); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// handlePasswordReset answers 202 whether the address has an account or
// not; identity mails the link through a job.
func (s *Server) handlePasswordReset(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Access.RequestPasswordReset(r.Context(), in.Email, s.clientInfo(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) handlePasswordResetConfirm(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token       string `json:"token"`
		NewPassword string `json:"new_password"`
	}
	if err := decode(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Access.ResetPassword(r.Context(), in.Token, in.NewPassword, s.clientInfo(r)); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
