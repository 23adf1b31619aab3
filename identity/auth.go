package identity

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/relais-tierslieux/relais/internal/db"
	"github.com/relais-tierslieux/relais/internal/errs"
	"github.com/relais-tierslieux/relais/internal/id"
	"github.com/relais-tierslieux/relais/internal/searchkey"
)

const (
	minPasswordLen = 10
	// argon2 is fed the whole password; a bound keeps one request's cost bounded.
	maxPasswordLen = 1024
	maxNameLen     = 200
)

// NormalizeEmail trims and lower-cases an address and checks it is a bare
// address (no display name).
func NormalizeEmail(raw string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" || len(e) > 254 {
		return "", false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", false
	}
	return e, true
}

func checkPassword(v *errs.Validator, field, pw string) {
	n := utf8.RuneCountInString(pw)
	v.Check(n >= minPasswordLen, field, "must be at least %d characters", minPasswordLen)
	v.Check(len(pw) <= maxPasswordLen, field, "must be at most %d bytes", maxPasswordLen)
}

func checkName(v *errs.Validator, field, name string) {
	name = strings.TrimSpace(name)
	v.Check(name != "", field, "is required")
	v.Check(utf8.RuneCountInString(name) <= maxNameLen, field, "must be at most %d characters", maxNameLen)
}

// checkLanguage accepts the languages identity has mail templates for.
func checkLanguage(v *errs.Validator, field, lang string) {
	v.Check(lang == LanguageFrench || lang == LanguageEnglish, field, "must be %q or %q", LanguageFrench, LanguageEnglish)
}

// Registration is what a new member gives.
type Registration struct {
	Email    string
	Password string
	Name     string
	// Language of the member's mail; "" is LanguageFrench.
	Language string
}

// Register creates a member account and mails its address a verification
// link through a durable job, queued in the account's transaction: the
// account and its mail exist together or not at all.
func (s *Service) Register(ctx context.Context, r Registration) (*User, error) {
	var v errs.Validator
	email, ok := NormalizeEmail(r.Email)
	v.Check(ok, "email", "must be a valid email address")
	checkPassword(&v, "password", r.Password)
	checkName(&v, "name", r.Name)
	if r.Language == "" {
		r.Language = LanguageFrench
	}
	checkLanguage(&v, "language", r.Language)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var u *User
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if u, err = s.createUser(ctx, tx, email, strings.TrimSpace(r.Name), r.Password, RoleMember, r.Language); err != nil {
			return err
		}
		if _, err := s.jobs.InsertTx(ctx, tx, VerificationMailArgs{UserID: u.ID}, nil); err != nil {
			return fmt.Errorf("queue verification mail: %w", err)
		}
		return nil
	})
	return u, err
}

