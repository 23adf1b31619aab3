package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

var errUserNotFound = &errs.Problem{Kind: errs.ErrNotFound, Code: "user_not_found", Detail: "no such user"}

// GetUser returns a user the principal may see: themselves, or anyone for
// an admin. Anyone else gets not-found, so ids reveal nothing.
func (s *Service) GetUser(ctx context.Context, p *Principal, userID string) (*User, error) {
	if p == nil || (p.UserID != userID && !p.IsAdmin()) {
		return nil, errUserNotFound
	}
	return s.getUser(ctx, s.db, userID)
}

func (s *Service) getUser(ctx context.Context, idb bun.IDB, userID string) (*User, error) {
	if !id.Valid(userID) {
		return nil, errUserNotFound
	}
	var u User
	if err := idb.NewSelect().Model(&u).Where("id = ? AND deleted_at IS NULL", userID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errUserNotFound
		}
		return nil, fmt.Errorf("get user: %w", err)
	}
	return &u, nil
}

// MeUpdate is a change a user makes to their own account. Nil fields stay.
type MeUpdate struct {
	Name            *string
	CurrentPassword *string
	NewPassword     *string
	Language        *string
	// Phone: "" removes it.
	Phone *string
	// BillingAddress: set replaces; ClearBillingAddress removes it.
	BillingAddress      *BillingAddress
	ClearBillingAddress bool
	// Notifications changes the member's choices field by field.
	Notifications *NotificationsPatch
	// Email does not change the address: it becomes the pending one, and
	// a link is mailed to it (and a notice to the current one). The
	// current address cancels a pending change.
	Email *string
}

// UpdateMe changes the caller's profile, email and/or password. A new
// password or email needs the current password; a new password ends every
// other session of the account.
// Checks of the current password, made from c, are limited like logins and
// count with them (see RateLimits): a stolen access token must not let its
// holder guess the password, which would keep them in after it expires.
func (s *Service) UpdateMe(ctx context.Context, p *Principal, up MeUpdate, c ClientInfo) (*User, error) {
	defer s.principals.Invalidate() // after the change is committed
	if p == nil || p.UserID == "" {
		return nil, errs.ErrUnauthenticated
	}
	newEmail, err := up.check()
	if err != nil {
		return nil, err
	}
	check, err := s.startMeCheck(ctx, p, &up, newEmail, c)
	if err != nil {
		return nil, err
	}
	var (
		out           *User
		rightPassword bool
	)
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.getUser(ctx, tx, p.UserID)
		if err != nil {
			return err
		}
		now := s.now()
		if check != nil {
			ok, err := VerifyPassword(*up.CurrentPassword, u.PasswordHash)
			if err != nil {
				return fmt.Errorf("verify password: %w", err)
			}
			if !ok {
				return errs.Invalid("current_password", "is incorrect") // counted by startMeCheck
			}
			rightPassword = true
		}
		up.applyProfile(u)
		if up.Email != nil {
			if newEmail == u.Email {
				u.PendingEmail = nil
			} else if err := s.requestEmailChange(ctx, tx, u, newEmail); err != nil {
				return err
			}
		}
		if up.NewPassword != nil {
			u.PasswordHash = HashPassword(*up.NewPassword, s.cfg.Hash)
			if _, err := tx.NewUpdate().Model((*session)(nil)).
				Set("revoked_at = ?, revoked_reason = ?", now, "password_changed").
				Where("user_id = ? AND id <> ? AND revoked_at IS NULL", u.ID, p.SessionID).Exec(ctx); err != nil {
				return fmt.Errorf("revoke other sessions: %w", err)
			}
		}
		u.UpdatedAt, u.SearchKey = now, searchkey.Of(u.Name, u.Email, u.Phone)
		if _, err := tx.NewUpdate().Model(u).Column("name", "password_hash", "language", "phone", "billing_address", "notifications", "pending_email", "updated_at", "search_key").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return nil
	})
	if rightPassword {
		if rerr := s.passwordRight(ctx, check); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return nil, err
	}
	return out, s.hidePendingEmailIfLapsed(ctx, out)
}

