package identity

import (
	"time"

	"github.com/uptrace/bun"
)

// Roles stored on a user. Managers are members with rows in site_managers.
const (
	RoleMember = "member"
	RoleAdmin  = "admin"
)

// User is an account. PasswordHash never leaves this package.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           string     `bun:"id,pk"`
	Email        string     `bun:"email"`
	Name         string     `bun:"name"`
	PasswordHash string     `bun:"password_hash"`
	Role         string     `bun:"role"`
	CreatedAt    time.Time  `bun:"created_at"`
	UpdatedAt    time.Time  `bun:"updated_at"`
	DisabledAt   *time.Time `bun:"disabled_at"`
	DeletedAt    *time.Time `bun:"deleted_at"`
	// EmailVerifiedAt: when the member followed the link mailed to Email
	// (SendEmailVerification); admins named by the operator count as verified.
	EmailVerifiedAt *time.Time `bun:"email_verified_at"`
	// Language is the one identity writes this member's mail in
	// (LanguageFrench by default, or LanguageEnglish).
	Language string `bun:"language"`
	// Phone is E.164 ("+33612345678"), or empty.
	Phone string `bun:"phone"`
	// BillingAddress, when set, is the buyer of the member's purchases
	// that name none.
	BillingAddress *BillingAddress `bun:"billing_address,type:json"`
	// Notifications: nil means DefaultNotifications (NotificationsOf).
	Notifications *Notifications `bun:"notifications,type:json"`
	// PendingEmail is the address the member asked to move to, until they
	// follow the link mailed to it (see RequestEmailChange); Email keeps
	// working meanwhile.
	PendingEmail *string `bun:"pending_email"`
	// SearchKey is searchkey.Of(Name, Email, Phone), what the front desk
	// searches (see refreshSearchKey); empty for a deleted account.
	SearchKey string `bun:"search_key"`
	// AwaitingPassword: registered at a desk (CreateWalkIn), its owner has
	// not chosen a password yet; until then the desk may correct its name,
	// phone and email (EditWalkIn).
	AwaitingPassword bool `bun:"awaiting_password"`
}

// Languages an account may choose for its mail.
const (
	LanguageFrench  = "fr"
	LanguageEnglish = "en"
)

// Active reports whether the account may authenticate.
func (u *User) Active() bool { return u.DisabledAt == nil && u.DeletedAt == nil }

// session is a login: the family of refresh tokens that descend from it.
type session struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID            string     `bun:"id,pk"`
	UserID        string     `bun:"user_id"`
	CreatedAt     time.Time  `bun:"created_at"`
	LastUsedAt    time.Time  `bun:"last_used_at"`
	ExpiresAt     time.Time  `bun:"expires_at"`
	RevokedAt     *time.Time `bun:"revoked_at"`
	RevokedReason string     `bun:"revoked_reason"`
	UserAgent     string     `bun:"user_agent"`
	IP            string     `bun:"ip"`
}

type refreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	ID        string     `bun:"id,pk"`
	SessionID string     `bun:"session_id"`
	TokenHash string     `bun:"token_hash"`
	CreatedAt time.Time  `bun:"created_at"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
}

// APIKey is an integration credential, scoped to some sites and actions.
type APIKey struct {
	bun.BaseModel `bun:"table:api_keys"`

	ID         string     `bun:"id,pk"`
	Name       string     `bun:"name"`
	Prefix     string     `bun:"prefix"`
	KeyHash    string     `bun:"key_hash"`
	Scopes     []string   `bun:"scopes,type:json"`
	SiteIDs    []string   `bun:"site_ids,type:json"`
	CreatedBy  string     `bun:"created_by"`
	CreatedAt  time.Time  `bun:"created_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

type siteManager struct {
	bun.BaseModel `bun:"table:site_managers"`

	SiteID    string    `bun:"site_id,pk"`
	UserID    string    `bun:"user_id,pk"`
	CreatedAt time.Time `bun:"created_at"`
}

type setting struct {
	bun.BaseModel `bun:"table:settings"`

	Key       string    `bun:"key,pk"`
	Value     string    `bun:"value"`
	CreatedAt time.Time `bun:"created_at"`
}
