package devices

import (
	"context"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// Who may do what with the registry. Every operation that a caller starts
// goes through one of these rules; what a caller may not even read is
// answered as not found, so that its existence stays hidden.

// mayManage: the site's managers and admins, and API keys of the site with
// sites:write.
func mayManage(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && p.HasScope(identity.ScopeSitesWrite)
}

// mayRead: every user (a member's app shows the doors it may open), and API
// keys of the site with devices:read.
func mayRead(p *identity.Principal, siteID string) bool {
	if p.IsAPIKey() {
		return p.ManagesSite(siteID) && p.HasScope(identity.ScopeDevicesRead)
	}
	return true
}

// mayReadBridges: the site's managers and admins, and API keys of the site
// that may read devices. A bridge is infrastructure: members see the doors
// behind it, not it.
func mayReadBridges(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID) && (!p.IsAPIKey() || p.HasScope(identity.ScopeDevicesRead))
}

// SeesSetup reports whether p sees how a device of siteID is set up (its
// protocol, address, topics, MQTT username, login problems): the site's
// managers do; members see which door it is and whether it is online.
func SeesSetup(p *identity.Principal, siteID string) bool {
	return p.ManagesSite(siteID)
}

// refuseSite is the refusal of a change to siteID's registry: 403 when p
// may know the site, 404 otherwise.
func refuseSite(p *identity.Principal, siteID string) error {
	if identity.CanReadSite(p, siteID) {
		return errs.ErrForbidden
	}
	return errSiteNotFound
}

// readable returns d when p may read it, or not found.
func readable(p *identity.Principal, d *Device, err error) (*Device, error) {
	if err != nil {
		return nil, err
	}
	if !mayRead(p, d.SiteID) {
		return nil, errDeviceNotFound
	}
	return d, nil
}

// manageable returns device deviceID when p may change it: not found when p
// may not read it, forbidden when p may read but not change it.
func (s *Service) manageable(ctx context.Context, p *identity.Principal, deviceID string) (*Device, error) {
	d, err := s.DeviceFor(ctx, p, deviceID)
	if err != nil {
		return nil, err
	}
	if !mayManage(p, d.SiteID) {
		return nil, errs.ErrForbidden
	}
	return d, nil
}

// manageableBridge is manageable for a bridge.
func (s *Service) manageableBridge(ctx context.Context, p *identity.Principal, bridgeID string) (*Bridge, error) {
	b, err := s.BridgeFor(ctx, p, bridgeID)
	if err != nil {
		return nil, err
	}
	if !mayManage(p, b.SiteID) {
		return nil, errs.ErrForbidden
	}
	return b, nil
}

// DeviceFor returns a device, retired or not, that p may read.
func (s *Service) DeviceFor(ctx context.Context, p *identity.Principal, deviceID string) (*Device, error) {
	d, err := s.Get(ctx, deviceID)
	return readable(p, d, err)
}

// CommandTargetFor is DeviceFor reading the device as ForCommand does (from
// the command cache): the device p is about to command.
func (s *Service) CommandTargetFor(ctx context.Context, p *identity.Principal, deviceID string) (*Device, error) {
	d, err := s.ForCommand(ctx, deviceID)
	return readable(p, d, err)
}

// ListFor returns a site's devices in service when p may read them; a site
// p may not read, or that does not exist, is not found.
func (s *Service) ListFor(ctx context.Context, p *identity.Principal, siteID string) ([]Device, error) {
	if !mayRead(p, siteID) {
		return nil, errSiteNotFound
	}
	if err := s.siteExists(ctx, siteID); err != nil {
		return nil, err
	}
	return s.List(ctx, siteID)
}

// BridgeFor returns a bridge, retired or not, that p may read.
func (s *Service) BridgeFor(ctx context.Context, p *identity.Principal, bridgeID string) (*Bridge, error) {
	b, err := s.GetBridge(ctx, bridgeID)
	if err != nil {
		return nil, err
	}
	if !mayReadBridges(p, b.SiteID) {
		return nil, errBridgeNotFound
	}
	return b, nil
}

// siteExists answers errSiteNotFound for a site calendar does not know.
func (s *Service) siteExists(ctx context.Context, siteID string) error {
	ok, err := s.places.SiteExists(ctx, s.db, siteID)
	if err != nil {
		return err
	}
	if !ok {
		return errSiteNotFound
	}
	return nil
}