func (s *Service) createUser(ctx context.Context, idb bun.IDB, email, name, password, role, lang string) (*User, error) {
	now := s.now()
	u := &User{
		ID: id.New(), Email: email, Name: name, Role: role, Language: lang,
		PasswordHash: HashPassword(password, s.cfg.Hash),
		CreatedAt:    now, UpdatedAt: now,
		SearchKey: searchkey.Of(name, email, ""),
	}
	if role == RoleAdmin {
		u.EmailVerifiedAt = &now // the operator named this address
	}
	if _, err := idb.NewInsert().Model(u).Exec(ctx); err != nil {
		if db.IsUnique(err) {
			return nil, &errs.Problem{Kind: errs.ErrConflict, Code: "email_taken", Detail: "an account with this email already exists"}
		}
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// ClientInfo describes where a request comes from, for sessions and limits.
type ClientInfo struct {
	IP        string
	UserAgent string
}

// Tokens is what a successful login or refresh returns.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
	UserID       string
	// SessionID is the session the pair belongs to, the same across
	// refreshes (see CSRFToken).
	SessionID string
	// RefreshExpiresIn is the refresh token's lifetime.
	RefreshExpiresIn time.Duration
}

var errBadCredentials = &errs.Problem{Kind: errs.ErrUnauthenticated, Code: "invalid_credentials", Detail: "email or password is incorrect"}

// Login checks an email and password and opens a session. A wrong email, a
// wrong password and a disabled account all give the same error after the
// same work (one argon2 verification), so responses reveal no accounts.
// Wrong passwords are limited per account and client address, and per
// account from addresses it never logged in from (see RateLimits); a
// successful login makes its address familiar to the account.
func (s *Service) Login(ctx context.Context, email, password string, c ClientInfo) (*Tokens, error) {
	if err := s.LimitIP(ctx, "login", c.IP); err != nil {
		return nil, err
	}
	norm, _ := NormalizeEmail(email)
	check, err := s.startPasswordCheck(ctx, norm, c.IP)
	if err != nil {
		return nil, err
	}
	var u User
	err = s.db.NewSelect().Model(&u).Where("email = ?", norm).Scan(ctx)
	if err != nil && !isNoRows(err) {
		return nil, fmt.Errorf("find user: %w", err)
	}
	hash := s.dummy()
	if err == nil {
		hash = u.PasswordHash
	}
	if len(password) > maxPasswordLen {
		password = password[:maxPasswordLen]
	}
	match, verr := VerifyPassword(password, hash)
	if verr != nil {
		return nil, fmt.Errorf("verify password of %s: %w", u.ID, verr)
	}
	if err != nil || !match || !u.Active() {
		return nil, errBadCredentials // counted by startPasswordCheck
	}
	if err := s.passwordRight(ctx, check); err != nil {
		return nil, err
	}
	return s.openSession(ctx, &u, c)
}

func (s *Service) openSession(ctx context.Context, u *User, c ClientInfo) (*Tokens, error) {
	now := s.now()
	sess := &session{
		ID: id.New(), UserID: u.ID, CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(s.cfg.RefreshTTL), UserAgent: truncate(c.UserAgent, 300), IP: c.IP,
	}
	var tokens *Tokens
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(sess).Exec(ctx); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		if err := s.recordLoginAddress(ctx, tx, u.ID, c.IP, now); err != nil {
			return err
		}
		if err := s.noteDevice(ctx, tx, u, c, now); err != nil {
			return err
		}
		var err error
		tokens, err = s.issuePair(ctx, tx, u.ID, sess.ID, now)
		return err
	})
	return tokens, err
}

func (s *Service) issuePair(ctx context.Context, tx bun.IDB, userID, sessionID string, now time.Time) (*Tokens, error) {
	raw := id.Secret(32) // 256 bits
	rt := &refreshToken{ID: id.New(), SessionID: sessionID, TokenHash: hashToken(raw), CreatedAt: now, ExpiresAt: now.Add(s.cfg.RefreshTTL)}
	if _, err := tx.NewInsert().Model(rt).Exec(ctx); err != nil {
		return nil, fmt.Errorf("insert refresh token: %w", err)
	}
	access, err := s.issueAccessToken(userID, sessionID, now)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, RefreshToken: raw, ExpiresIn: s.cfg.AccessTTL, UserID: userID, SessionID: sessionID,
		RefreshExpiresIn: s.cfg.RefreshTTL}, nil
}

var errBadRefresh = &errs.Problem{Kind: errs.ErrUnauthenticated, Code: "invalid_refresh_token", Detail: "the refresh token is invalid, expired or revoked"}

