package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
)

// What other domains may read of an account. identity owns the users
// table: calendar, billing, access and the rest declare the small interface
// they need (Accounts, Contacts…) and receive this Service, instead of
// reading the table by name. Every method takes the caller's bun.IDB so
// that it runs inside the caller's transaction.

// Contact is an account as documents and mail show it.
type Contact struct {
	ID    string
	Name  string
	Email string
	// Active: neither disabled nor deleted.
	Active bool
	// Deleted: the account is gone; what it wrote keeps its name, but
	// nothing new is given to it.
	Deleted bool
}

// Contact returns one account, disabled and deleted ones included (an
// invoice keeps its buyer), or errs.ErrNotFound.
func (s *Service) Contact(ctx context.Context, idb bun.IDB, userID string) (Contact, error) {
	cs, err := s.Contacts(ctx, idb, []string{userID})
	if err != nil {
		return Contact{}, err
	}
	c, ok := cs[userID]
	if !ok {
		return Contact{}, fmt.Errorf("account %s: %w", userID, errs.ErrNotFound)
	}
	return c, nil
}

// Contacts returns the accounts of ids that exist, by id.
func (s *Service) Contacts(ctx context.Context, idb bun.IDB, ids []string) (map[string]Contact, error) {
	out := make(map[string]Contact, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var us []User
	if err := idb.NewSelect().Model(&us).Column("id", "name", "email", "disabled_at", "deleted_at").
		Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	for i := range us {
		out[us[i].ID] = contactOf(&us[i])
	}
	return out, nil
}

// ContactByEmail returns the account, not deleted, that has email
// (compared without case), or errs.ErrNotFound.
func (s *Service) ContactByEmail(ctx context.Context, idb bun.IDB, email string) (Contact, error) {
	cs, err := s.ContactsByEmail(ctx, idb, []string{email})
	if err != nil {
		return Contact{}, err
	}
	c, ok := cs[strings.ToLower(strings.TrimSpace(email))]
	if !ok {
		return Contact{}, fmt.Errorf("account with this email: %w", errs.ErrNotFound)
	}
	return c, nil
}

// ContactsByEmail returns the accounts, not deleted, of these emails, keyed
// by the lower-case email.
func (s *Service) ContactsByEmail(ctx context.Context, idb bun.IDB, emails []string) (map[string]Contact, error) {
	out := make(map[string]Contact, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(strings.TrimSpace(e))
	}
	var us []User
	if err := idb.NewSelect().Model(&us).Column("id", "name", "email", "disabled_at", "deleted_at").
		Where("lower(email) IN (?) AND deleted_at IS NULL", bun.In(lower)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("read accounts by email: %w", err)
	}
	for i := range us {
		out[strings.ToLower(us[i].Email)] = contactOf(&us[i])
	}
	return out, nil
}

// VerifiedEmail returns the email of an account, not deleted, whose owner
// has proved the address theirs; verified is false for an unknown,
// deleted or unverified account.
func (s *Service) VerifiedEmail(ctx context.Context, idb bun.IDB, userID string) (email string, verified bool, err error) {
	var u User
	err = idb.NewSelect().Model(&u).Column("email").
		Where("id = ? AND email_verified_at IS NOT NULL AND deleted_at IS NULL", userID).Scan(ctx)
	switch {
	case isNoRows(err):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("read verified email: %w", err)
	}
	return u.Email, true, nil
}

// HoldAccount keeps the account from being deleted until tx ends, while
// tx writes a row that belongs to it; errs.ErrNotFound when there is no
// such account, deleted or not. On PostgreSQL it takes the row lock that
// still lets others reference the account (FOR NO KEY UPDATE); on SQLite
// the transaction's write lock already holds the whole database.
func (s *Service) HoldAccount(ctx context.Context, tx bun.IDB, userID string) (Contact, error) {
	var u User
	q := tx.NewSelect().Model(&u).Column("id", "name", "email", "disabled_at", "deleted_at").Where("id = ?", userID)
	if err := db.ForNoKeyUpdate(q).Scan(ctx); err != nil {
		if isNoRows(err) {
			return Contact{}, fmt.Errorf("account %s: %w", userID, errs.ErrNotFound)
		}
		return Contact{}, fmt.Errorf("hold account: %w", err)
	}
	return contactOf(&u), nil
}

// CountAdmins counts the administrators' accounts not deleted.
func (s *Service) CountAdmins(ctx context.Context) (int, error) {
	n, err := s.db.NewSelect().Model((*User)(nil)).Where("role = ? AND deleted_at IS NULL", RoleAdmin).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

func contactOf(u *User) Contact {
	return Contact{ID: u.ID, Name: u.Name, Email: u.Email, Active: u.Active(), Deleted: u.DeletedAt != nil}
}

// Recipient is an account as notifications address it: where, in which
// language, and what the member agreed to receive.
type Recipient struct {
	Contact
	// Language is LanguageFrench or LanguageEnglish.
	Language      string
	Notifications Notifications
}

// Recipient returns one account's address, language and notification
// choices (the defaults when it never chose), or errs.ErrNotFound.
func (s *Service) Recipient(ctx context.Context, idb bun.IDB, userID string) (Recipient, error) {
	var u User
	err := idb.NewSelect().Model(&u).Column("id", "name", "email", "disabled_at", "deleted_at", "language", "notifications").
		Where("id = ?", userID).Scan(ctx)
	switch {
	case isNoRows(err):
		return Recipient{}, fmt.Errorf("account %s: %w", userID, errs.ErrNotFound)
	case err != nil:
		return Recipient{}, fmt.Errorf("read recipient: %w", err)
	}
	return recipientOf(&u), nil
}

func recipientOf(u *User) Recipient {
	lang := u.Language
	if lang != LanguageEnglish {
		lang = LanguageFrench
	}
	return Recipient{Contact: contactOf(u), Language: lang, Notifications: u.NotificationsOf()}
}

// SiteManagerRecipients returns the recipients of the managers of siteID
// (site_managers; admins are not a site's managers), by email: those whose
// mail is about the site's own equipment. Deleted accounts are left out;
// the caller still checks Active, the address and the choice.
func (s *Service) SiteManagerRecipients(ctx context.Context, idb bun.IDB, siteID string) ([]Recipient, error) {
	var users []User
	err := idb.NewSelect().Model(&users).Column("id", "name", "email", "disabled_at", "deleted_at", "language", "notifications").
		Where("id IN (SELECT user_id FROM site_managers WHERE site_id = ?)", siteID).
		Where("deleted_at IS NULL").Order("email").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("read managers of site %s: %w", siteID, err)
	}
	out := make([]Recipient, 0, len(users))
	for i := range users {
		out = append(out, recipientOf(&users[i]))
	}
	return out, nil
}
