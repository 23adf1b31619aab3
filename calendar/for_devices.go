package calendar

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/id"
)

// DevicePlaces answers the device registry's questions about sites and
// resources, so that devices never reads calendar's tables. It holds no
// state: the registry asks inside its own transaction, through idb.
type DevicePlaces struct{}

// SiteExists reports whether siteID names a site.
func (DevicePlaces) SiteExists(ctx context.Context, idb bun.IDB, siteID string) (bool, error) {
	if !id.Valid(siteID) {
		return false, nil
	}
	n, err := idb.NewSelect().Model((*Site)(nil)).Where("id = ?", siteID).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read site: %w", err)
	}
	return n > 0, nil
}

// IsHostPlace reports whether siteID is a host place, where no device is
// installed (host.go).
func (DevicePlaces) IsHostPlace(ctx context.Context, idb bun.IDB, siteID string) (bool, error) {
	n, err := idb.NewSelect().Model((*Site)(nil)).Where("id = ? AND kind = ?", siteID, SiteHost).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("read site: %w", err)
	}
	return n > 0, nil
}

// ResourceSite returns the site and kind of a resource in service, or
// calendar's resource_not_found (errs.ErrNotFound) when there is none (retired resources included).
func (DevicePlaces) ResourceSite(ctx context.Context, idb bun.IDB, resourceID string) (siteID, kind string, err error) {
	if !id.Valid(resourceID) {
		return "", "", errResourceNotFound
	}
	var r Resource
	err = idb.NewSelect().Model(&r).Column("site_id", "kind").
		Where("id = ?", resourceID).Where("retired_at IS NULL").Scan(ctx)
	switch {
	case isNoRows(err):
		return "", "", errResourceNotFound
	case err != nil:
		return "", "", fmt.Errorf("read resource: %w", err)
	}
	return r.SiteID, r.Kind, nil
}
