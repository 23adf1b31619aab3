package identity

import (
	"context"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// CanReadSite is who may know a site exists: every user (members choose
// where to go), and API keys of that site carrying sites:read. Domains use
// it to choose between 403 (a site you may see but not change) and 404 (a
// site that is not yours to know of).
func CanReadSite(p *Principal, siteID string) bool {
	if !p.IsAPIKey() {
		return true
	}
	return p.HasScope(ScopeSitesRead) && p.ManagesSite(siteID)
}

// Refusals of an API key where only a person may act.
const (
	errKeyIsNotAUser    = errs.Refusal("an API key is not a user; /v1/me needs a user's access token")
	errKeyHasNoSession  = errs.Refusal("an API key has no session; revoke it with DELETE /v1/api-keys/{key_id}")
	errKeyVerifiesNoOne = errs.Refusal("members verify their own address")
)

// MayActAsMe is the rule of /v1/me: a user, never an API key (which acts
// for an integration, not for someone). Handlers ask it before reading a
// body, so a key learns the rule before any mistake in its input.
func MayActAsMe(p *Principal) error {
	if p.IsAPIKey() {
		return errKeyIsNotAUser
	}
	return nil
}

// Me returns the caller's own account.
func (s *Service) Me(ctx context.Context, p *Principal) (*User, error) {
	if err := MayActAsMe(p); err != nil {
		return nil, err
	}
	u, err := s.GetUser(ctx, p, p.UserID)
	if err != nil {
		return nil, err
	}
	return u, s.hidePendingEmailIfLapsed(ctx, u)
}

// LogoutFor ends the caller's session; an API key has none.
func (s *Service) LogoutFor(ctx context.Context, p *Principal) error {
	if p.IsAPIKey() {
		return errKeyHasNoSession
	}
	return s.Logout(ctx, p)
}

// SendEmailVerificationFor mails the caller a new link to verify their
// address.
func (s *Service) SendEmailVerificationFor(ctx context.Context, p *Principal) error {
	if p.IsAPIKey() {
		return errKeyVerifiesNoOne
	}
	return s.SendEmailVerification(ctx, p.UserID)
}