// Refresh exchanges a refresh token for a new pair. The presented token is
// used up; presenting it again means it was copied, so the whole session
// (every token descended from the same login) is revoked.
func (s *Service) Refresh(ctx context.Context, raw string, c ClientInfo) (*Tokens, error) {
	defer s.principals.Invalidate() // after the change is committed
	if err := s.LimitIP(ctx, "refresh", c.IP); err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, errBadRefresh
	}
	now := s.now()
	var tokens *Tokens
	reused := false
	err := db.Tx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		var rt refreshToken
		if err := tx.NewSelect().Model(&rt).Where("token_hash = ?", hashToken(raw)).Scan(ctx); err != nil {
			if isNoRows(err) {
				return errBadRefresh
			}
			return fmt.Errorf("find refresh token: %w", err)
		}
		var sess session
		if err := tx.NewSelect().Model(&sess).Where("id = ?", rt.SessionID).Scan(ctx); err != nil {
			return fmt.Errorf("find session: %w", err)
		}
		if sess.RevokedAt != nil {
			return errBadRefresh
		}
		// Mark used only if nobody did before us: of two concurrent refreshes
		// with one token, exactly one gets a new pair.
		res, err := tx.NewUpdate().Model((*refreshToken)(nil)).Set("used_at = ?", now).
			Where("id = ? AND used_at IS NULL", rt.ID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("use refresh token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			reused = true
			return s.revokeSession(ctx, tx, sess.ID, "refresh_token_reuse", now)
		}
		if now.After(rt.ExpiresAt) || now.After(sess.ExpiresAt) {
			return errBadRefresh
		}
		var u User
		if err := tx.NewSelect().Model(&u).Where("id = ?", sess.UserID).Scan(ctx); err != nil {
			return fmt.Errorf("find user: %w", err)
		}
		if !u.Active() {
			return errBadRefresh
		}
		if _, err := tx.NewUpdate().Model((*session)(nil)).
			Set("last_used_at = ?, expires_at = ?, ip = ?", now, now.Add(s.cfg.RefreshTTL), c.IP).
			Where("id = ?", sess.ID).Exec(ctx); err != nil {
			return fmt.Errorf("touch session: %w", err)
		}
		tokens, err = s.issuePair(ctx, tx, u.ID, sess.ID, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if reused {
		return nil, errBadRefresh
	}
	return tokens, nil
}

func (s *Service) revokeSession(ctx context.Context, idb bun.IDB, sessionID, reason string, now time.Time) error {
	_, err := idb.NewUpdate().Model((*session)(nil)).
		Set("revoked_at = ?, revoked_reason = ?", now, reason).
		Where("id = ? AND revoked_at IS NULL", sessionID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// Logout revokes the caller's session: its access tokens stop working at
// once and its refresh tokens can no longer be used.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	defer s.principals.Invalidate() // after the change is committed
	if p == nil || p.SessionID == "" {
		return errs.ErrUnauthenticated
	}
	return s.revokeSession(ctx, s.db, p.SessionID, "logout", s.now())
}

var errBadAccess = &errs.Problem{Kind: errs.ErrUnauthenticated, Code: "invalid_token", Detail: "the access token is invalid or expired"}

// Authenticate turns a bearer credential (a JWT or an API key) into a
// Principal, checking that the account, session or key is still valid now.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*Principal, error) {
	if isAPIKey(bearer) {
		return s.authenticateAPIKey(ctx, bearer)
	}
	now := s.now()
	claims, err := s.parseAccessToken(bearer, now)
	if err != nil {
		return nil, errBadAccess
	}
	// The token's signature and expiry were checked above; its session was
	// found live a moment ago: reuse that answer (see DefaultPrincipalCacheTTL).
	cached, ok, gen := s.principals.Get(bearer)
	if ok {
		return &cached, nil
	}
	// One round trip: the session, its account, and the sites it manages
	// (one row per site, or one row with no site).
	rows, err := s.db.QueryContext(ctx, `SELECT u.role, u.disabled_at, u.deleted_at, s.revoked_at, sm.site_id
		FROM sessions s JOIN users u ON u.id = s.user_id
		LEFT JOIN site_managers sm ON sm.user_id = u.id
		WHERE s.id = ? AND s.user_id = ? ORDER BY sm.site_id`, claims.SessionID, claims.Subject)
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	defer rows.Close()
	var (
		role    string
		found   bool
		managed []string
	)
	for rows.Next() {
		var disabled, deleted, revoked sql.NullTime
		var site sql.NullString
		if err := rows.Scan(&role, &disabled, &deleted, &revoked, &site); err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		if disabled.Valid || deleted.Valid || revoked.Valid {
			return nil, errBadAccess
		}
		found = true
		if site.Valid {
			managed = append(managed, site.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if !found {
		return nil, errBadAccess
	}
	p := &Principal{UserID: claims.Subject, SessionID: claims.SessionID, Role: role, ManagedSites: managed}
	s.principals.Put(bearer, gen, *p)
	return p, nil
}

func (s *Service) managedSites(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*siteManager)(nil)).Column("site_id").Where("user_id = ?", userID).
		Order("site_id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("load managed sites: %w", err)
	}
	return ids, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