// startMeCheck starts the check of the current password when the update
// needs one — a new password, or a new email, which would otherwise let
// whoever holds a stolen session take the account over by resetting its
// password at their own address — and returns nil when it needs none. The
// checks are counted like logins, outside the transaction: on SQLite it
// holds the only write lock, which counting needs too.
func (s *Service) startMeCheck(ctx context.Context, p *Principal, up *MeUpdate, newEmail string, c ClientInfo) (*passwordCheck, error) {
	if up.NewPassword == nil && newEmail == "" {
		return nil, nil
	}
	u, err := s.getUser(ctx, s.db, p.UserID)
	if err != nil {
		return nil, err
	}
	if up.NewPassword == nil && newEmail == u.Email {
		return nil, nil // the current address cancels a pending change
	}
	if up.CurrentPassword == nil || *up.CurrentPassword == "" {
		return nil, errs.Invalid("current_password", "is required to change the email")
	}
	if err := s.LimitIP(ctx, "password", c.IP); err != nil {
		return nil, err
	}
	return s.startPasswordCheck(ctx, u.Email, c.IP)
}

// check validates the update and returns its new email, normalised (""
// when it changes none).
func (up *MeUpdate) check() (string, error) {
	var v errs.Validator
	if up.Name != nil {
		checkName(&v, "name", *up.Name)
	}
	if up.Language != nil {
		checkLanguage(&v, "language", *up.Language)
	}
	if up.Phone != nil {
		checkPhone(&v, "phone", *up.Phone)
	}
	var newEmail string
	if up.Email != nil {
		var ok bool
		newEmail, ok = NormalizeEmail(*up.Email)
		v.Check(ok, "email", "must be a valid email address")
	}
	if up.BillingAddress != nil {
		up.BillingAddress.check(&v, "billing_address")
	}
	if n := up.Notifications; n != nil && n.ReminderMinutesBefore != nil {
		v.Check(*n.ReminderMinutesBefore >= 0 && *n.ReminderMinutesBefore <= MaxReminderMinutesBefore,
			"notifications.reminder_minutes_before", "must be between 0 (no reminder) and %d", MaxReminderMinutesBefore)
	}
	if up.NewPassword != nil {
		checkPassword(&v, "new_password", *up.NewPassword)
		v.Check(up.CurrentPassword != nil && *up.CurrentPassword != "", "current_password", "is required to change the password")
	}
	return newEmail, v.Err()
}

// applyProfile sets on u the profile fields the update changes (not the
// email, the password or the dates, which need the transaction).
func (up *MeUpdate) applyProfile(u *User) {
	if up.Name != nil {
		u.Name = strings.TrimSpace(*up.Name)
	}
	if up.Language != nil {
		u.Language = *up.Language
	}
	if up.Phone != nil {
		u.Phone = *up.Phone
	}
	if up.BillingAddress != nil {
		u.BillingAddress = up.BillingAddress
	} else if up.ClearBillingAddress {
		u.BillingAddress = nil
	}
	if up.Notifications != nil {
		n := up.Notifications.apply(u.NotificationsOf())
		u.Notifications = &n
	}
}

// UserUpdate is an admin's change to an account. Nil fields stay.
type UserUpdate struct {
	Name     *string
	Role     *string
	Disabled *bool
}

// UpdateUser lets an admin rename, promote or disable a user. Disabling ends
// every session of the account at once.
func (s *Service) UpdateUser(ctx context.Context, p *Principal, userID string, up UserUpdate) (*User, error) {
	defer s.principals.Invalidate() // after the change is committed
	if !p.IsAdmin() {
		return nil, errs.ErrForbidden
	}
	var v errs.Validator
	if up.Name != nil {
		checkName(&v, "name", *up.Name)
	}
	if up.Role != nil {
		v.Check(*up.Role == RoleMember || *up.Role == RoleAdmin, "role", "must be %q or %q", RoleMember, RoleAdmin)
	}
	if p.UserID == userID && ((up.Disabled != nil && *up.Disabled) || (up.Role != nil && *up.Role != RoleAdmin)) {
		v.Add("role", "an admin cannot demote or disable themselves")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *User
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.now()
		if up.Name != nil {
			u.Name = strings.TrimSpace(*up.Name)
		}
		if up.Role != nil {
			u.Role = *up.Role
		}
		if up.Disabled != nil {
			switch {
			case *up.Disabled && u.DisabledAt == nil:
				u.DisabledAt = &now
				if _, err := tx.NewUpdate().Model((*session)(nil)).
					Set("revoked_at = ?, revoked_reason = ?", now, "account_disabled").
					Where("user_id = ? AND revoked_at IS NULL", u.ID).Exec(ctx); err != nil {
					return fmt.Errorf("revoke sessions: %w", err)
				}
			case !*up.Disabled:
				u.DisabledAt = nil
			}
		}
		u.UpdatedAt, u.SearchKey = now, searchkey.Of(u.Name, u.Email, u.Phone)
		if _, err := tx.NewUpdate().Model(u).Column("name", "role", "disabled_at", "updated_at", "search_key").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		out = u
		return nil
	})
	return out, err
}

