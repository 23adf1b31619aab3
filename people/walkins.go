package people

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/identity"
	"github.com/relais-tierslieux/relais/internal/db"
)

// sitePerson is a person registered at a site's desk.
type sitePerson struct {
	bun.BaseModel `bun:"table:site_people"`

	SiteID    string    `bun:"site_id,pk"`
	UserID    string    `bun:"user_id,pk"`
	CreatedBy *string   `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// Create registers a walk-in at siteID: a member account (identity's
// CreateWalkIn: an invitation mail when an email is given, none without),
// found at this site's desk from now on. The desk can sell to them at once
// (billing's on-site payment takes their id).
func (s *Service) Create(ctx context.Context, p *identity.Principal, siteID string, in identity.WalkIn) (*Item, error) {
	if err := MayServePeople(p, siteID); err != nil {
		return nil, err
	}
	if err := s.checkSite(ctx, siteID); err != nil {
		return nil, err
	}
	var userID string
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.cfg.Identity.CreateWalkIn(ctx, tx, in)
		if err != nil {
			return err
		}
		userID = u.ID
		return s.register(ctx, tx, siteID, u.ID, p)
	})
	if err != nil {
		return nil, err
	}
	return s.item(ctx, siteID, userID)
}

func (s *Service) register(ctx context.Context, tx bun.IDB, siteID, userID string, p *identity.Principal) error {
	row := sitePerson{SiteID: siteID, UserID: userID, CreatedAt: s.now()}
	if p.UserID != "" && !p.IsAPIKey() {
		row.CreatedBy = &p.UserID
	}
	if _, err := tx.NewInsert().Model(&row).On("CONFLICT (site_id, user_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("register at the site: %w", err)
	}
	return nil
}

// Edit corrects the name, phone or email of a person registered at a
// desk who has not chosen a password yet (MayEditPerson); a new email gets
// the invitation (identity's EditWalkIn).
func (s *Service) Edit(ctx context.Context, p *identity.Principal, siteID, userID string, e identity.WalkInEdit) (*Item, error) {
	if err := s.mayServe(ctx, p, siteID, userID); err != nil {
		return nil, err
	}
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		acct, err := s.deskAccount(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := MayEditPerson(p, siteID, acct); err != nil {
			return err
		}
		_, err = s.cfg.Identity.EditWalkIn(ctx, tx, userID, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.item(ctx, siteID, userID)
}

// deskAccount is what MayEditPerson needs to know of userID's account.
func (s *Service) deskAccount(ctx context.Context, tx bun.IDB, userID string) (DeskAccount, error) {
	people, err := s.cfg.Identity.People(ctx, tx, []string{userID})
	if err != nil {
		return DeskAccount{}, err
	}
	person, ok := people[userID]
	if !ok {
		return DeskAccount{}, errPersonNotFound
	}
	n, err := tx.NewSelect().Model((*sitePerson)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return DeskAccount{}, fmt.Errorf("find desk registration: %w", err)
	}
	return DeskAccount{RegisteredAtDesk: n > 0, AwaitingPassword: person.AwaitingPassword}, nil
}

// mayServe is MayServePeople on a person who must be one of the site's.
func (s *Service) mayServe(ctx context.Context, p *identity.Principal, siteID, userID string) error {
	if err := MayServePeople(p, siteID); err != nil {
		return err
	}
	return s.checkPerson(ctx, siteID, userID)
}

// checkPerson is a 404 for a site or a person the site does not serve.
func (s *Service) checkPerson(ctx context.Context, siteID, userID string) error {
	if err := s.checkSite(ctx, siteID); err != nil {
		return err
	}
	ok, err := s.isRelated(ctx, s.db, siteID, userID)
	if err != nil {
		return err
	}
	if !ok {
		return errPersonNotFound
	}
	return nil
}

// item is one person's list line.
func (s *Service) item(ctx context.Context, siteID, userID string) (*Item, error) {
	items, err := s.items(ctx, siteID, []string{userID})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errPersonNotFound
	}
	return &items[0], nil
}
