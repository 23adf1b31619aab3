package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

// NewAPIKey is a request for an integration key.
type NewAPIKey struct {
	Name    string
	Scopes  []string
	SiteIDs []string
}

// CreateAPIKey creates a key for an integration and returns it with its
// secret, which is shown once and stored only as a hash. A manager's key is
// limited to sites they manage; an admin's key without sites covers all.
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, in NewAPIKey) (*APIKey, string, error) {
	if p == nil || p.IsAPIKey() || (!p.IsAdmin() && !p.IsManager()) {
		return nil, "", errs.ErrForbidden
	}
	var v errs.Validator
	checkName(&v, "name", in.Name)
	v.Check(len(in.Scopes) > 0, "scopes", "must list at least one scope")
	for i, sc := range in.Scopes {
		v.Check(slices.Contains(KnownScopes, sc), fmt.Sprintf("scopes[%d]", i), "unknown scope %q (known: %s)", sc, strings.Join(KnownScopes, ", "))
	}
	if !p.IsAdmin() {
		v.Check(len(in.SiteIDs) > 0, "site_ids", "a manager's key must name the sites it may act on")
	}
	for i, site := range in.SiteIDs {
		v.Check(p.ManagesSite(site), fmt.Sprintf("site_ids[%d]", i), "you do not manage this site")
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret := apiKeyPrefix + id.Secret(32)
	k := &APIKey{
		ID: id.New(), Name: strings.TrimSpace(in.Name), Prefix: secret[:len(apiKeyPrefix)+6],
		KeyHash: hashToken(secret), Scopes: dedupe(in.Scopes), SiteIDs: dedupe(in.SiteIDs),
		CreatedBy: p.UserID, CreatedAt: s.now(),
	}
	if _, err := s.db.NewInsert().Model(k).Exec(ctx); err != nil {
		return nil, "", fmt.Errorf("insert api key: %w", err)
	}
	return k, secret, nil
}

func dedupe(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// ListAPIKeys lists the keys an admin may see (all) or a manager created.
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal) ([]APIKey, error) {
	if p == nil || p.IsAPIKey() || (!p.IsAdmin() && !p.IsManager()) {
		return nil, errs.ErrForbidden
	}
	var keys []APIKey
	q := s.db.NewSelect().Model(&keys).Order("id")
	if !p.IsAdmin() {
		q = q.Where("created_by = ?", p.UserID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

var errKeyNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "api_key_not_found", Detail: "no such API key"}

// GetAPIKey returns a key an admin (any) or its creating manager may see.
func (s *Service) GetAPIKey(ctx context.Context, p *Principal, keyID string) (*APIKey, error) {
	if p == nil || p.IsAPIKey() || (!p.IsAdmin() && !p.IsManager()) {
		return nil, errs.ErrForbidden
	}
	if !id.Valid(keyID) {
		return nil, errKeyNotFound
	}
	var k APIKey
	q := s.db.NewSelect().Model(&k).Where("id = ?", keyID)
	if !p.IsAdmin() {
		q = q.Where("created_by = ?", p.UserID)
	}
	if err := q.Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errKeyNotFound
		}
		return nil, fmt.Errorf("get api key: %w", err)
	}
	return &k, nil
}

// RevokeAPIKey stops a key from working. Revoking twice is not an error.
func (s *Service) RevokeAPIKey(ctx context.Context, p *Principal, keyID string) error {
	if p == nil || p.IsAPIKey() || (!p.IsAdmin() && !p.IsManager()) {
		return errs.ErrForbidden
	}
	q := s.db.NewUpdate().Model((*APIKey)(nil)).Set("revoked_at = COALESCE(revoked_at, ?)", s.now()).Where("id = ?", keyID)
	if !p.IsAdmin() {
		q = q.Where("created_by = ?", p.UserID)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errKeyNotFound
	}
	return nil
}

func (s *Service) authenticateAPIKey(ctx context.Context, secret string) (*Principal, error) {
	var k APIKey
	if err := s.db.NewSelect().Model(&k).Where("key_hash = ?", hashToken(secret)).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errBadAccess
		}
		return nil, fmt.Errorf("find api key: %w", err)
	}
	if k.RevokedAt != nil {
		return nil, errBadAccess
	}
	// A key acts with the rights of its creator at most: if the creator lost
	// a site or the account, the key loses it too.
	var creator User
	if err := s.db.NewSelect().Model(&creator).Where("id = ?", k.CreatedBy).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find api key creator: %w", err)
	}
	if !creator.Active() {
		return nil, errBadAccess
	}
	p := &Principal{APIKeyID: k.ID, Scopes: k.Scopes}
	if creator.Role == RoleAdmin {
		p.SiteIDs = k.SiteIDs
		p.AllSites = len(k.SiteIDs) == 0
	} else {
		managed, err := s.managedSites(ctx, creator.ID)
		if err != nil {
			return nil, err
		}
		for _, site := range k.SiteIDs {
			if slices.Contains(managed, site) {
				p.SiteIDs = append(p.SiteIDs, site)
			}
		}
	}
	now := s.now()
	// Record use at most once a minute, to keep authentication read-mostly.
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > time.Minute {
		if _, err := s.db.NewUpdate().Model((*APIKey)(nil)).Set("last_used_at = ?", now).Where("id = ?", k.ID).Exec(ctx); err != nil {
			return nil, fmt.Errorf("touch api key: %w", err)
		}
	}
	return p, nil
}
