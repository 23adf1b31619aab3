package access

import (
	"context"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may use machines and read the audit. The door's own rule (who may
// open it, and when) is the gate's decision itself: see Unlock and
// CheckDoor.

var (
	errResourceNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "resource_not_found", Detail: "no such resource"}
	errSiteNotFound     = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	errNotYourSession   = &errs.Problem{Kind: errs.ErrForbidden, Code: "not_your_session", Detail: "another member is using this machine"}
)

// mayStopAny: the site's managers and admins, and API keys of the site with
// sites:write, stop anyone's session; members stop their own.
func mayStopAny(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeSitesWrite)
}

// MayAudit is the rule of a site's access events (list and CSV export):
// its managers and admins, and API keys of the site with
// access-events:read. The refusal is a 403 to whoever may know the site,
// a 404 otherwise.
func MayAudit(p *identity.Principal, siteID string) error {
	if p.ManagesSite(siteID) && p.HasScope(identity.ScopeAccessRead) {
		return nil
	}
	if identity.CanReadSite(p, siteID) {
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// MayReadOwnEvents: a member reads their own access events; an API key has
// none.
func MayReadOwnEvents(p *identity.Principal) error {
	if p.IsAPIKey() {
		return errs.ErrForbidden
	}
	return nil
}

// machineSiteFor returns the site of a machine p may see, or not found.
func (g *Gate) machineSiteFor(ctx context.Context, p *identity.Principal, resourceID string) (string, error) {
	siteID, err := g.MachineSite(ctx, resourceID)
	if err != nil {
		return "", err
	}
	if !identity.CanReadSite(p, siteID) {
		return "", errResourceNotFound
	}
	return siteID, nil
}

// StartSessionFor switches a machine on for p, a member (an API key is no
// one who could stand at the machine).
func (g *Gate) StartSessionFor(ctx context.Context, p *identity.Principal, resourceID string) (*Session, error) {
	if _, err := g.machineSiteFor(ctx, p, resourceID); err != nil {
		return nil, err
	}
	if p.IsAPIKey() {
		return nil, errs.ErrForbidden
	}
	return g.StartSession(ctx, p.UserID, resourceID)
}

// CurrentSessionFor returns the machine's running session as p may see it:
// whole to its member and the site's managers; to other members, only that
// the machine is busy and until when.
func (g *Gate) CurrentSessionFor(ctx context.Context, p *identity.Principal, resourceID string) (*Session, error) {
	siteID, s, err := g.runningSessionFor(ctx, p, resourceID)
	if err != nil {
		return nil, err
	}
	if s.UserID != p.UserID && !p.ManagesSite(siteID) {
		return &Session{ID: s.ID, SiteID: s.SiteID, ResourceID: s.ResourceID, DeviceID: s.DeviceID,
			StartedAt: s.StartedAt, EndsAt: s.EndsAt}, nil
	}
	return s, nil
}

// runningSessionFor returns the machine's site and running session, once
// p may know the machine (machineSiteFor).
func (g *Gate) runningSessionFor(ctx context.Context, p *identity.Principal, resourceID string) (string, *Session, error) {
	siteID, err := g.machineSiteFor(ctx, p, resourceID)
	if err != nil {
		return "", nil, err
	}
	s, err := g.CurrentSession(ctx, resourceID)
	if err != nil {
		return "", nil, err
	}
	return siteID, s, nil
}

// StopSessionFor switches the machine off: its member, or a manager of the
// site.
func (g *Gate) StopSessionFor(ctx context.Context, p *identity.Principal, resourceID string) (*Session, error) {
	siteID, s, err := g.runningSessionFor(ctx, p, resourceID)
	if err != nil {
		return nil, err
	}
	if s.UserID != p.UserID && !mayStopAny(p, siteID) {
		return nil, errNotYourSession
	}
	return g.StopSession(ctx, s, p.UserID)
}