// DeleteUser lets an admin close an account: it is marked deleted (history
// such as invoices keeps referring to it), its email is freed and every
// session ends.
func (s *Service) DeleteUser(ctx context.Context, p *Principal, userID string) error {
	defer s.principals.Invalidate() // after the change is committed
	if !p.IsAdmin() {
		return errs.ErrForbidden
	}
	if p.UserID == userID {
		return errs.Invalid("user_id", "an admin cannot delete themselves")
	}
	return db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		u, err := s.getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.NewUpdate().Model((*User)(nil)).
			Set("deleted_at = ?, updated_at = ?, email = ?, search_key = ''", now, now, "deleted+"+u.ID+"@relais.invalid").
			Where("id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if _, err := tx.NewUpdate().Model((*session)(nil)).
			Set("revoked_at = ?, revoked_reason = ?", now, "account_deleted").
			Where("user_id = ? AND revoked_at IS NULL", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		_, err = tx.NewDelete().Model((*siteManager)(nil)).Where("user_id = ?", u.ID).Exec(ctx)
		return err
	})
}

// Page is one page of a list and the cursor for the next, empty at the end.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

// ListUsers lists accounts for an admin, ordered by id (creation time).
// after is the id of the last user of the previous page.
func (s *Service) ListUsers(ctx context.Context, p *Principal, after string, limit int, emailPrefix string) (Page[User], error) {
	if !p.IsAdmin() && !(p.IsAPIKey() && p.AllSites && p.HasScope(ScopeUsersRead)) {
		return Page[User]{}, errs.ErrForbidden
	}
	var users []User
	q := s.db.NewSelect().Model(&users).Where("deleted_at IS NULL").Order("id").Limit(limit + 1)
	if after != "" {
		q = q.Where("id > ?", after)
	}
	if emailPrefix != "" {
		q = q.Where("email LIKE ? ESCAPE '\\'", likePrefix(strings.ToLower(emailPrefix)))
	}
	if err := q.Scan(ctx); err != nil {
		return Page[User]{}, fmt.Errorf("list users: %w", err)
	}
	page := Page[User]{Items: users}
	if len(users) > limit {
		page.Items = users[:limit]
		page.NextCursor = users[limit-1].ID
	}
	return page, nil
}

func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}

// EnsureAdmin creates or updates the admin account for email: an existing
// account is promoted and given password; a new one is created. Running it
// twice with the same arguments leaves the same state.
func (s *Service) EnsureAdmin(ctx context.Context, email, password string) (u *User, created bool, err error) {
	defer s.principals.Invalidate() // after the change is committed
	var v errs.Validator
	norm, ok := NormalizeEmail(email)
	v.Check(ok, "email", "must be a valid email address")
	checkPassword(&v, "password", password)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	err = db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var existing User
		err := tx.NewSelect().Model(&existing).Where("email = ?", norm).Scan(ctx)
		if isNoRows(err) {
			name := norm[:strings.IndexByte(norm, '@')]
			u, err = s.createUser(ctx, tx, norm, name, password, RoleAdmin, LanguageFrench)
			created = true
			return err
		}
		if err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		existing.Role = RoleAdmin
		existing.PasswordHash = HashPassword(password, s.cfg.Hash)
		existing.DisabledAt = nil
		existing.AwaitingPassword = false
		existing.UpdatedAt = s.now()
		if existing.EmailVerifiedAt == nil {
			existing.EmailVerifiedAt = &existing.UpdatedAt // the operator named this address
		}
		if _, err := tx.NewUpdate().Model(&existing).Column("role", "password_hash", "awaiting_password", "disabled_at", "updated_at", "email_verified_at").WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("promote user: %w", err)
		}
		u = &existing
		return nil
	})
	return u, created, err
}

// EnsureFirstAdmin creates the admin only when the network has none yet; it
// is how RELAIS_ADMIN_EMAIL/RELAIS_ADMIN_PASSWORD act at start.
func (s *Service) EnsureFirstAdmin(ctx context.Context, email, password string) (created bool, err error) {
	n, err := s.db.NewSelect().Model((*User)(nil)).Where("role = ? AND deleted_at IS NULL", RoleAdmin).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("count admins: %w", err)
	}
	if n > 0 {
		return false, nil
	}
	_, created, err = s.EnsureAdmin(ctx, email, password)
	return created, err
}
