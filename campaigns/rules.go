package campaigns

import (
	"context"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/ledger"
)

// Who may do what with campaigns. Every operation that needs a decision
// takes the caller's principal and asks these functions, so that a rule
// is written once. Campaigns themselves are public (their page needs no
// login); running one and reading its contributions is for the people
// managing the site.

const errKeyContributes = errs.Refusal("members contribute for themselves")

var (
	errSiteNotFound         = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}
	errContributionNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "contribution_not_found", Detail: "no such contribution"}
)

// mayRunCampaigns: people managing the site (admins, its managers, the
// system), never an API key: campaigns move money.
func mayRunCampaigns(p *identity.Principal, siteID string) bool {
	return !p.IsAPIKey() && p.ManagesSite(siteID)
}

// mayCreateCampaign refuses who may not run the site's campaigns: 403 to
// whoever may know the site exists, 404 to others.
func mayCreateCampaign(p *identity.Principal, siteID string) error {
	switch {
	case mayRunCampaigns(p, siteID):
		return nil
	case p != nil && identity.CanReadSite(p, siteID):
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// mayRunCampaign refuses who may not run an existing campaign (403).
func mayRunCampaign(p *identity.Principal, c *Campaign) error {
	if !mayRunCampaigns(p, c.SiteID) {
		return errs.ErrForbidden
	}
	return nil
}

// mayContribute: members contribute for themselves; an API key does not.
func mayContribute(p *identity.Principal) error {
	switch {
	case p.IsAPIKey():
		return errKeyContributes
	case p == nil || p.UserID == "":
		return errs.ErrForbidden
	}
	return nil
}

// mayReadContribution: its contributor (not through an API key) and those
// who run the campaign; anyone else is told it does not exist.
func mayReadContribution(p *identity.Principal, k *Contribution, c *Campaign) error {
	if p == nil {
		return errContributionNotFound
	}
	if (k.UserID == nil || *k.UserID != p.UserID || p.IsAPIKey()) && !mayRunCampaigns(p, c.SiteID) {
		return errContributionNotFound
	}
	return nil
}

// RunCampaign returns the campaign p runs: 404 when there is none, 403
// when it is not theirs to run. Handlers ask it before reading more of
// their input, so a refusal comes before any mistake in it; the
// operations check again.
func (s *Service) RunCampaign(ctx context.Context, p *identity.Principal, campaignID string) (*Campaign, error) {
	c, err := s.GetCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if err := mayRunCampaign(p, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Contribution returns a contribution and its campaign, for its
// contributor and those who run the campaign; others get 404.
func (s *Service) Contribution(ctx context.Context, p *identity.Principal, contributionID string) (*Contribution, *Campaign, error) {
	k, err := s.GetContribution(ctx, contributionID)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.GetCampaign(ctx, k.CampaignID)
	if err != nil {
		return nil, nil, err
	}
	if err := mayReadContribution(p, k, c); err != nil {
		return nil, nil, err
	}
	return k, c, nil
}

// mayHoldCredit is the ledger's rule: the member's own contributions and
// credit are a user's, never an API key's.
func mayHoldCredit(p *identity.Principal) error { return ledger.MayHoldCredit(p) }
