package identity

import (
	"context"
	"errors"
	"fmt"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
)

var errSiteNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "site_not_found", Detail: "no such site"}

// AddManager makes userID a manager of siteID. Admins only. Adding an
// existing manager again is not an error.
func (s *Service) AddManager(ctx context.Context, p *Principal, siteID, userID string) error {
	defer s.principals.Invalidate() // after the change is committed
	if !p.IsAdmin() {
		return errs.ErrForbidden
	}
	if !id.Valid(siteID) {
		return errSiteNotFound
	}
	if _, err := s.getUser(ctx, s.db, userID); err != nil {
		return errs.Invalid("user_id", "no such user")
	}
	row := siteManager{SiteID: siteID, UserID: userID, CreatedAt: s.now()}
	_, err := s.db.NewInsert().Model(&row).On("CONFLICT (site_id, user_id) DO NOTHING").Exec(ctx)
	if err != nil {
		if errorsIsFK(err) {
			return errSiteNotFound
		}
		return fmt.Errorf("add manager: %w", err)
	}
	return nil
}

// RemoveManager ends userID's rights on siteID. Admins only.
func (s *Service) RemoveManager(ctx context.Context, p *Principal, siteID, userID string) error {
	defer s.principals.Invalidate() // after the change is committed
	if !p.IsAdmin() {
		return errs.ErrForbidden
	}
	res, err := s.db.NewDelete().Model((*siteManager)(nil)).Where("site_id = ? AND user_id = ?", siteID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("remove manager: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &errs.Problem{Kind: errs.ErrNotFound, Code: "manager_not_found", Detail: "this user does not manage this site"}
	}
	return nil
}

// ListManagers returns the managers of a site, for its managers and admins.
func (s *Service) ListManagers(ctx context.Context, p *Principal, siteID string) ([]User, error) {
	if !p.ManagesSite(siteID) || !p.HasScope(ScopeUsersRead) {
		return nil, errs.ErrForbidden
	}
	var users []User
	err := s.db.NewSelect().Model(&users).
		Where("id IN (SELECT user_id FROM site_managers WHERE site_id = ?)", siteID).
		Where("deleted_at IS NULL").Order("email").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list managers: %w", err)
	}
	return users, nil
}

func errorsIsFK(err error) bool {
	return err != nil && errors.Is(db.Classify(err), db.ErrForeignKey)
}
