package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/errs"
)

// What identity does for personal data (the privacy package orchestrates):
// the account's export, its erasure by pseudonymisation, and the purge of
// old sign-in records.

// ErasedName is the name an erased account keeps: its row stays, because
// invoices, reservations and the ledger point at it, but it says nothing
// of the person.
const ErasedName = "Erased account"

// erasedEmail is unique per account (the column is UNIQUE) and in a
// reserved domain, so the person's address can register again.
func erasedEmail(userID string) string { return "erased+" + userID + "@relais.invalid" }

var errWrongPassword = errs.Refused("password", "is incorrect")

// ConfirmPassword re-authenticates the caller before an irreversible act
// (erasing their account): a 403 on password when it is wrong. Checks are
// limited and counted like logins (see RateLimits).
func (s *Service) ConfirmPassword(ctx context.Context, p *Principal, password string, c ClientInfo) error {
	if err := MayActAsMe(p); err != nil {
		return err
	}
	if err := s.LimitIP(ctx, "password", c.IP); err != nil {
		return err
	}
	u, err := s.getUser(ctx, s.db, p.UserID)
	if err != nil {
		return err
	}
	check, err := s.startPasswordCheck(ctx, u.Email, c.IP)
	if err != nil {
		return err
	}
	if len(password) > maxPasswordLen {
		password = password[:maxPasswordLen]
	}
	ok, err := VerifyPassword(password, u.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return errWrongPassword // counted by startPasswordCheck
	}
	return s.passwordRight(ctx, check)
}

// Erase pseudonymises the account userID inside tx: name, email, phone,
// billing address, notification choices and pending address are replaced
// or cleared, the password can match nothing, and its sessions, refresh
// tokens, login addresses, pending links, API keys and manager rights are
// deleted. The row stays (marked deleted) for what refers to it. The
// caller calls ForgetPrincipals after commit so that its access tokens
// stop working at once.
func (s *Service) Erase(ctx context.Context, tx bun.IDB, userID string) error {
	u, err := s.getUser(ctx, tx, userID)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := tx.NewUpdate().Model((*User)(nil)).
		Set("name = ?, email = ?, phone = '', billing_address = NULL, notifications = NULL, pending_email = NULL, search_key = ''", ErasedName, erasedEmail(u.ID)).
		Set("password_hash = ?, deleted_at = ?, updated_at = ?", s.dummy(), now, now).
		Where("id = ?", u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("pseudonymise user: %w", err)
	}
	sessions := tx.NewSelect().Model((*session)(nil)).Column("id").Where("user_id = ?", u.ID)
	if _, err := tx.NewDelete().Model((*refreshToken)(nil)).Where("session_id IN (?)", sessions).Exec(ctx); err != nil {
		return fmt.Errorf("delete refresh tokens: %w", err)
	}
	for _, model := range []any{(*session)(nil), (*loginAddress)(nil), (*loginDevice)(nil), (*emailVerification)(nil), (*passwordReset)(nil),
		(*emailChange)(nil), (*siteManager)(nil)} {
		if _, err := tx.NewDelete().Model(model).Where("user_id = ?", u.ID).Exec(ctx); err != nil {
			return fmt.Errorf("erase %T: %w", model, err)
		}
	}
	if _, err := tx.NewDelete().Model((*APIKey)(nil)).Where("created_by = ?", u.ID).Exec(ctx); err != nil {
		return fmt.Errorf("delete API keys: %w", err)
	}
	return nil
}

// ForgetPrincipals drops the cached principals, after a change that ends
// sessions was committed elsewhere (Erase).
func (s *Service) ForgetPrincipals() { s.principals.Invalidate() }

// AccountExport is what identity holds about a member, as exported to them.
type AccountExport struct {
	ID              string          `json:"id"`
	Email           string          `json:"email"`
	Name            string          `json:"name"`
	Role            string          `json:"role"`
	Language        string          `json:"language"`
	Phone           string          `json:"phone"`
	BillingAddress  *BillingAddress `json:"billing_address"`
	Notifications   Notifications   `json:"notifications"`
	PendingEmail    *string         `json:"pending_email"`
	EmailVerifiedAt *time.Time      `json:"email_verified_at"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	ManagedSiteIDs  []string        `json:"managed_site_ids"`
}

// SessionExport is one login as exported: where from and when.
type SessionExport struct {
	ID         string     `json:"id"`
	UserAgent  string     `json:"user_agent"`
	IP         string     `json:"ip"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt time.Time  `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// LoginAddressExport is a client address the account logged in from.
type LoginAddressExport struct {
	Address     string    `json:"address"`
	LastLoginAt time.Time `json:"last_login_at"`
}

// LoginDeviceExport is a device (browser and system) the account logged
// in with.
type LoginDeviceExport struct {
	Device      string    `json:"device"`
	LastLoginAt time.Time `json:"last_login_at"`
}

// SignInsExport is the account's sign-in records.
type SignInsExport struct {
	Sessions       []SessionExport      `json:"sessions"`
	LoginAddresses []LoginAddressExport `json:"login_addresses"`
	LoginDevices   []LoginDeviceExport  `json:"login_devices"`
}

// ExportAccount returns the account userID as its owner may read it.
func (s *Service) ExportAccount(ctx context.Context, userID string) (*AccountExport, error) {
	u, err := s.getUser(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	sites, err := s.managedSites(ctx, userID)
	if err != nil {
		return nil, err
	}
	return &AccountExport{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language, Phone: u.Phone,
		BillingAddress: u.BillingAddress, Notifications: u.NotificationsOf(), PendingEmail: u.PendingEmail,
		EmailVerifiedAt: u.EmailVerifiedAt, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
		ManagedSiteIDs: append([]string{}, sites...)}, nil
}

// ExportSignIns returns the sessions and login addresses of userID.
func (s *Service) ExportSignIns(ctx context.Context, userID string) (*SignInsExport, error) {
	var sessions []session
	if err := s.db.NewSelect().Model(&sessions).Where("user_id = ?", userID).Order("created_at", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export sessions: %w", err)
	}
	var addrs []loginAddress
	if err := s.db.NewSelect().Model(&addrs).Where("user_id = ?", userID).Order("last_login_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export login addresses: %w", err)
	}
	var devices []loginDevice
	if err := s.db.NewSelect().Model(&devices).Where("user_id = ?", userID).Order("last_login_at").Scan(ctx); err != nil {
		return nil, fmt.Errorf("export login devices: %w", err)
	}
	out := &SignInsExport{Sessions: []SessionExport{}, LoginAddresses: []LoginAddressExport{}, LoginDevices: []LoginDeviceExport{}}
	for _, d := range devices {
		out.LoginDevices = append(out.LoginDevices, LoginDeviceExport{Device: d.Device, LastLoginAt: d.LastLoginAt.UTC()})
	}
	for _, r := range sessions {
		out.Sessions = append(out.Sessions, SessionExport{ID: r.ID, UserAgent: r.UserAgent, IP: r.IP, CreatedAt: r.CreatedAt.UTC(),
			LastUsedAt: r.LastUsedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: r.RevokedAt})
	}
	for _, a := range addrs {
		out.LoginAddresses = append(out.LoginAddresses, LoginAddressExport{Address: a.Address, LastLoginAt: a.LastLoginAt.UTC()})
	}
	return out, nil
}

// PurgeSignIns deletes the sign-in records older than before: sessions
// last used before it that are over (ended or expired), with their refresh
// tokens, and login addresses and devices last used before it. It deletes batch rows
// at a time so that no statement holds a long lock, and reports how many.
func (s *Service) PurgeSignIns(ctx context.Context, before time.Time, batch int) (int64, error) {
	before = before.UTC()
	now := s.now()
	var total int64
	for {
		old := s.db.NewSelect().Model((*session)(nil)).Column("id").
			Where("last_used_at < ? AND (revoked_at IS NOT NULL OR expires_at < ?)", before, now).Limit(batch)
		if _, err := s.db.NewDelete().Model((*refreshToken)(nil)).Where("session_id IN (?)", old).Exec(ctx); err != nil {
			return total, fmt.Errorf("purge refresh tokens: %w", err)
		}
		n, err := deleteRows(ctx, s.db.NewDelete().Model((*session)(nil)).Where("id IN (?)", old))
		total += n
		if err != nil {
			return total, err
		}
		if n < int64(batch) {
			break
		}
	}
	for _, t := range []struct {
		model any
		key   string
	}{{(*loginAddress)(nil), "address"}, {(*loginDevice)(nil), "device"}} {
		n, err := purgeLogins(ctx, s.db, t.model, t.key, before, batch)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// purgeLogins deletes, batch at a time, the rows of a login table (login
// addresses or devices, keyed by user_id and key) last used before before.
func purgeLogins(ctx context.Context, idb bun.IDB, model any, key string, before time.Time, batch int) (int64, error) {
	var total int64
	for {
		old := idb.NewSelect().Model(model).Column("user_id", key).Where("last_login_at < ?", before).Limit(batch)
		n, err := deleteRows(ctx, idb.NewDelete().Model(model).Where("(user_id, "+key+") IN (?)", old))
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}

func deleteRows(ctx context.Context, q *bun.DeleteQuery) (int64, error) {
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return res.RowsAffected()
}
